// GTA's two evaluation modes from GTABenchEvaluator.score (open-compass/GTA, opencompass/datasets/
// gta_bench.py), over messages in GTA's dialog format ({"role", "content"} or {"role": "assistant",
// "tool_calls": [{"function": {"name", "arguments"}}]}, a predicted message may carry an "error" key):
//  - step-by-step ("every_with_gt"): each predicted step against the gold step at the same position:
//    InstAcc (same response type, no error), ToolAcc (same tool name), ArgAcc (name and arguments equal with
//    Python ==), SummAcc (final answer: official answer check, or similarity for subjective items);
//  - end-to-end ("every"): AnsAcc plus tool-selection F1 per category (perception / operation / logic /
//    creativity) with the reference's +1e-5 terms.
// Subjective answers and image-generation AnsAcc use a sentence-embedding similarity in the reference; pass a
// SimilarityFn to reproduce it. Without one those parts are left out and the result says so (never guessed).
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace matrix::eval {

// Cosine similarity in [0, 1] of two texts (the reference: all-mpnet-base-v2, clipped at 0).
using SimilarityFn = std::function<double(const std::string& a, const std::string& b)>;

// "perception" | "operation" | "logic" | "creativity" | "none" (gettype of the reference).
std::string gta_tool_category(const std::string& gta_tool_name);
// MATRIX / M-TRACE agent tool name -> the GTA tool it stands for ("ocr" -> "OCR", "visualizer" ->
// "ImageDescription", ...); a GTA name maps to itself; empty when there is no counterpart.
std::string gta_tool_for_agent_tool(const std::string& agent_tool_name);

struct GtaStepSample {
    std::vector<nlohmann::json> predictions;  // predicted message per gold position (zip truncates)
    std::vector<nlohmann::json> gold;
    nlohmann::json gt_answer;  // the item's gt_answer
};

struct GtaStepMetrics {
    double inst_acc = 0, tool_acc = 0, arg_acc = 0, summ_acc = 0;  // percentages like the reference
    int tool_call = 0, tool_call_error = 0;
    int n_tool_steps = 0;     // total['tool']
    int n_answer_items = 0;   // total['answer'] (items with a truthy gt_answer)
    int n_summ_scored = 0;    // denominator actually used for SummAcc
    bool summ_acc_objective_only = false;  // true when subjective items were left out (no SimilarityFn)
};

Result<GtaStepMetrics> gta_step_metrics(const std::vector<GtaStepSample>& samples,
                                        const SimilarityFn& similarity = nullptr);

struct GtaRunSample {
    std::vector<nlohmann::json> prediction;  // the agent's messages for the item (last = final answer)
    std::vector<nlohmann::json> gold;        // the item's gold dialogs
    nlohmann::json gt_answer;
};

struct GtaEndToEndMetrics {
    double answer_acc = 0;                        // percent
    std::optional<double> answer_acc_w_imggen;    // percent; needs a SimilarityFn
    int tool_call = 0, tool_call_error = 0;
    std::map<std::string, double> f1;             // category -> F1 percent
    std::map<std::string, double> precision, recall;  // category -> fraction
    int n_items = 0, n_answer_items = 0, n_answer_scored = 0;
    bool answer_acc_objective_only = false;
};

Result<GtaEndToEndMetrics> gta_end_to_end_metrics(const std::vector<GtaRunSample>& samples,
                                                  const SimilarityFn& similarity = nullptr);

// Per-item tool-selection counts for one category, used for per-task breakdowns: gold calls of a category
// whose tool the prediction called, gold calls of it, predicted calls of it.
struct GtaToolCounts {
    std::map<std::string, int> hit, gold, predicted;
};
GtaToolCounts gta_tool_counts(const std::vector<nlohmann::json>& prediction, const std::vector<nlohmann::json>& gold);

// A category's tool-selection F1 (percent) from summed counts, with the reference's epsilons:
// p = hit / (predicted + 1e-5); r = hit / gold (0 when gold is 0); f1 = 2pr / (p + r + 1e-5).
double gta_category_f1(double hit, double gold, double predicted);

}  // namespace matrix::eval
