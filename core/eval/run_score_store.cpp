// Scoring and comparing eval runs stored in the project (see bench_store.h): the run and its benchmark are
// read back, scored, and the per-task scores, metrics and summary written to the run. Only store repositories
// are used here.
#include "core/eval/bench_store.h"

#include <map>

#include "core/eval/agentx_judge_scoring.h"
#include "core/eval/bench_store_detail.h"
#include "core/eval/gta_step_scoring.h"
#include "core/store/dataset_repo.h"
#include "core/store/run_repo.h"

using nlohmann::json;

namespace matrix::eval {

using detail::parse_or;

namespace detail {

Result<std::optional<Benchmark>> scoring_benchmark(store::Project& project, BenchKind kind,
                                                   const std::optional<int64_t>& dataset_id) {
    std::optional<Benchmark> bench;
    std::string dataset_name;
    if (dataset_id) {
        store::DatasetRepo datasets(project.db());
        MATRIX_TRY(auto ds, datasets.get(*dataset_id));
        if (ds) dataset_name = ds->name;
    }
    {
        auto b = load_stored_benchmark(project, kind, dataset_name);
        if (b.ok()) bench = std::move(b).value();
    }
    return bench;
}

Result<RunScore> score_results(BenchKind kind, const std::vector<TaskResult>& results, const Benchmark* bench,
                               const json& config, ScorerKind scorer) {
    const bool step_mode = config.is_object() && config.value("mode", std::string()) == "step";
    RunScore score;
    if (step_mode && kind == BenchKind::gta && scorer == ScorerKind::official) {
        if (!bench) return make_error("a GTA step-by-step run is scored against the gold dialogs: load the benchmark");
        MATRIX_TRY(score, score_gta_steps(results, *bench));
    } else {
        MATRIX_TRY(score, score_run(kind, results, bench, scorer));
    }
    if (!bench) score.notes.push_back("benchmark not in the project: scored against the run's recorded ground truth");
    return score;
}

void put_task_score(json& scores, const TaskScore& t, const std::string& key) {
    if (!scores.is_object()) scores = json::object();
    scores[key] = t.score ? json(*t.score) : json();
    scores[key + "_detail"] = t.detail;
    scores["group"] = t.group;
}

json summary_entry(const RunScore& score) {
    json not_scored = json::object();  // reason -> count
    for (const auto& t : score.tasks) {
        if (!t.score) {
            const std::string reason = t.not_scored.empty() ? "skipped" : t.not_scored;
            not_scored[reason] = not_scored.value(reason, 0) + 1;
        }
    }
    return {{"metrics", score.metrics}, {"primary_metric", score.primary_metric},
            {"by_group", score.by_group}, {"notes", score.notes}, {"not_scored", not_scored}};
}

}  // namespace detail

Result<RunScore> score_stored_run(store::Project& project, int64_t run_id, ScorerKind scorer) {
    MATRIX_TRY(StoredRun run, load_stored_run(project, run_id));
    MATRIX_TRY(std::optional<Benchmark> bench, detail::scoring_benchmark(project, run.benchmark, run.run.dataset_id));
    MATRIX_TRY(RunScore score, detail::score_results(run.benchmark, run.results, bench ? &*bench : nullptr,
                                                      parse_or(run.run.config, json::object()), scorer));

    store::Database& db = project.db();
    store::RunRepo runs(db);
    store::Transaction tx(db);
    if (!tx.begin_status().ok()) return tx.begin_status().error();
    MATRIX_TRY(auto rows, runs.results(run_id));
    if (run.benchmark == BenchKind::agentx && scorer == ScorerKind::official) {
        // Judge verdicts stored earlier (judge_run.h): part of the official Agent-X score, never re-asked here.
        JudgeVerdicts verdicts;
        for (const auto& row : rows) {
            const json sc = parse_or(row.scores, json::object());
            if (!sc.is_object() || !sc.contains("judge") || !sc["judge"].is_object()) continue;
            for (const auto& [metric, v] : sc["judge"].items()) {
                if (v.is_number()) verdicts[row.task_key][metric] = v.get<double>();
            }
        }
        if (!verdicts.empty()) {
            const json summary = parse_or(run.run.summary, json::object());
            std::string source = "a judge";
            if (summary.is_object() && summary.contains("judge") && summary["judge"].is_object()) {
                source = summary["judge"].value("model", std::string("?")) + " at " +
                         summary["judge"].value("endpoint", std::string("?"));
            }
            apply_judge_verdicts(score, verdicts, source);
        }
    }
    std::map<std::string, const TaskScore*> by_key;
    for (const auto& t : score.tasks) by_key[t.task_id] = &t;
    const std::string key = to_string(scorer);
    for (auto& row : rows) {
        auto it = by_key.find(row.task_key);
        if (it == by_key.end()) continue;
        json scores = parse_or(row.scores, json::object());
        detail::put_task_score(scores, *it->second, key);
        row.scores = scores.dump();
        MATRIX_TRY(int64_t id, runs.put_result(row));
        (void)id;
    }
    std::vector<std::pair<std::string, double>> metrics;
    for (const auto& [k, v] : score.metrics) metrics.emplace_back(key + "/" + k, v);
    MATRIX_CHECK(runs.append_metrics(run_id, 0, metrics));
    json summary = parse_or(run.run.summary, json::object());
    if (!summary.is_object()) summary = json::object();
    summary[key] = detail::summary_entry(score);
    MATRIX_CHECK(runs.set_summary(run_id, summary.dump()));
    MATRIX_CHECK(tx.commit());
    return score;
}

Result<Comparison> compare_stored_runs(store::Project& project, int64_t run_a, int64_t run_b, ScorerKind scorer) {
    MATRIX_TRY(auto ra, load_stored_run(project, run_a));
    MATRIX_TRY(auto rb, load_stored_run(project, run_b));
    if (ra.benchmark != rb.benchmark) {
        return make_error(std::string("runs are on different benchmarks (") + to_string(ra.benchmark) + " vs " +
                          to_string(rb.benchmark) + ")");
    }
    MATRIX_TRY(auto sa, score_stored_run(project, run_a, scorer));
    MATRIX_TRY(auto sb, score_stored_run(project, run_b, scorer));
    return compare_runs(sa, sb);
}

Result<MultiComparison> compare_stored_many(store::Project& project, const std::vector<int64_t>& ids,
                                            size_t baseline, ScorerKind scorer) {
    if (ids.size() < 2) return make_error("give at least two runs to compare");
    std::vector<RunScore> scores;
    std::vector<std::string> labels;
    std::optional<BenchKind> kind;
    for (int64_t id : ids) {
        MATRIX_TRY(auto r, load_stored_run(project, id));
        if (kind && *kind != r.benchmark) {
            return make_error(std::string("runs are on different benchmarks (") + to_string(*kind) + " vs " +
                              to_string(r.benchmark) + ")");
        }
        kind = r.benchmark;
        labels.push_back("#" + std::to_string(id) + " " + r.run.name);
        MATRIX_TRY(auto s, score_stored_run(project, id, scorer));
        scores.push_back(std::move(s));
    }
    return compare_many(scores, baseline, labels);
}

}  // namespace matrix::eval
