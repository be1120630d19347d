// Benchmarks and evaluation runs in the project store, through the store's repositories (no SQL here):
//  - a benchmark becomes a dataset (kind gta | gaia | agentx): one task per item (external_id = the
//    benchmark's id, ground truth as JSON, level/category, the whole item in tasks.extra), its files as media
//    resolved against the benchmark folder and the image roots, and its gold dialog as a trajectory with
//    source 'gold';
//  - an imported run becomes runs(kind 'eval', benchmark, model/adapter, config with format, source and
//    settings), one run_results row per task (answer, scores JSON, error) and, when the task is in the
//    project, its trajectory (source 'run'); provenance: run -> dataset "evaluated_on", and run -> training
//    run "evaluates" when given.
// Thread safety: like the store (one Project per thread).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/eval/statistics.h"
#include "core/eval/compare_multi.h"
#include "core/eval/run.h"
#include "core/eval/run_scoring.h"
#include "core/store/project.h"
#include "core/store/run_repo.h"
#include "core/util/progress.h"

namespace matrix::eval {

struct StoreBenchmarkOptions {
    std::string dataset_name;              // default: the benchmark kind ("gta", "gaia", "agentx")
    std::vector<std::string> image_roots;  // searched after the benchmark's own folder
};

struct StoredBenchmark {
    int64_t dataset_id = 0;
    int n_added = 0, n_existing = 0;  // items added now / already in the dataset (loading twice adds nothing)
    int n_trajectories = 0;
    int n_media = 0, n_media_missing = 0;
};

Result<StoredBenchmark> store_benchmark(store::Project& project, const Benchmark& bench,
                                        const StoreBenchmarkOptions& options = {}, const Progress& progress = {});

// The benchmark stored under this dataset name (or, when empty, the first dataset of the kind).
Result<Benchmark> load_stored_benchmark(store::Project& project, BenchKind kind, const std::string& dataset_name = {});

struct StoreRunOptions {
    std::string name;                       // default: the run's own name
    std::string dataset_name;               // benchmark dataset to link tasks to; default: first of the kind
    std::optional<int64_t> training_run_id; // provenance link to the training run that produced the model
};

// Stores the run, scored with the official scorer (and the MATRIX one for GTA), and returns the run id. The run
// is scored as it is stored, from `run` (move it in: it is not copied then), never read back; the scores are the
// ones score_stored_run gives for the stored rows. Nothing is written when scoring fails.
Result<int64_t> store_run(store::Project& project, ImportedRun run, const StoreRunOptions& options = {},
                          const Progress& progress = {});

struct StoredRun {
    store::Run run;
    BenchKind benchmark = BenchKind::gta;
    std::vector<TaskResult> results;
    std::vector<std::optional<int64_t>> trajectory_ids;  // per result
    std::vector<std::optional<int64_t>> task_ids;        // per result (project task ids)
};

Result<StoredRun> load_stored_run(store::Project& project, int64_t run_id);
// Eval runs, newest first.
Result<std::vector<store::Run>> list_eval_runs(store::Project& project);

// Scores a stored run against its stored benchmark (or the ground truth the run recorded) and writes the
// per-task scores (run_results.scores[scorer]) and run metrics ("<scorer>/<metric>", step 0) back.
// Agent-X judge verdicts stored by judge_stored_run (judge_run.h) are added to the official score as
// "judge_<metric>" (per task and as run means); nothing is asked of a judge here.
Result<RunScore> score_stored_run(store::Project& project, int64_t run_id, ScorerKind scorer);

// Scores both runs with the same scorer and compares them.
Result<Comparison> compare_stored_runs(store::Project& project, int64_t run_a, int64_t run_b, ScorerKind scorer);

// Scores every run with the same scorer and compares them against runs[baseline] (compare_multi.h). Runs are
// labelled "#<id> <name>". All runs must be on the same benchmark.
Result<MultiComparison> compare_stored_many(store::Project& project, const std::vector<int64_t>& runs,
                                            size_t baseline, ScorerKind scorer);

// One task of several runs with the gold trajectory (when the benchmark has one), for the comparison
// pane's task view. Steps are in order; alignment is by step index.
struct TaskRunSide {
    int64_t run_id = 0;
    std::string label;                 // "#<id> <name>"
    bool present = false;              // the run has a result for the task
    std::optional<std::string> answer;
    std::string error;
    std::vector<RunStep> steps;
};
struct TaskAcrossRuns {
    std::string task_key;
    std::string question;
    std::string gold_answer;
    std::vector<RunStep> gold;             // empty when the benchmark has no gold dialog or is not in the project
    std::vector<TaskRunSide> runs;         // in the order asked for
    std::vector<std::string> image_paths;  // resolved task files ("" entries for missing ones)
    std::vector<std::string> image_labels; // as written in the benchmark
};
Result<TaskAcrossRuns> load_task_across_runs(store::Project& project, const std::vector<int64_t>& runs,
                                             const std::string& task_key);

}  // namespace matrix::eval
