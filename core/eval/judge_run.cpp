// Judge verdicts for a stored Agent-X run (see judge_run.h).
#include "core/eval/judge_run.h"

#include <map>

#include "core/eval/agentx_judge_scoring.h"
#include "core/eval/bench_store.h"
#include "core/store/dataset_repo.h"
#include "core/store/run_repo.h"
#include "core/store/database.h"

using nlohmann::json;

namespace matrix::eval {

namespace {
json parse_object(const std::string& text) {
    json j = json::parse(text.empty() ? "{}" : text, nullptr, false);
    return j.is_object() ? j : json::object();
}
}  // namespace

Result<JudgeRunReport> judge_stored_run(store::Project& project, int64_t run_id, const JudgeConfig& judge) {
    if (!judge.configured()) return make_error("judge not configured");
    MATRIX_TRY(StoredRun run, load_stored_run(project, run_id));
    if (run.benchmark != BenchKind::agentx) {
        return make_error("judge metrics are defined for Agent-X runs only; run " + std::to_string(run_id) + " is " +
                          to_string(run.benchmark));
    }
    std::string dataset_name;
    if (run.run.dataset_id) {
        store::DatasetRepo datasets(project.db());
        MATRIX_TRY(auto ds, datasets.get(*run.run.dataset_id));
        if (ds) dataset_name = ds->name;
    }
    auto bench = load_stored_benchmark(project, BenchKind::agentx, dataset_name);
    if (!bench.ok()) {
        return make_error("the judge needs the Agent-X benchmark's gold steps: load it first (matrix bench load)",
                          bench.error().to_string());
    }
    MATRIX_TRY(RunScore score, score_run(BenchKind::agentx, run.results, &bench.value(), ScorerKind::official));
    JudgeRunReport report;
    for (const auto& t : score.tasks) {
        if (bench->find(t.task_id)) report.n_requests += int(agentx_judge_metrics().size());
    }
    report.n_failed = add_agentx_judge_metrics(score, run.results, bench.value(), judge, &report.first_error);

    store::Database& db = project.db();
    store::RunRepo runs(db);
    store::Transaction tx(db);
    if (!tx.begin_status().ok()) return tx.begin_status().error();
    MATRIX_TRY(auto rows, runs.results(run_id));
    for (auto& row : rows) {
        const TaskScore* ts = score.find(row.task_key);
        if (!ts) continue;
        json verdicts = json::object();
        for (const auto& metric : agentx_judge_metrics()) {
            auto it = ts->detail.find("judge_" + metric);
            if (it != ts->detail.end() && it->is_number()) verdicts[metric] = *it;
        }
        if (verdicts.empty()) continue;
        json sc = parse_object(row.scores);
        sc["judge"] = verdicts;
        row.scores = sc.dump();
        report.n_stored += int(verdicts.size());
        MATRIX_TRY(int64_t id, runs.put_result(row));
        (void)id;
    }
    if (report.n_stored) {
        MATRIX_TRY(auto r, runs.get(run_id));
        json summary = parse_object(r ? r->summary : std::string());
        summary["judge"] = {{"model", judge.model}, {"endpoint", judge.endpoint}};
        MATRIX_CHECK(runs.set_summary(run_id, summary.dump()));
    }
    MATRIX_CHECK(tx.commit());
    return report;
}

}  // namespace matrix::eval
