// Transitional: the trainer's run queries are RunRepo's (core/store/run_repo.h). set_run_config forwards to
// RunRepo::set_config until core/training includes run_repo.h directly; then this header goes.
#pragma once

#include <cstdint>
#include <string>

#include "core/store/run_repo.h"

namespace matrix::store {

// Replaces runs.config (JSON text) of one run: RunRepo(db).set_config(run_id, config_json).
inline Status set_run_config(Database& db, int64_t run_id, const std::string& config_json) {
    return RunRepo(db).set_config(run_id, config_json);
}

}  // namespace matrix::store
