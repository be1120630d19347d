// Agent-X judge metrics through a configured judge (see agentx_judge_scoring.h).
#include "core/eval/agentx_judge_scoring.h"

#include <map>

namespace matrix::eval {

namespace {

std::string steps_text(const std::vector<RunStep>& steps) {
    std::string out;
    for (const auto& s : steps) {
        out += "Step " + std::to_string(s.index) + ": ";
        for (const auto& c : s.tool_calls) out += c.name + "(" + c.arguments.dump() + ") ";
        if (!s.thought.empty()) out += "thought: " + s.thought + " ";
        if (!s.observation.empty()) out += "output: " + s.observation;
        out += "\n";
    }
    return out;
}

std::string gold_text(const BenchItem& item) {
    std::string out;
    for (const auto& g : item.gold_steps) {
        if (g.role != "assistant") continue;
        for (const auto& c : g.tool_calls) out += c.name + "(" + c.arguments.dump() + ") ";
        if (!g.thought.empty()) out += "thought: " + g.thought + " ";
        if (!g.observation.empty()) out += "output: " + g.observation;
        out += "\n";
    }
    return out + "Final answer: " + item.gold_answer_text;
}

}  // namespace

void apply_judge_verdicts(RunScore& rs, const JudgeVerdicts& verdicts, const std::string& source) {
    std::map<std::string, std::pair<double, int>> sums;
    for (auto& ts : rs.tasks) {
        auto it = verdicts.find(ts.task_id);
        if (it == verdicts.end()) continue;
        for (const auto& [metric, v] : it->second) {
            ts.detail["judge_" + metric] = v;
            sums[metric].first += v;
            sums[metric].second += 1;
        }
    }
    for (const auto& [metric, s] : sums) rs.metrics["judge_" + metric] = s.first / s.second * 100;
    // Replace the "not configured" note.
    for (auto it = rs.notes.begin(); it != rs.notes.end();) {
        if (it->rfind("judge metrics", 0) == 0) it = rs.notes.erase(it);
        else ++it;
    }
    rs.notes.push_back("judge metrics from " + source);
}

int add_agentx_judge_metrics(RunScore& rs, const std::vector<TaskResult>& results, const Benchmark& bench,
                             const JudgeConfig& judge, std::string* first_error_out) {
    if (!judge.configured()) return 0;
    JudgeVerdicts verdicts;
    int failures = 0, successes = 0, asked_tasks = 0, to_ask = 0;
    std::string first_error;
    std::vector<std::pair<const BenchItem*, const TaskResult*>> work;
    for (const auto& ts : rs.tasks) {
        const BenchItem* item = bench.find(ts.task_id);
        const TaskResult* r = nullptr;
        for (const auto& x : results) {
            if (x.task_id == ts.task_id) r = &x;
        }
        if (item && r) work.emplace_back(item, r);
    }
    to_ask = int(work.size() * agentx_judge_metrics().size());
    int asked = 0;
    for (const auto& [item, r] : work) {
        if (asked_tasks == 1 && successes == 0) {
            // Every request so far failed: the endpoint is down or not a judge. Do not hammer it.
            failures += to_ask - asked;
            break;
        }
        ++asked_tasks;
        const std::string pred = steps_text(r->steps) + "Final answer: " + r->answer.value_or("");
        for (const auto& metric : agentx_judge_metrics()) {
            ++asked;
            auto v = judge_score(judge, metric, item->query, gold_text(*item), pred);
            if (!v.ok()) {
                if (!failures++) first_error = v.error().to_string();
                continue;
            }
            ++successes;
            verdicts[r->task_id][metric] = v->score;
        }
    }
    apply_judge_verdicts(rs, verdicts, judge.model + " at " + judge.endpoint);
    if (failures) rs.notes.push_back(std::to_string(failures) + " judge requests failed (left out): " + first_error);
    if (first_error_out) *first_error_out = first_error;
    return failures;
}

}  // namespace matrix::eval
