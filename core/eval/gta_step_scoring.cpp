// GTA step-by-step run scoring (see gta_step_scoring.h).
#include "core/eval/gta_step_scoring.h"

#include "core/eval/gta_metrics.h"

using nlohmann::json;

namespace matrix::eval {

std::vector<json> gta_gold_assistant_turns(const BenchItem& item) {
    std::vector<json> out;
    for (const auto& g : item.gold_steps) {
        if (g.role == "assistant") out.push_back(g.raw);
    }
    return out;
}

Result<RunScore> score_gta_steps(const std::vector<TaskResult>& results, const Benchmark& bench) {
    RunScore rs;
    rs.scorer = "official";
    rs.primary_metric = "arg_acc";
    std::vector<GtaStepSample> samples;
    int n_unknown = 0;
    for (const auto& r : results) {
        TaskScore ts;
        ts.task_id = r.task_id;
        ts.has_answer = r.answer.has_value();
        const BenchItem* item = bench.find(r.task_id);
        if (!item) {
            ++n_unknown;
            ts.not_scored = "not in the benchmark";
            ts.detail["skipped"] = ts.not_scored;
            rs.tasks.push_back(std::move(ts));
            continue;
        }
        ts.group = item->category;
        GtaStepSample s;
        s.predictions = r.step_predictions;
        s.gold = gta_gold_assistant_turns(*item);
        s.gt_answer = item->gold_answer;
        // The same metric code on this one task gives its counts.
        MATRIX_TRY(GtaStepMetrics m, gta_step_metrics({s}));
        const double tool_hits = m.tool_acc * m.n_tool_steps / 100.0, arg_hits = m.arg_acc * m.n_tool_steps / 100.0;
        ts.detail = {{"n_tool_steps", m.n_tool_steps},
                     {"tool_correct", int(tool_hits + 0.5)},
                     {"arg_correct", int(arg_hits + 0.5)},
                     {"n_predicted", int(r.step_predictions.size())},
                     {"n_gold", int(s.gold.size())}};
        if (m.n_summ_scored > 0) ts.detail["summ_correct"] = m.summ_acc > 50;
        if (m.n_tool_steps > 0) {
            ts.score = arg_hits / m.n_tool_steps;
        } else {
            ts.not_scored = "no gold tool steps";
        }
        if (!r.error.empty()) ts.detail["error"] = r.error;
        samples.push_back(std::move(s));
        rs.tasks.push_back(std::move(ts));
    }
    MATRIX_TRY(GtaStepMetrics all, gta_step_metrics(samples));
    rs.metrics["inst_acc"] = all.inst_acc;
    rs.metrics["tool_acc"] = all.tool_acc;
    rs.metrics["arg_acc"] = all.arg_acc;
    rs.metrics["summ_acc"] = all.summ_acc;
    rs.metrics["tool_call"] = all.tool_call;
    rs.metrics["tool_call_error"] = all.tool_call_error;
    rs.metrics["n_tool_steps"] = all.n_tool_steps;
    rs.metrics["n_answer_items"] = all.n_answer_items;
    rs.metrics["n_summ_scored"] = all.n_summ_scored;
    rs.notes.push_back("GTA step-by-step (every_with_gt): each step predicted from the gold prefix; tools not executed");
    if (all.summ_acc_objective_only) {
        rs.notes.push_back("SummAcc over objective items only: subjective answers need GTA's sentence-embedding model");
    }
    if (n_unknown) rs.notes.push_back(std::to_string(n_unknown) + " task ids are not in the benchmark");
    std::map<std::string, std::pair<double, int>> acc;
    for (const auto& t : rs.tasks) {
        if (!t.score) continue;
        acc[t.group].first += *t.score;
        acc[t.group].second += 1;
    }
    for (const auto& [g, a] : acc) {
        rs.by_group[g][rs.primary_metric] = a.first / a.second * 100;
        rs.by_group[g]["n"] = a.second;
    }
    return rs;
}

}  // namespace matrix::eval
