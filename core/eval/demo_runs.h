// The demo project's evaluation runs: a small GTA benchmark and two step-by-step runs on it, the gold replay and
// the perturbed replay (gta_step.h), so Run Comparison has two runs to compare on first start.
// Thread safety: opens its own connections to the project file; call it where nothing else writes the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace matrix::eval {

// Loads `gta_json` (GTA's dataset.json form) as dataset `dataset_name` and runs both replays; returns their run ids
// (gold first).
Result<std::vector<int64_t>> add_demo_eval_runs(const std::string& db_path, const std::string& gta_json,
                                                const std::string& dataset_name = "gta-demo");

}  // namespace matrix::eval
