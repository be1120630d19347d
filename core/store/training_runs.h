// The training panel's queries, Qt-free so the GUI runs them on ProjectSession's worker: the training runs (SFT and
// DPO) newest first with their last logged loss and step, the curves of a run, and the names of the datasets a run
// can train on.
// Thread safety: like Database (one thread per connection).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/store/database.h"
#include "core/store/run_repo.h"

namespace matrix::store {

struct TrainingRunRow {
    Run run;
    int64_t last_step = 0;             // step of the last logged loss (0 when none)
    std::optional<double> last_loss;  // the last logged loss
};

// SFT and DPO runs, newest first.
Result<std::vector<TrainingRunRow>> list_training_runs(Database& db);
// The named metric series of a run (a name with no points maps to an empty series).
Result<std::map<std::string, std::vector<MetricPoint>>> run_curves(Database& db, int64_t run_id,
                                                                  const std::vector<std::string>& names);
// Every dataset's name, in the store's order (by id).
Result<std::vector<std::string>> dataset_names(Database& db);

}  // namespace matrix::store
