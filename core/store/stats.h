// Counts over a project (or one dataset) for `matrix stats` and the dataset overview: datasets, tasks,
// trajectories, steps, media (and missing), pairs by status, and histograms (tool calls by tool name,
// steps per trajectory, verdicts).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/store/database.h"

namespace matrix::store {

struct StoreStats {
    int64_t datasets = 0, tasks = 0, trajectories = 0, steps = 0, tool_calls = 0;
    int64_t media = 0, media_missing = 0;
    int64_t pairs = 0, pairs_pending = 0, pairs_approved = 0, pairs_rejected = 0;
    std::map<std::string, int64_t> tool_histogram;     // tool name -> number of calls
    std::map<int64_t, int64_t> steps_histogram;        // n_steps -> number of tasks
    std::map<std::string, int64_t> verdict_histogram;  // yes/no/unknown -> number of tasks
};

// Whole project when dataset_id is empty. (Media are shared between datasets: with a dataset, media counts
// are those linked to its tasks.)
Result<StoreStats> compute_stats(Database& db, const std::optional<int64_t>& dataset_id = std::nullopt);
nlohmann::json stats_to_json(const StoreStats& s);

}  // namespace matrix::store
