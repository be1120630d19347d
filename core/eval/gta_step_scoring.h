// Scoring a GTA step-by-step run (each result holds one predicted message per gold assistant turn, see
// run.h step_predictions) with GTA's official "every_with_gt" metrics (gta_metrics.h): InstAcc, ToolAcc, ArgAcc,
// SummAcc over the run, and per task the counts behind them. The per-task score (what comparisons work on) is
// the task's ArgAcc: tool steps whose name and arguments equal the gold, over its gold tool steps; tasks without
// tool steps are not scored. SummAcc scores objective items only (subjective ones need GTA's sentence-embedding
// model, not available here), and says so in the notes.
#pragma once

#include <vector>

#include "core/eval/benchmark.h"
#include "core/eval/run.h"
#include "core/eval/run_scoring.h"
#include "core/util/result.h"

namespace matrix::eval {

// The item's gold assistant turns (GTA dialog messages), the positions step mode predicts.
std::vector<nlohmann::json> gta_gold_assistant_turns(const BenchItem& item);

Result<RunScore> score_gta_steps(const std::vector<TaskResult>& results, const Benchmark& bench);

}  // namespace matrix::eval
