// An evaluation run as imported from another framework's output (or produced later by the agent runtime):
// per-task answers with optional trajectories, independent of the store. Importers (run_import.h) make it;
// run_scoring.h scores it; bench_store.h saves it as runs(kind 'eval') + run_results.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/eval/benchmark.h"

namespace matrix::eval {

struct RunToolCall {
    std::string name;
    nlohmann::json arguments = nlohmann::json::object();
};

struct RunStep {
    int index = 0;
    std::string thought;
    std::string code;          // the action as written (MATRIX: Python code), may be empty
    std::vector<RunToolCall> tool_calls;
    std::string observation;   // what the step printed, or its error message
    bool is_error = false;
    bool is_final = false;
};

struct TaskResult {
    std::string task_id;                 // the benchmark's own id
    std::optional<std::string> answer;   // nullopt when the run produced none
    std::vector<RunStep> steps;          // empty when the format has no trajectory
    std::string error;                   // why the task failed, when it did
    nlohmann::json ground_truth;         // what the run recorded as ground truth (MATRIX files do), or null
    std::string question;                // the question as the run saw it, when recorded
    // GTA step-by-step runs: the predicted message (GTA dialog form) for each gold assistant turn, in order.
    std::vector<nlohmann::json> step_predictions;
};

struct ImportedRun {
    BenchKind benchmark = BenchKind::gta;
    std::string format;        // "matrix-gta" | "matrix-gaia" | "jsonl"
    std::string source_path;
    std::string name;          // defaults to the source folder / file name
    std::string model;         // model / checkpoint, when known
    std::string adapter;       // LoRA adapter, when known
    nlohmann::json settings = nlohmann::json::object();
    std::string date;          // ISO 8601, from the files' modification time when nothing better
    std::vector<TaskResult> results;
    std::vector<std::string> warnings;  // recoverable problems, one line each ("file: reason")
};

}  // namespace matrix::eval
