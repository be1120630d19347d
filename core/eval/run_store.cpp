// Eval runs in the project store (see bench_store.h): storing an imported run with its trajectories, reading
// it back, and one task across several runs. Scoring is in run_score_store.cpp. Only store repositories are
// used here.
#include "core/eval/bench_store.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/eval/bench_store_detail.h"
#include "core/eval/json_file.h"
#include "core/conversation/action.h"
#include "core/store/dataset_repo.h"
#include "core/store/media_repo.h"
#include "core/store/provenance.h"
#include "core/store/run_repo.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"

using nlohmann::json;

namespace matrix::eval {

using detail::find_dataset;
using detail::parse_or;

namespace {

std::vector<store::Step> run_steps_of(const TaskResult& r) {
    std::vector<store::Step> out;
    for (const auto& s : r.steps) {
        store::Step st;
        st.idx = s.index;
        st.thought = s.thought;
        st.code = s.code;
        st.action = conversation::render_action(s.thought, s.code);
        if (!s.observation.empty() || s.is_error) st.observation = s.observation;
        st.is_error = s.is_error;
        st.is_final = s.is_final;
        int pos = 0;
        for (const auto& c : s.tool_calls) {
            store::ToolCallRow row;
            row.position = pos++;
            row.name = c.name;
            row.arguments = c.arguments.is_object() ? c.arguments.dump() : json{{"$0", c.arguments}}.dump();
            st.tool_calls.push_back(std::move(row));
        }
        out.push_back(std::move(st));
    }
    return out;
}

RunStep run_step_from_store(const store::Step& s) {
    RunStep r;
    r.index = s.idx;
    r.thought = s.thought;
    r.code = s.code;
    r.observation = s.observation.value_or("");
    r.is_error = s.is_error;
    r.is_final = s.is_final;
    for (const auto& c : s.tool_calls) {
        RunToolCall call;
        call.name = c.name;
        try {
            call.arguments = json::parse(c.arguments);
        } catch (const json::exception&) {
            call.arguments = json::object();
        }
        r.tool_calls.push_back(std::move(call));
    }
    return r;
}


// What load_stored_run reads back for `t` once store_run has written it (`as_trajectory`: its steps go to a
// trajectory of the project's task, else into the row's extra): tool-call arguments and the ground truth come
// back through their JSON text (a trajectory's non-object arguments as {"$0": ...}), step predictions are not
// stored. Writing the result after this stores the same bytes as writing it before.
void as_read_back(TaskResult& t, bool as_trajectory) {
    t.step_predictions.clear();
    try {
        if (!t.ground_truth.is_null()) t.ground_truth = json::parse(t.ground_truth.dump());
        for (auto& s : t.steps) {
            for (auto& c : s.tool_calls) {
                c.arguments = json::parse(as_trajectory && !c.arguments.is_object() ? json{{"$0", c.arguments}}.dump()
                                                                                     : c.arguments.dump());
            }
        }
    } catch (const json::exception&) {
        // Text that cannot be written (invalid UTF-8): writing the row reports it.
    }
}

// The results as the stored rows read back when that differs from `results` (nullopt when it does not): one row
// per task key, at its first position with its last content, and a trajectory's steps in index order.
std::optional<std::vector<TaskResult>> rows_view(const std::vector<TaskResult>& results,
                                                 const std::vector<std::optional<int64_t>>& task_ids) {
    std::map<std::string, size_t> last;
    bool same = true;
    for (size_t i = 0; i < results.size(); ++i) {
        if (!last.emplace(results[i].task_id, i).second) {
            last[results[i].task_id] = i;
            same = false;
        }
        const auto& steps = results[i].steps;
        if (task_ids[i] && !std::is_sorted(steps.begin(), steps.end(),
                                           [](const RunStep& a, const RunStep& b) { return a.index < b.index; }))
            same = false;
    }
    if (same) return std::nullopt;
    std::vector<TaskResult> out;
    std::set<std::string> seen;
    for (const auto& r : results) {
        if (!seen.insert(r.task_id).second) continue;
        const size_t at = last[r.task_id];
        TaskResult t = results[at];
        if (task_ids[at]) {
            std::stable_sort(t.steps.begin(), t.steps.end(),
                             [](const RunStep& a, const RunStep& b) { return a.index < b.index; });
        }
        out.push_back(std::move(t));
    }
    return out;
}

}  // namespace

Result<int64_t> store_run(store::Project& project, ImportedRun run, const StoreRunOptions& options,
                          const Progress& progress) {
    store::Database& db = project.db();
    store::RunRepo runs(db);
    store::TaskRepo tasks(db);
    store::TrajectoryRepo trajectories(db);
    MATRIX_TRY(auto ds, find_dataset(project, run.benchmark, options.dataset_name));
    if (!options.dataset_name.empty() && !ds) return make_error("no dataset '" + options.dataset_name + "'");

    // Scored first, from the results in memory, so each row is written once with its scores. (The stored run used
    // to be read back to be scored, and its rows read and rewritten per scorer: each answer passed SQLite three
    // more times and was held twice more at the peak.) The results are first made what load_stored_run would
    // read back, so the scores are the ones score_stored_run gives for the stored rows.
    std::vector<std::optional<int64_t>> task_ids(run.results.size());
    if (ds) {
        for (size_t i = 0; i < run.results.size(); ++i) {
            MATRIX_TRY(task_ids[i], tasks.find_by_external_id(ds->id, run.results[i].task_id));
        }
    }
    for (size_t i = 0; i < run.results.size(); ++i) as_read_back(run.results[i], task_ids[i].has_value());
    const json config = {{"format", run.format},
                         {"source_path", run.source_path},
                         {"date", run.date},
                         {"settings", run.settings},
                         {"warnings", run.warnings}};
    std::map<std::string, json> task_scores;  // task key -> its row's scores
    std::vector<std::pair<ScorerKind, RunScore>> scores;
    {
        std::vector<TaskResult> copies;
        const std::vector<TaskResult>* results = &run.results;
        if (auto view = rows_view(run.results, task_ids)) {
            copies = std::move(*view);
            results = &copies;
        }
        MATRIX_TRY(auto bench, detail::scoring_benchmark(project, run.benchmark,
                                                         ds ? std::optional<int64_t>(ds->id) : std::nullopt));
        std::vector<ScorerKind> scorers = {ScorerKind::official};
        if (run.benchmark == BenchKind::gta) scorers.push_back(ScorerKind::matrix);
        for (ScorerKind scorer : scorers) {
            MATRIX_TRY(RunScore score,
                       detail::score_results(run.benchmark, *results, bench ? &*bench : nullptr, config, scorer));
            for (const auto& t : score.tasks) detail::put_task_score(task_scores[t.task_id], t, to_string(scorer));
            scores.emplace_back(scorer, std::move(score));
        }
    }

    store::Transaction tx(db);
    if (!tx.begin_status().ok()) return tx.begin_status().error();
    store::Run r;
    r.kind = "eval";
    r.name = options.name.empty() ? run.name : options.name;
    r.status = "finished";
    r.config = config.dump();
    if (ds) r.dataset_id = ds->id;
    r.benchmark = to_string(run.benchmark);
    if (!run.model.empty()) r.model_path = run.model;
    if (!run.adapter.empty()) r.adapter_path = run.adapter;
    MATRIX_TRY(int64_t run_id, runs.create(r));
    int64_t done = 0;
    for (size_t i = 0; i < run.results.size(); ++i) {
        const TaskResult& t = run.results[i];
        if (progress.cancelled()) return make_error("cancelled", run.source_path);
        progress(++done, int64_t(run.results.size()), t.task_id);
        store::RunResult rr;
        rr.run_id = run_id;
        rr.task_key = t.task_id;
        rr.answer = t.answer;
        if (!t.error.empty()) rr.error = t.error;
        if (auto it = task_scores.find(t.task_id); it != task_scores.end()) rr.scores = it->second.dump();
        json extra = {{"ground_truth", t.ground_truth}, {"question", t.question}};
        rr.task_id = task_ids[i];
        if (!t.steps.empty()) {
            if (rr.task_id) {
                store::Trajectory tr;
                tr.task_id = *rr.task_id;
                tr.source = "run";
                tr.run_id = run_id;
                tr.final_answer = t.answer;
                tr.steps = run_steps_of(t);
                store::TrajectoryInsertOptions opt;
                opt.refresh_task_counters = false;
                auto tid = trajectories.insert(tr, opt);
                if (!tid.ok()) return tid.error().within("task " + t.task_id);
                rr.trajectory_id = tid.value();
            } else {
                // No project task to hang a trajectory on: keep the steps with the result.
                json steps = json::array();
                for (const auto& s : t.steps) {
                    json calls = json::array();
                    for (const auto& c : s.tool_calls) calls.push_back({{"name", c.name}, {"arguments", c.arguments}});
                    steps.push_back({{"index", s.index}, {"thought", s.thought}, {"code", s.code},
                                     {"tool_calls", calls}, {"observation", s.observation},
                                     {"is_error", s.is_error}, {"is_final", s.is_final}});
                }
                extra["steps"] = steps;
            }
        }
        rr.extra = extra.dump();
        auto put = runs.put_result(rr);
        if (!put.ok()) return put.error().within("task " + t.task_id);
    }
    store::ProvenanceRepo prov(db);
    if (ds) {
        auto l = prov.link("run", run_id, "dataset", ds->id, "evaluated_on");
        if (!l.ok()) return l.error();
    }
    if (options.training_run_id) {
        auto l = prov.link("run", run_id, "run", *options.training_run_id, "evaluates");
        if (!l.ok()) return l.error();
    }
    if (!run.warnings.empty()) {
        std::string log;
        for (const auto& w : run.warnings) log += "warning: " + w + "\n";
        MATRIX_CHECK(runs.append_log(run_id, log));
    }
    json summary = json::object();
    for (const auto& [scorer, score] : scores) {
        const std::string key = to_string(scorer);
        std::vector<std::pair<std::string, double>> metrics;
        for (const auto& [k, v] : score.metrics) metrics.emplace_back(key + "/" + k, v);
        MATRIX_CHECK(runs.append_metrics(run_id, 0, metrics));
        summary[key] = detail::summary_entry(score);
    }
    MATRIX_CHECK(runs.set_summary(run_id, summary.dump()));
    MATRIX_CHECK(tx.commit());
    MATRIX_CHECK(runs.set_status(run_id, "finished"));
    return run_id;
}

Result<StoredRun> load_stored_run(store::Project& project, int64_t run_id) {
    store::RunRepo runs(project.db());
    store::TrajectoryRepo trajectories(project.db());
    MATRIX_TRY(auto run, runs.get(run_id));
    if (!run) return make_error("no run " + std::to_string(run_id));
    if (run->kind != "eval" || !run->benchmark) return make_error("run " + std::to_string(run_id) + " is not an eval run");
    auto kind = bench_kind_from_string(*run->benchmark);
    if (!kind) return make_error("run " + std::to_string(run_id) + " has an unknown benchmark '" + *run->benchmark + "'");
    StoredRun out;
    out.run = *run;
    out.benchmark = *kind;
    MATRIX_TRY(auto rows, runs.results(run_id));
    for (const auto& row : rows) {
        TaskResult t;
        t.task_id = row.task_key;
        t.answer = row.answer;
        t.error = row.error.value_or("");
        const json extra = parse_or(row.extra, json::object());
        if (extra.contains("ground_truth")) t.ground_truth = extra["ground_truth"];
        if (extra.contains("question") && extra["question"].is_string()) t.question = extra["question"];
        if (extra.contains("step_predictions") && extra["step_predictions"].is_array()) {
            for (const auto& m : extra["step_predictions"]) t.step_predictions.push_back(m);
        }
        if (row.trajectory_id) {
            MATRIX_TRY(auto tr, trajectories.get(*row.trajectory_id, true));
            if (tr) {
                for (const auto& s : tr->steps) t.steps.push_back(run_step_from_store(s));
            }
        } else if (extra.contains("steps") && extra["steps"].is_array()) {
            for (const auto& s : extra["steps"]) {
                RunStep st;
                st.index = s.value("index", 0);
                st.thought = s.value("thought", std::string());
                st.code = s.value("code", std::string());
                st.observation = s.value("observation", std::string());
                st.is_error = s.value("is_error", false);
                st.is_final = s.value("is_final", false);
                for (const auto& c : s.value("tool_calls", json::array())) {
                    st.tool_calls.push_back({c.value("name", std::string()), c.value("arguments", json::object())});
                }
                t.steps.push_back(std::move(st));
            }
        }
        out.results.push_back(std::move(t));
        out.trajectory_ids.push_back(row.trajectory_id);
        out.task_ids.push_back(row.task_id);
    }
    return out;
}

Result<std::vector<store::Run>> list_eval_runs(store::Project& project) {
    store::RunRepo runs(project.db());
    return runs.list(std::string("eval"));
}

Result<TaskAcrossRuns> load_task_across_runs(store::Project& project, const std::vector<int64_t>& ids,
                                             const std::string& task_key) {
    TaskAcrossRuns out;
    out.task_key = task_key;
    std::optional<int64_t> task_id;
    for (int64_t id : ids) {
        MATRIX_TRY(StoredRun r, load_stored_run(project, id));
        TaskRunSide side;
        side.run_id = id;
        side.label = "#" + std::to_string(id) + " " + r.run.name;
        for (size_t i = 0; i < r.results.size(); ++i) {
            if (r.results[i].task_id != task_key) continue;
            side.present = true;
            side.answer = r.results[i].answer;
            side.error = r.results[i].error;
            side.steps = r.results[i].steps;
            if (out.question.empty()) out.question = r.results[i].question;
            if (!task_id && r.task_ids[i]) task_id = r.task_ids[i];
            if (out.gold_answer.empty() && !r.results[i].ground_truth.is_null()) {
                out.gold_answer = text_of(r.results[i].ground_truth);
            }
        }
        out.runs.push_back(std::move(side));
    }
    if (task_id) {
        store::TaskRepo tasks(project.db());
        MATRIX_TRY(auto task, tasks.get(*task_id));
        if (task) {
            out.question = task->query;
            if (task->answer) out.gold_answer = *task->answer;
        }
        store::TrajectoryRepo trajectories(project.db());
        MATRIX_TRY(auto list, trajectories.list_for_task(*task_id));
        for (const auto& t : list) {
            if (t.source != "gold") continue;
            MATRIX_TRY(auto full, trajectories.get(t.id, true));
            if (full) {
                for (const auto& s : full->steps) out.gold.push_back(run_step_from_store(s));
            }
            break;
        }
        store::MediaRepo media(project.db());
        MATRIX_TRY(auto files, media.for_task(*task_id));
        for (const auto& f : files) {
            out.image_labels.push_back(f.media.path);
            out.image_paths.push_back(f.media.resolved_path.value_or(""));
        }
    }
    return out;
}

}  // namespace matrix::eval
