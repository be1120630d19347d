// Run scoring per benchmark (see run_scoring.h).
#include "core/eval/run_scoring.h"

#include <set>

#include "core/eval/agentx_loader.h"
#include "core/eval/agentx_metrics.h"
#include "core/eval/gaia_scorer.h"
#include "core/eval/gta_answer_check.h"
#include "core/eval/gta_metrics.h"
#include "core/eval/json_file.h"

using nlohmann::json;

namespace matrix::eval {

std::optional<ScorerKind> scorer_from_string(const std::string& s) {
    if (s == "official") return ScorerKind::official;
    if (s == "matrix") return ScorerKind::matrix;
    return std::nullopt;
}

const char* to_string(ScorerKind s) { return s == ScorerKind::matrix ? "matrix" : "official"; }

json RunScore::to_json() const {
    json j;
    j["scorer"] = scorer;
    j["primary_metric"] = primary_metric;
    j["metrics"] = metrics;
    j["by_group"] = by_group;
    j["notes"] = notes;
    json tasks_j = json::array();
    for (const auto& t : tasks) {
        tasks_j.push_back({{"task_id", t.task_id},
                           {"group", t.group},
                           {"score", t.score ? json(*t.score) : json()},
                           {"detail", t.detail}});
    }
    j["tasks"] = tasks_j;
    json not_scored = json::array();
    for (const auto& t : tasks) {
        if (!t.score) {
            not_scored.push_back({{"task_id", t.task_id}, {"group", t.group},
                                  {"reason", t.not_scored.empty() ? std::string("skipped") : t.not_scored}});
        }
    }
    j["n_not_scored"] = not_scored.size();
    j["not_scored"] = not_scored;
    return j;
}

const TaskScore* RunScore::find(const std::string& id) const {
    for (const auto& t : tasks) {
        if (t.task_id == id) return &t;
    }
    return nullptr;
}

std::vector<json> gta_messages_of(const TaskResult& r) {
    std::vector<json> out;
    for (const auto& s : r.steps) {
        for (const auto& tc : s.tool_calls) {
            if (tc.name == "final_answer") continue;
            const std::string gta = gta_tool_for_agent_tool(tc.name);
            json m = {{"role", "assistant"},
                      {"tool_calls", json::array({{{"type", "function"},
                                                   {"function", {{"name", gta.empty() ? tc.name : gta},
                                                                 {"arguments", tc.arguments}}}}})}};
            if (s.is_error) m["error"] = s.observation;
            out.push_back(std::move(m));
        }
    }
    out.push_back({{"role", "assistant"}, {"content", r.answer ? json(*r.answer) : json()}});
    return out;
}

namespace {

std::vector<json> gold_messages(const BenchItem& item) {
    std::vector<json> out;
    for (const auto& s : item.gold_steps) out.push_back(s.raw);
    return out;
}

void finish_groups(RunScore& rs) {
    std::map<std::string, std::pair<double, int>> acc;
    for (const auto& t : rs.tasks) {
        if (!t.score) continue;
        auto& a = acc[t.group];
        a.first += *t.score;
        a.second += 1;
    }
    for (const auto& [g, a] : acc) {
        rs.by_group[g][rs.primary_metric] = a.second ? a.first / a.second * 100 : 0;
        rs.by_group[g]["n"] = a.second;
    }
}

Result<RunScore> score_gta(const std::vector<TaskResult>& results, const Benchmark* bench, ScorerKind scorer) {
    RunScore rs;
    rs.scorer = to_string(scorer);
    std::vector<GtaRunSample> samples;
    int n_scored = 0, n_correct = 0, n_skipped = 0, n_unknown = 0;
    for (const auto& r : results) {
        TaskScore ts;
        ts.task_id = r.task_id;
        ts.has_answer = r.answer.has_value();
        const BenchItem* item = bench ? bench->find(r.task_id) : nullptr;
        if (bench && !item) ++n_unknown;
        json gt = item ? item->gold_answer : r.ground_truth;
        if (item) ts.group = item->category;
        else if (gt.is_null()) ts.group = "image_generation";
        else if (gt.is_array() && !gt.empty() && gt[0].is_string()) ts.group = "subjective";
        else ts.group = "objective";
        const std::string answer = r.answer.value_or("");
        if (scorer == ScorerKind::matrix) {
            auto m = gta_matrix_is_correct(answer, gt);
            if (!m.ok()) return m.error().within("task " + r.task_id);
            if (m.value().has_value()) {
                ts.score = *m.value() ? 1.0 : 0.0;
                ts.detail["correct"] = *m.value();
            } else {
                ts.detail["skipped"] = ts.group;
                ts.not_scored = "skipped by the MATRIX scorer";
            }
        } else if (gt.is_object()) {
            auto ok = gta_official_is_correct(answer, gt);
            if (!ok.ok()) return ok.error().within("task " + r.task_id);
            // The reference only scores a non-empty final answer; an empty one counts as wrong.
            const bool correct = !answer.empty() && ok.value();
            ts.score = correct ? 1.0 : 0.0;
            ts.detail["correct"] = correct;
        } else if (gt.is_array() && !gt.empty() && gt[0].is_array()) {
            // The run recorded only the whitelist (MATRIX layout): official check without a blacklist.
            auto ok = gta_official_is_correct(answer, json{{"whitelist", gt}, {"blacklist", nullptr}});
            if (!ok.ok()) return ok.error().within("task " + r.task_id);
            ts.score = (!answer.empty() && ok.value()) ? 1.0 : 0.0;
            ts.detail["correct"] = ts.score == 1.0;
            ts.detail["blacklist_unknown"] = true;
        } else {
            // GTA scores subjective answers by sentence-embedding similarity (all-mpnet-base-v2), which is
            // not available offline; image-generation items are reported the same way, never guessed.
            ts.detail["skipped"] = ts.group;
            ts.not_scored = "needs embedding model";
        }
        if (ts.score) {
            ++n_scored;
            n_correct += *ts.score > 0 ? 1 : 0;
        } else {
            ++n_skipped;
        }
        if (item && scorer == ScorerKind::official) {
            GtaRunSample s;
            s.prediction = gta_messages_of(r);
            s.gold = gold_messages(*item);
            s.gt_answer = item->gold_answer;
            const GtaToolCounts c = gta_tool_counts(s.prediction, s.gold);
            // Per-task counts behind the category F1s, so a comparison can bootstrap their intervals.
            ts.detail["tool_counted"] = true;
            for (const auto& [k, v] : c.hit) ts.detail["tool_hit_" + k] = v;
            for (const auto& [k, v] : c.gold) ts.detail["tool_gold_" + k] = v;
            for (const auto& [k, v] : c.predicted) ts.detail["tool_pred_" + k] = v;
            samples.push_back(std::move(s));
        }
        rs.tasks.push_back(std::move(ts));
    }
    if (scorer == ScorerKind::matrix) {
        rs.primary_metric = "accuracy";
        rs.metrics["accuracy"] = n_scored ? 100.0 * n_correct / n_scored : 0;
        rs.metrics["accuracy_all"] = results.empty() ? 0 : 100.0 * n_correct / double(results.size());
        rs.metrics["n_valid"] = n_scored;
        rs.metrics["n_correct"] = n_correct;
        rs.notes.push_back("MATRIX scorer (examples/gta/eval.py): lowercase substring, blacklist ignored, " +
                           std::to_string(n_skipped) + " subjective/image-generation items skipped");
    } else {
        rs.primary_metric = "answer_acc";
        rs.metrics["answer_acc"] = n_scored ? 100.0 * n_correct / n_scored : 0;
        rs.metrics["n_scored"] = n_scored;
        rs.metrics["n_correct"] = n_correct;
        if (n_skipped) {
            rs.notes.push_back("not scored (needs embedding model): " + std::to_string(n_skipped) +
                               " subjective/image-generation items; the official score uses a "
                               "sentence-embedding similarity (all-mpnet-base-v2) that is not available here");
        }
        if (!samples.empty()) {
            MATRIX_TRY(auto e2e, gta_end_to_end_metrics(samples));
            for (const auto& [cat, f] : e2e.f1) rs.metrics[cat.substr(0, 1) + "_f1"] = f;
            rs.metrics["tool_call"] = e2e.tool_call;
            rs.metrics["tool_call_error"] = e2e.tool_call_error;
        } else if (!bench) {
            rs.notes.push_back("benchmark not loaded: tool-selection F1 needs the gold dialogs");
        }
    }
    if (n_unknown) rs.notes.push_back(std::to_string(n_unknown) + " task ids are not in the benchmark");
    finish_groups(rs);
    return rs;
}

Result<RunScore> score_gaia(const std::vector<TaskResult>& results, const Benchmark* bench, ScorerKind scorer) {
    RunScore rs;
    rs.scorer = to_string(scorer);
    rs.primary_metric = "accuracy";
    int n = 0, correct = 0, n_no_gt = 0, n_unknown = 0;
    for (const auto& r : results) {
        TaskScore ts;
        ts.task_id = r.task_id;
        ts.has_answer = r.answer.has_value();
        const BenchItem* item = bench ? bench->find(r.task_id) : nullptr;
        if (bench && !item) ++n_unknown;
        std::string gt;
        bool have_gt = false;
        if (item && item->gold_answer.is_string()) {
            gt = item->gold_answer.get<std::string>();
            have_gt = true;
        } else if (r.ground_truth.is_string()) {
            gt = r.ground_truth.get<std::string>();
            have_gt = true;
        }
        ts.group = item ? item->category : "level ?";
        if (!have_gt) {
            ++n_no_gt;
            ts.detail["skipped"] = "no ground truth";
            ts.not_scored = "no ground truth";
        } else {
            // MATRIX's eval counts a scorer failure (e.g. no answer) as wrong.
            const bool ok = r.answer.has_value() && gaia_question_scorer(*r.answer, gt);
            ts.score = ok ? 1.0 : 0.0;
            ts.detail["correct"] = ok;
            ++n;
            correct += ok;
        }
        rs.tasks.push_back(std::move(ts));
    }
    rs.metrics["accuracy"] = n ? 100.0 * correct / n : 0;
    rs.metrics["n_scored"] = n;
    rs.metrics["n_correct"] = correct;
    finish_groups(rs);
    for (const auto& [g, m] : rs.by_group) {
        if (g.rfind("level ", 0) == 0 && g != "level ?") rs.metrics["accuracy_l" + g.substr(6)] = m.at("accuracy");
    }
    if (scorer == ScorerKind::matrix) {
        rs.notes.push_back("MATRIX's GAIA eval uses the official question_scorer; its LLM answer-reformatting retry "
                           "is not reproduced");
    }
    if (n_no_gt) rs.notes.push_back(std::to_string(n_no_gt) + " tasks have no ground truth (not scored)");
    if (n_unknown) rs.notes.push_back(std::to_string(n_unknown) + " task ids are not in the benchmark");
    return rs;
}

// A MATRIX agent tool -> the Agent-X tool it stands for (runs of the workbench's own agent); Agent-X names and
// unknown names stay as they are.
std::string agentx_tool_for_agent_tool(const std::string& n) {
    static const std::map<std::string, std::string> m = {
        {"ocr", "OCR"},
        {"visualizer", "SceneDescriber"},
        {"objectlocation", "LocateObjectByText"},
        {"facedetection", "LocateObjectByText"},
        {"segmentation", "RegionDescriber"},
        {"ask_search_agent", "WebSearch"},
        {"image_generator", "ImageGenerator"},
        {"image_edit", "ImageStylization"},
    };
    auto it = m.find(n);
    return it == m.end() ? n : it->second;
}

Result<RunScore> score_agentx(const std::vector<TaskResult>& results, const Benchmark* bench) {
    RunScore rs;
    rs.scorer = "official";
    rs.primary_metric = "toolset_f1";
    std::vector<std::set<std::string>> gold, pred;
    for (const auto& r : results) {
        TaskScore ts;
        ts.task_id = r.task_id;
        ts.has_answer = r.answer.has_value();
        const BenchItem* item = bench ? bench->find(r.task_id) : nullptr;
        if (!item) {
            ts.detail["skipped"] = "not in the benchmark";
            ts.not_scored = "not in the benchmark";
            rs.tasks.push_back(std::move(ts));
            continue;
        }
        ts.group = item->category;
        std::set<std::string> g(item->tools.begin(), item->tools.end()), p;
        for (const auto& s : r.steps) {
            for (const auto& tc : s.tool_calls) {
                if (tc.name != "final_answer") p.insert(agentx_tool_for_agent_tool(tc.name));
            }
        }
        const SetF1 f = toolset_f1(g, p);
        ts.score = f.f1;
        ts.detail = {{"toolset_f1", f.f1}, {"precision", f.precision}, {"recall", f.recall}};
        gold.push_back(std::move(g));
        pred.push_back(std::move(p));
        rs.tasks.push_back(std::move(ts));
    }
    const ToolsetF1Summary s = toolset_f1_summary(gold, pred);
    rs.metrics["toolset_f1"] = s.macro_f1 * 100;
    rs.metrics["toolset_f1_micro"] = s.micro.f1 * 100;
    rs.metrics["toolset_precision_micro"] = s.micro.precision * 100;
    rs.metrics["toolset_recall_micro"] = s.micro.recall * 100;
    rs.metrics["n_scored"] = s.n_tasks;
    rs.notes.push_back("judge metrics (grounding, tool precision/accuracy, faithfulness, context, factual "
                       "precision, semantic/goal accuracy): not configured");
    if (!bench) rs.notes.push_back("benchmark not loaded: toolset F1 needs the gold tool sets");
    finish_groups(rs);
    return rs;
}

}  // namespace

Result<RunScore> score_run(BenchKind kind, const std::vector<TaskResult>& results, const Benchmark* bench,
                           ScorerKind scorer) {
    switch (kind) {
        case BenchKind::gta: return score_gta(results, bench, scorer);
        case BenchKind::gaia: return score_gaia(results, bench, scorer);
        case BenchKind::agentx: return score_agentx(results, bench);
    }
    return make_error("unknown benchmark");
}

}  // namespace matrix::eval
