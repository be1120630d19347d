// Helpers shared by the files behind bench_store.h (bench_store.cpp: benchmarks; run_store.cpp: runs;
// run_score_store.cpp: scoring and comparing stored runs). Internal to core/eval.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/eval/benchmark.h"
#include "core/eval/run.h"
#include "core/eval/run_scoring.h"
#include "core/store/dataset_repo.h"
#include "core/store/project.h"
#include "core/util/result.h"

namespace matrix::eval::detail {

// The dataset of this name, or (name empty) the first dataset of the kind.
Result<std::optional<store::Dataset>> find_dataset(store::Project& project, BenchKind kind, const std::string& name);

// `text` parsed as JSON; `fallback` when it is missing, empty or not JSON.
nlohmann::json parse_or(const std::optional<std::string>& text, nlohmann::json fallback);

// Scoring, shared by score_stored_run (a run read back from the store) and store_run (a run being stored):
// the benchmark a run is scored against (its dataset's, or the first of the kind; nullopt when there is none),
Result<std::optional<Benchmark>> scoring_benchmark(store::Project& project, BenchKind kind,
                                                   const std::optional<int64_t>& dataset_id);
// the score (a GTA step-by-step run, config "mode": "step", is scored officially against the gold dialogs),
Result<RunScore> score_results(BenchKind kind, const std::vector<TaskResult>& results, const Benchmark* bench,
                               const nlohmann::json& config, ScorerKind scorer);
// a task's score written into its row's scores JSON under the scorer's key (`key`, `key`_detail, group),
void put_task_score(nlohmann::json& scores, const TaskScore& t, const std::string& key);
// and the run summary's entry for the scorer.
nlohmann::json summary_entry(const RunScore& score);

}  // namespace matrix::eval::detail
