// GTA step-by-step and end-to-end metrics (see gta_metrics.h; follows GTABenchEvaluator.score).
#include "core/eval/gta_metrics.h"

#include <set>

#include "core/eval/gta_answer_check.h"
#include "core/eval/json_file.h"
#include "core/eval/py_compat.h"

namespace matrix::eval {

namespace {

const std::vector<std::string> kCategories = {"perception", "operation", "logic", "creativity"};

enum class RType { tool, answer, tool_return };

struct Response {
    RType type;
    nlohmann::json value;  // tool: the function object; else the content
};

// get_response_type of the reference.
Response response_type(const nlohmann::json& m) {
    if (m.is_object() && m.contains("tool_calls")) {
        const auto& tc = m["tool_calls"];
        nlohmann::json fn = tc.is_array() && !tc.empty() && tc[0].is_object() && tc[0].contains("function")
                                ? tc[0]["function"] : nlohmann::json::object();
        return {RType::tool, fn};
    }
    const bool is_assistant = m.is_object() && m.contains("role") && m["role"] == "assistant";
    const nlohmann::json content = m.is_object() && m.contains("content") ? m["content"] : nlohmann::json();
    return {is_assistant ? RType::answer : RType::tool_return, content};
}

bool has_error(const nlohmann::json& m) { return m.is_object() && m.contains("error"); }

std::string fn_name(const nlohmann::json& fn) {
    return fn.is_object() && fn.contains("name") && fn["name"].is_string() ? fn["name"].get<std::string>() : "";
}

bool truthy(const nlohmann::json& v) {  // Python truthiness of the parsed gt_answer
    if (v.is_null()) return false;
    if (v.is_array() || v.is_object() || v.is_string()) return !v.empty();
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_number()) return v.get<double>() != 0;
    return true;
}

bool text_truthy(const nlohmann::json& v) { return !(v.is_null() || (v.is_string() && v.get<std::string>().empty())); }

}  // namespace

std::string gta_tool_category(const std::string& n) {
    static const std::set<std::string> perception = {"OCR", "ImageDescription", "RegionAttributeDescription",
                                                     "TextToBbox"};
    static const std::set<std::string> operation = {"DrawBox", "AddText", "GoogleSearch"};
    static const std::set<std::string> logic = {"Calculator", "Solver", "Plot", "MathOCR", "CountGivenObject"};
    static const std::set<std::string> creativity = {"TextToImage", "ImageStylization"};
    if (perception.count(n)) return "perception";
    if (operation.count(n)) return "operation";
    if (logic.count(n)) return "logic";
    if (creativity.count(n)) return "creativity";
    return "none";
}

std::string gta_tool_for_agent_tool(const std::string& n) {
    static const std::map<std::string, std::string> m = {
        {"ocr", "OCR"},
        {"visualizer", "ImageDescription"},
        {"objectlocation", "TextToBbox"},
        {"facedetection", "TextToBbox"},
        {"segmentation", "RegionAttributeDescription"},
        {"ask_search_agent", "GoogleSearch"},
        {"image_generator", "TextToImage"},
        {"image_edit", "ImageStylization"},
    };
    auto it = m.find(n);
    if (it != m.end()) return it->second;
    if (gta_tool_category(n) != "none") return n;
    return {};
}

Result<GtaStepMetrics> gta_step_metrics(const std::vector<GtaStepSample>& samples, const SimilarityFn& sim) {
    GtaStepMetrics out;
    double inst = 0, tool = 0, arg = 0, answer = 0;
    int answer_items_scored = 0;
    for (const auto& s : samples) {
        const bool ref_truthy = truthy(s.gt_answer);
        if (ref_truthy) ++out.n_answer_items;
        const bool subjective = s.gt_answer.is_array();
        if (ref_truthy && (!subjective || sim)) ++answer_items_scored;
        const size_t n = std::min(s.predictions.size(), s.gold.size());
        for (size_t i = 0; i < n; ++i) {
            const auto& pred = s.predictions[i];
            const auto& gt = s.gold[i];
            const Response p = response_type(pred), g = response_type(gt);
            if (p.type == g.type && !has_error(pred)) inst += 1;
            if (g.type == RType::tool) ++out.n_tool_steps;
            if (p.type == RType::tool) {
                ++out.tool_call;
                if (has_error(pred)) ++out.tool_call_error;
            }
            if (p.type == RType::tool && g.type == RType::tool && fn_name(p.value) == fn_name(g.value)) {
                tool += 1;
                const nlohmann::json pa = p.value.contains("arguments") ? p.value["arguments"] : nlohmann::json();
                const nlohmann::json ga = g.value.contains("arguments") ? g.value["arguments"] : nlohmann::json();
                if (py::json_equal(pa, ga)) arg += 1;
            } else if (p.type == RType::answer && g.type == RType::answer) {
                const std::string pred_text = text_of(p.value);
                if (s.gt_answer.is_object()) {
                    MATRIX_TRY(bool ok, gta_official_is_correct(pred_text, s.gt_answer));
                    answer += ok ? 1 : 0;
                } else if (s.gt_answer.is_array() && sim) {
                    double best = 0;
                    for (const auto& r : s.gt_answer) best = std::max(best, sim(pred_text, text_of(r)));
                    answer += best;
                }
            }
        }
    }
    const int denom = out.n_tool_steps + out.n_answer_items;
    out.inst_acc = denom ? inst / denom * 100 : 0;
    out.tool_acc = out.n_tool_steps ? tool / out.n_tool_steps * 100 : 0;
    out.arg_acc = out.n_tool_steps ? arg / out.n_tool_steps * 100 : 0;
    out.n_summ_scored = answer_items_scored;
    out.summ_acc_objective_only = !sim;
    out.summ_acc = answer_items_scored ? answer / answer_items_scored * 100 : 0;
    return out;
}

GtaToolCounts gta_tool_counts(const std::vector<nlohmann::json>& prediction, const std::vector<nlohmann::json>& gold) {
    GtaToolCounts c;
    std::vector<std::string> pred_names;
    for (const auto& p : prediction) {
        if (!(p.is_object() && p.contains("tool_calls"))) continue;
        const std::string name = fn_name(response_type(p).value);
        const std::string cat = gta_tool_category(name);
        if (cat != "none") c.predicted[cat] += 1;
        pred_names.push_back(name);
    }
    for (const auto& g : gold) {
        if (!(g.is_object() && g.contains("tool_calls"))) continue;
        const std::string name = fn_name(response_type(g).value);
        const std::string cat = gta_tool_category(name);
        if (cat == "none") continue;  // the reference would raise KeyError here
        c.gold[cat] += 1;
        if (std::find(pred_names.begin(), pred_names.end(), name) != pred_names.end()) c.hit[cat] += 1;
    }
    return c;
}

double gta_category_f1(double hit, double gold, double predicted) {
    const double p = hit / (predicted + 1e-5);
    if (gold == 0) return 0;
    const double r = hit / gold;
    return 2 * p * r / (p + r + 1e-5) * 100;
}

Result<GtaEndToEndMetrics> gta_end_to_end_metrics(const std::vector<GtaRunSample>& samples, const SimilarityFn& sim) {
    static const std::set<std::string> imagegen_tools = {"DrawBox", "AddText", "Plot", "TextToImage",
                                                         "ImageStylization"};
    GtaEndToEndMetrics out;
    double answer_acc = 0, answer_acc_img = 0;
    std::map<std::string, int> total, total_predict, hit;
    for (const auto& s : samples) {
        ++out.n_items;
        const bool ref_truthy = truthy(s.gt_answer);
        if (ref_truthy) {
            ++out.n_answer_items;
            if (!s.gt_answer.is_array() || sim) ++out.n_answer_scored;
        }
        if (!s.prediction.empty()) {
            const Response last = response_type(s.prediction.back());
            if (ref_truthy && last.type == RType::answer && text_truthy(last.value)) {
                const std::string pred_text = text_of(last.value);
                if (s.gt_answer.is_object()) {
                    MATRIX_TRY(bool ok, gta_official_is_correct(pred_text, s.gt_answer));
                    answer_acc += ok;
                    answer_acc_img += ok;
                } else if (s.gt_answer.is_array() && sim) {
                    double best = 0;
                    for (const auto& r : s.gt_answer) best = std::max(best, sim(pred_text, text_of(r)));
                    answer_acc += best;
                    answer_acc_img += best;
                }
            }
        }
        if (!ref_truthy && sim) {  // image generation: product of argument similarities of the gen tools
            std::map<std::string, nlohmann::json> pred_gen;
            for (const auto& p : s.prediction) {
                if (p.is_object() && p.contains("tool_calls") && !has_error(p)) {
                    const auto fn = response_type(p).value;
                    if (imagegen_tools.count(fn_name(fn))) pred_gen[fn_name(fn)] = fn.value("arguments", nlohmann::json());
                }
            }
            double score = 1;
            for (const auto& g : s.gold) {
                if (!(g.is_object() && g.contains("tool_calls"))) continue;
                const auto fn = response_type(g).value;
                if (!imagegen_tools.count(fn_name(fn))) continue;
                auto it = pred_gen.find(fn_name(fn));
                if (it == pred_gen.end()) {
                    score = 0;
                    break;
                }
                score *= sim(fn.value("arguments", nlohmann::json()).dump(), it->second.dump());
            }
            answer_acc_img += score;
        }
        for (const auto& p : s.prediction) {
            if (p.is_object() && p.contains("tool_calls")) {
                ++out.tool_call;
                if (has_error(p)) ++out.tool_call_error;
            }
        }
        const GtaToolCounts c = gta_tool_counts(s.prediction, s.gold);
        for (const auto& [k, v] : c.gold) total[k] += v;
        for (const auto& [k, v] : c.predicted) total_predict[k] += v;
        for (const auto& [k, v] : c.hit) hit[k] += v;
    }
    for (const auto& cat : kCategories) {
        const double p = hit[cat] / (total_predict[cat] + 1e-5);
        double r = 0, f = 0;
        if (total[cat] != 0) {
            r = double(hit[cat]) / total[cat];
            f = 2 * p * r / (p + r + 1e-5);
        }
        out.precision[cat] = p;
        out.recall[cat] = r;
        out.f1[cat] = f * 100;  // == gta_category_f1(hit, total, total_predict)
    }
    out.answer_acc_objective_only = !sim;
    out.answer_acc = out.n_answer_scored ? answer_acc / out.n_answer_scored * 100 : 0;
    if (sim && out.n_items) out.answer_acc_w_imggen = answer_acc_img / out.n_items * 100;
    return out;
}

}  // namespace matrix::eval
