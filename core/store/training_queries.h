// Store queries the trainer needs beyond RunRepo (owned by the training module so the store's own files stay
// as they are): updating a run's config when it is continued for more epochs, and listing training runs
// with their metric series for the GUI's run history.
// Thread safety: like Database (one thread per connection).
#pragma once

#include <cstdint>
#include <string>

#include "core/store/database.h"

namespace matrix::store {

// Replaces runs.config (JSON text) of one run.
Status set_run_config(Database& db, int64_t run_id, const std::string& config_json);

// Marks runs left "running" by a process that is gone as "paused" so they can be resumed; returns how many.
Result<int64_t> mark_stale_runs_paused(Database& db);

}  // namespace matrix::store
