// Benchmarks and eval runs in the project store (see bench_store.h). Only store repositories are used here.
#include "core/eval/bench_store.h"

#include <filesystem>
#include <map>

#include "core/eval/agentx_judge_scoring.h"
#include "core/eval/gta_step_scoring.h"
#include "core/eval/json_file.h"
#include "core/eval/py_compat.h"
#include "core/conversation/action.h"
#include "core/store/dataset_repo.h"
#include "core/store/media_repo.h"
#include "core/store/provenance.h"
#include "core/store/run_repo.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"
#include "core/util/sha256.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace matrix::eval {

namespace {

// "Name(key='value', n=3)": a readable code line for a gold tool call (gold dialogs carry no code).
std::string render_call(const ToolCallSpec& c) {
    std::string out = c.name + "(";
    bool first = true;
    if (c.arguments.is_object()) {
        for (auto it = c.arguments.begin(); it != c.arguments.end(); ++it) {
            if (!first) out += ", ";
            first = false;
            out += it.key() + "=" + (it.value().is_string() ? json(it.value()).dump() : py::str_of(it.value()));
        }
    }
    return out + ")";
}

std::vector<store::Step> gold_steps_of(const BenchItem& item) {
    std::vector<store::Step> steps;
    for (const auto& g : item.gold_steps) {
        if (g.role == "assistant") {
            store::Step s;
            s.idx = int(steps.size());
            if (!g.raw.is_null()) s.action = g.raw.dump();
            s.thought = g.thought;
            int pos = 0;
            for (const auto& c : g.tool_calls) {
                if (!s.code.empty()) s.code += "\n";
                s.code += render_call(c);
                store::ToolCallRow row;
                row.position = pos++;
                row.name = c.name;
                row.arguments = c.arguments.is_object() ? c.arguments.dump() : json{{"input", c.arguments}}.dump();
                row.known = true;
                s.tool_calls.push_back(std::move(row));
            }
            if (!g.observation.empty()) s.observation = g.observation;
            if (g.tool_calls.empty() && !g.content.empty()) {
                s.code = "final_answer(" + json(g.content).dump() + ")";
                s.is_final = true;
                store::ToolCallRow row;
                row.name = "final_answer";
                row.arguments = json{{"answer", g.content}}.dump();
                row.known = true;
                s.tool_calls.push_back(std::move(row));
            }
            steps.push_back(std::move(s));
        } else if (g.role == "tool" && !steps.empty()) {
            steps.back().observation = g.content;
        }
    }
    return steps;
}

std::optional<std::string> resolve_file(const BenchFile& f, const std::vector<std::string>& roots) {
    if (!f.resolved.empty()) return f.resolved;
    std::error_code ec;
    for (const auto& r : roots) {
        for (const fs::path& cand : {fs::path(r) / f.path, fs::path(r) / fs::path(f.path).filename()}) {
            if (fs::is_regular_file(cand, ec)) return fs::absolute(cand, ec).lexically_normal().string();
        }
    }
    return std::nullopt;
}

Result<std::optional<store::Dataset>> find_dataset(store::Project& project, BenchKind kind, const std::string& name) {
    store::DatasetRepo repo(project.db());
    if (!name.empty()) return repo.find(name);
    MATRIX_TRY(auto all, repo.list());
    for (auto& d : all) {
        if (d.kind == to_string(kind)) return std::optional<store::Dataset>(d);
    }
    return std::optional<store::Dataset>();
}

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

json parse_or(const std::optional<std::string>& text, json fallback) {
    if (!text || text->empty()) return fallback;
    try {
        return json::parse(*text);
    } catch (const json::exception&) {
        return fallback;
    }
}

}  // namespace

Result<StoredBenchmark> store_benchmark(store::Project& project, const Benchmark& bench,
                                        const StoreBenchmarkOptions& options, const Progress& progress) {
    store::Database& db = project.db();
    store::DatasetRepo datasets(db);
    store::TaskRepo tasks(db);
    store::MediaRepo media(db);
    store::TrajectoryRepo trajectories(db);
    const std::string name = options.dataset_name.empty() ? std::string(to_string(bench.kind)) : options.dataset_name;
    std::vector<std::string> roots = options.image_roots;
    if (auto pr = project.image_roots(); pr.ok()) roots.insert(roots.end(), pr->begin(), pr->end());

    store::Transaction tx(db);
    if (!tx.begin_status().ok()) return tx.begin_status().error();
    MATRIX_TRY(store::Dataset ds, datasets.find_or_create(name, to_string(bench.kind), bench.source_path));
    if (!options.image_roots.empty()) MATRIX_CHECK(datasets.set_image_roots(ds.id, options.image_roots));
    StoredBenchmark out;
    out.dataset_id = ds.id;
    MATRIX_TRY(int64_t ordinal, tasks.next_ordinal(ds.id));
    int64_t done = 0;
    for (const auto& item : bench.items) {
        if (progress.cancelled()) return make_error("cancelled", bench.source_path);
        progress(++done, int64_t(bench.items.size()), item.id);
        const std::string ctx = "benchmark item " + item.id;
        MATRIX_TRY(auto existing, tasks.find_by_external_id(ds.id, item.id));
        if (existing) {
            ++out.n_existing;
            continue;
        }
        // The media first, then the task row with its counters, then its links and gold trajectory: the row is
        // written once. (Its counters used to be filled in by two UPDATEs, each of which reads and rewrites the
        // whole row, query and item JSON included: with a 12 MB field, 140 MB per UPDATE.)
        store::Task t;
        std::vector<std::pair<std::string, int64_t>> links;  // role, media id
        for (const auto& f : item.files) {
            store::Media m;
            m.path = f.path;
            m.resolved_path = resolve_file(f, roots);
            if (m.resolved_path) {
                m.sha256 = sha256_file_hex(*m.resolved_path);
                std::error_code ec;
                m.size_bytes = int64_t(fs::file_size(*m.resolved_path, ec));
            } else {
                m.error = "not found beside the benchmark or under the image roots";
                ++out.n_media_missing;
            }
            ++out.n_media;
            auto mid = media.upsert(m, m.resolved_path.has_value());
            if (!mid.ok()) return mid.error().within(ctx);
            // Missing as the store has it (an existing row keeps a path found earlier).
            MATRIX_TRY(int64_t missing, db.query_int64("SELECT resolved_path IS NULL FROM media WHERE id=" +
                                                       std::to_string(mid.value())));
            if (missing) ++t.n_missing_media;
            const std::string role = f.type == "image" ? "image" : "attachment";
            if (role == "image") ++t.n_images;
            links.emplace_back(role, mid.value());
        }
        store::Trajectory tr;
        tr.source = "gold";
        tr.final_answer = item.gold_answer_text;
        tr.steps = gold_steps_of(item);
        t.dataset_id = ds.id;
        t.record_key = item.id;
        t.external_id = item.id;
        t.ordinal = ordinal++;
        t.query = item.query;
        t.prompt_text = item.query;
        t.answer = item.gold_answer_text;
        t.ground_truth = item.gold_answer.dump();
        t.source = to_string(bench.kind);
        if (item.level > 0) t.level = std::to_string(item.level);
        if (!item.category.empty()) t.category = item.category;
        {
            json extra = json::object();
            extra["bench_item"] = item_to_json(item);  // moved in: an initializer list would copy the item's JSON
            t.extra = extra.dump();
        }
        t.n_steps = int(tr.steps.size());
        t.tools = store::tools_of(tr.steps);
        // The full-text row is written once: with the gold steps when there are any.
        auto task_id = tasks.insert(t, /*index_fts=*/tr.steps.empty());
        if (!task_id.ok()) return task_id.error().within(ctx);
        t.extra.reset();
        t.prompt_text.reset();
        int position = 0;
        for (const auto& [role, mid] : links) MATRIX_CHECK(media.link(task_id.value(), role, position++, mid));
        if (!tr.steps.empty()) {
            tr.task_id = task_id.value();
            store::TrajectoryInsertOptions topt;
            topt.task_fts_indexed = false;
            topt.refresh_task_counters = false;  // in the task row above
            topt.new_task_query = std::move(t.query);
            auto tid = trajectories.insert(tr, topt);
            if (!tid.ok()) return tid.error().within(ctx);
            ++out.n_trajectories;
        }
        ++out.n_added;
    }
    MATRIX_CHECK(tx.commit());
    return out;
}

Result<Benchmark> load_stored_benchmark(store::Project& project, BenchKind kind, const std::string& dataset_name) {
    MATRIX_TRY(auto ds, find_dataset(project, kind, dataset_name));
    if (!ds) {
        return make_error(std::string("no ") + to_string(kind) + " benchmark in the project" +
                          (dataset_name.empty() ? "" : " (dataset '" + dataset_name + "')"));
    }
    store::TaskRepo tasks(project.db());
    store::TaskFilter filter;
    filter.dataset_id = ds->id;
    Benchmark bench;
    bench.kind = kind;
    bench.name = ds->name;
    bench.source_path = ds->source_path;
    store::TaskPageRequest req;
    req.sort = store::TaskSort::Ordinal;
    req.limit = 1000;
    for (req.offset = 0;; req.offset += req.limit) {
        MATRIX_TRY(auto page, tasks.page(filter, req));
        for (const auto& summary : page) {
            MATRIX_TRY(auto task, tasks.get(summary.id));
            if (!task) continue;
            const json extra = parse_or(task->extra, json::object());
            if (extra.contains("bench_item")) {
                bench.items.push_back(item_from_json(extra["bench_item"]));
            } else {  // a task stored by something else: what the row itself says
                BenchItem item;
                item.id = task->external_id;
                item.query = task->query;
                item.gold_answer = parse_or(task->ground_truth, json());
                item.gold_answer_text = task->answer.value_or("");
                item.category = task->category.value_or("");
                bench.items.push_back(std::move(item));
            }
        }
        if (int64_t(page.size()) < req.limit) break;
    }
    return bench;
}

Result<int64_t> store_run(store::Project& project, const ImportedRun& run, const StoreRunOptions& options,
                          const Progress& progress) {
    store::Database& db = project.db();
    store::RunRepo runs(db);
    store::TaskRepo tasks(db);
    store::TrajectoryRepo trajectories(db);
    MATRIX_TRY(auto ds, find_dataset(project, run.benchmark, options.dataset_name));
    if (!options.dataset_name.empty() && !ds) return make_error("no dataset '" + options.dataset_name + "'");

    int64_t run_id = 0;
    {
        store::Transaction tx(db);
        if (!tx.begin_status().ok()) return tx.begin_status().error();
        store::Run r;
        r.kind = "eval";
        r.name = options.name.empty() ? run.name : options.name;
        r.status = "finished";
        r.config = json{{"format", run.format},
                        {"source_path", run.source_path},
                        {"date", run.date},
                        {"settings", run.settings},
                        {"warnings", run.warnings}}
                       .dump();
        if (ds) r.dataset_id = ds->id;
        r.benchmark = to_string(run.benchmark);
        if (!run.model.empty()) r.model_path = run.model;
        if (!run.adapter.empty()) r.adapter_path = run.adapter;
        MATRIX_TRY(run_id, runs.create(r));
        int64_t done = 0;
        for (const auto& t : run.results) {
            if (progress.cancelled()) return make_error("cancelled", run.source_path);
            progress(++done, int64_t(run.results.size()), t.task_id);
            store::RunResult rr;
            rr.run_id = run_id;
            rr.task_key = t.task_id;
            rr.answer = t.answer;
            if (!t.error.empty()) rr.error = t.error;
            json extra = {{"ground_truth", t.ground_truth}, {"question", t.question}};
            if (ds) {
                MATRIX_TRY(auto task_id, tasks.find_by_external_id(ds->id, t.task_id));
                rr.task_id = task_id;
            }
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
        MATRIX_CHECK(tx.commit());
    }
    MATRIX_TRY(auto official, score_stored_run(project, run_id, ScorerKind::official));
    (void)official;
    if (run.benchmark == BenchKind::gta) {
        MATRIX_TRY(auto lenient, score_stored_run(project, run_id, ScorerKind::matrix));
        (void)lenient;
    }
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

Result<RunScore> score_stored_run(store::Project& project, int64_t run_id, ScorerKind scorer) {
    MATRIX_TRY(StoredRun run, load_stored_run(project, run_id));
    std::optional<Benchmark> bench;
    std::string dataset_name;
    if (run.run.dataset_id) {
        store::DatasetRepo datasets(project.db());
        MATRIX_TRY(auto ds, datasets.get(*run.run.dataset_id));
        if (ds) dataset_name = ds->name;
    }
    {
        auto b = load_stored_benchmark(project, run.benchmark, dataset_name);
        if (b.ok()) bench = std::move(b).value();
    }
    const json config = parse_or(run.run.config, json::object());
    const bool step_mode = config.is_object() && config.value("mode", std::string()) == "step";
    RunScore score;
    if (step_mode && run.benchmark == BenchKind::gta && scorer == ScorerKind::official) {
        if (!bench) return make_error("a GTA step-by-step run is scored against the gold dialogs: load the benchmark");
        MATRIX_TRY(score, score_gta_steps(run.results, *bench));
    } else {
        MATRIX_TRY(score, score_run(run.benchmark, run.results, bench ? &*bench : nullptr, scorer));
    }
    if (!bench) score.notes.push_back("benchmark not in the project: scored against the run's recorded ground truth");

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
        if (!scores.is_object()) scores = json::object();
        scores[key] = it->second->score ? json(*it->second->score) : json();
        scores[key + "_detail"] = it->second->detail;
        scores["group"] = it->second->group;
        row.scores = scores.dump();
        MATRIX_TRY(int64_t id, runs.put_result(row));
        (void)id;
    }
    std::vector<std::pair<std::string, double>> metrics;
    for (const auto& [k, v] : score.metrics) metrics.emplace_back(key + "/" + k, v);
    MATRIX_CHECK(runs.append_metrics(run_id, 0, metrics));
    json summary = parse_or(run.run.summary, json::object());
    if (!summary.is_object()) summary = json::object();
    json not_scored = json::object();  // reason -> count
    for (const auto& t : score.tasks) {
        if (!t.score) {
            const std::string reason = t.not_scored.empty() ? "skipped" : t.not_scored;
            not_scored[reason] = not_scored.value(reason, 0) + 1;
        }
    }
    summary[key] = {{"metrics", score.metrics}, {"primary_metric", score.primary_metric},
                    {"by_group", score.by_group}, {"notes", score.notes}, {"not_scored", not_scored}};
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
