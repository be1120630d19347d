// Scoring a run against its benchmark: per-task scores (what the comparison works on) and run metrics.
//  - GTA, scorer "official": AnsAcc with GTA's iscorrect over objective items (subjective and image-generation
//    items need the reference's sentence-embedding model and are reported as not scored), tool-selection F1
//    per category from the run's tool calls mapped to GTA tools, tool-call and error counts;
//  - GTA, scorer "matrix": MATRIX's lenient check, accuracy over valid items and over all items, as eval.py;
//  - GAIA: question_scorer per task, accuracy per level and overall (both scorers: MATRIX's eval uses the same
//    function; its LLM answer-reformatting retry is not reproduced);
//  - Agent-X: toolset F1 (macro and micro); judge metrics only through a configured judge (judge.h).
// Ground truth comes from the loaded benchmark item; when the benchmark is not loaded, from what the run
// recorded (MATRIX files record it). Metrics are percentages; per-task scores are in [0, 1].
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/eval/benchmark.h"
#include "core/eval/run.h"
#include "core/util/result.h"

namespace matrix::eval {

enum class ScorerKind { official, matrix };
std::optional<ScorerKind> scorer_from_string(const std::string& s);
const char* to_string(ScorerKind s);

struct TaskScore {
    std::string task_id;
    std::string group;              // breakdown key: GAIA "level N", GTA answer form, Agent-X query type
    std::optional<double> score;    // primary per-task score in [0, 1]; nullopt = not scored (skipped)
    nlohmann::json detail = nlohmann::json::object();  // every per-task value ({"correct": true, "toolset_f1": .5})
    bool has_answer = false;
    // Why there is no score (empty when scored): "needs embedding model" (GTA subjective / image-generation
    // items under the official scorer), "skipped by the MATRIX scorer", "no ground truth", "not in the benchmark".
    std::string not_scored;
};

struct RunScore {
    std::string scorer;               // "official" | "matrix"
    std::string primary_metric;       // "answer_acc" (GTA official), "accuracy", "toolset_f1"
    std::vector<TaskScore> tasks;     // in the run's order
    std::map<std::string, double> metrics;               // name -> value (percent)
    std::map<std::string, std::map<std::string, double>> by_group;  // group -> {primary metric, n}
    std::vector<std::string> notes;   // what was left out and why

    // Also lists the tasks without a score and why ("not_scored": [{task_id, group, reason}], "n_not_scored").
    nlohmann::json to_json() const;
    const TaskScore* find(const std::string& task_id) const;
};

// `bench` may be null (ground truth then comes from the run).
Result<RunScore> score_run(BenchKind kind, const std::vector<TaskResult>& results, const Benchmark* bench,
                           ScorerKind scorer);

// The run's steps as GTA dialog messages (agent tools mapped to GTA tool names), ending with the answer.
std::vector<nlohmann::json> gta_messages_of(const TaskResult& r);

}  // namespace matrix::eval
