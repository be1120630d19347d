// Evaluation runs, the execution: workers take items, run the agent (end to end) or answer each gold step
// (step mode), score them and store the outcome (see eval_run.h). The run's record (settings, creation,
// status) is in eval_run_record.cpp.
#include "core/eval/eval_run.h"
#include "core/eval/eval_run_detail.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <signal.h>
#include <unistd.h>

#include "core/agent/agent_job.h"
#include "core/eval/bench_store.h"
#include "core/eval/gta_step_scoring.h"
#include "core/eval/json_file.h"
#include "core/eval/judge_run.h"
#include "core/eval/run_scoring.h"
#include "core/conversation/action.h"
#include "core/eval/gta_step.h"
#include "core/store/dataset_repo.h"
#include "core/store/provenance.h"
#include "core/store/run_repo.h"
#include "core/store/task_repo.h"

using nlohmann::json;
namespace fs = std::filesystem;

namespace matrix::eval {

using detail::agent_settings_of;
using detail::parse_or_object;
using detail::runs_matrix_eval;

namespace {

using Clock = std::chrono::steady_clock;

// A controller shared by all workers: one request at a time (a local model: one GPU queue).
class SerialController : public agent::Controller {
public:
    explicit SerialController(std::shared_ptr<agent::Controller> inner) : m_inner(std::move(inner)) {}
    std::string describe() const override { return m_inner->describe(); }
    Result<std::vector<agent::Candidate>> generate(const std::vector<tok::ChatMessage>& messages,
                                                   const agent::GenerationSettings& settings,
                                                   const std::atomic<bool>* cancel) override {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_inner->generate(messages, settings, cancel);
    }
    // Tools share the inner controller's engine (it serves their calls under its own lock).
    agent::VlmEngine tool_engine() override { return m_inner->tool_engine(); }

private:
    std::shared_ptr<agent::Controller> m_inner;
    std::mutex m_mutex;
};

// The benchmark's task text for the agent, as the reference agent receives it.
void format_task(eval::BenchKind kind, const eval::BenchItem& item, agent::PreparedTask& p) {
    if (kind == eval::BenchKind::gta) {
        p.task.task_text = gta_task_text(item);
        return;
    }
    std::string text = "Task: " + item.query;
    if (!item.files.empty()) {
        text += "\nAttachment: ";
        for (size_t i = 0; i < item.files.size(); ++i) text += (i ? "; " : "") + item.files[i].path;
    }
    p.task.task_text = text;
    if (kind == eval::BenchKind::gaia) {  // only .png / .jpg files are given to the model as images
        std::vector<std::string> images;
        for (const auto& f : p.task.images) {
            std::string ext = fs::path(f).extension().string();
            for (auto& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
            if (ext == ".png" || ext == ".jpg" || ext == ".jpeg") images.push_back(f);
        }
        p.task.images = images;
    }
}

json run_step_json(int index, const std::string& action) {
    const conversation::ParsedAction a = conversation::parse_action(action);
    json calls = json::array();
    for (const auto& c : a.tool_calls) calls.push_back({{"name", c.name}, {"arguments", c.arguments}});
    return {{"index", index}, {"thought", a.thought},   {"code", a.code},     {"tool_calls", calls},
            {"observation", ""}, {"is_error", !a.well_formed()}, {"is_final", a.is_final}};
}

bool row_finished(const store::RunResult& r) {
    const json extra = parse_or_object(r.extra.value_or("{}"));
    const std::string st = extra.value("status", std::string());
    return !st.empty() && st != "running" && st != "cancelled";
}

}  // namespace

namespace {

// Everything the workers share.
struct Job {
    std::string db_path;
    int64_t run_id = 0;
    EvalSettings settings;
    eval::Benchmark bench;
    std::map<std::string, int> ordinal;          // item id -> position in the benchmark
    std::map<std::string, int64_t> task_ids;     // item id -> project task
    std::vector<std::string> pending;
    std::atomic<size_t> next{0};
    const std::atomic<bool>* cancel = nullptr;
    const std::atomic<bool>* pause = nullptr;
    const EvalEvents* events = nullptr;
    std::mutex mutex;  // events, progress, first error
    EvalProgress progress;
    Clock::time_point started;
    int done_before = 0;
    std::optional<Error> fatal;

    bool stopping() const {
        return (cancel && cancel->load()) || (pause && pause->load());
    }
};

// Live accuracy of one finished row: (correct, scored).
std::pair<double, int> live_score(const Job& job, const eval::TaskResult& r) {
    if (job.settings.mode == "step") {
        auto s = eval::score_gta_steps({r}, job.bench);
        if (!s.ok() || s->tasks.empty()) return {0, 0};
        const json& d = s->tasks[0].detail;
        return {d.value("arg_correct", 0), d.value("n_tool_steps", 0)};
    }
    auto s = eval::score_run(job.settings.benchmark, {r}, &job.bench, eval::ScorerKind::official);
    if (!s.ok() || s->tasks.empty() || !s->tasks[0].score) return {0, 0};
    return {*s->tasks[0].score, 1};
}

void item_finished(Job& job, store::Project& project, const std::string& key, const std::string& outcome,
                   const eval::TaskResult& result) {
    std::lock_guard<std::mutex> lock(job.mutex);
    EvalProgress& p = job.progress;
    ++p.done;
    const auto [c, n] = live_score(job, result);
    p.correct += int(c + 0.5);
    p.scored += n;
    p.item = key;
    p.outcome = outcome;
    p.elapsed_s = std::chrono::duration<double>(Clock::now() - job.started).count();
    const int done_now = p.done - job.done_before;
    p.eta_s = done_now > 0 ? p.elapsed_s / done_now * (p.total - p.done) : -1;
    store::RunRepo runs(project.db());
    std::vector<std::pair<std::string, double>> m = {{"live/done", p.done}, {"live/total", p.total}};
    if (p.scored > 0) m.emplace_back("live/accuracy", 100.0 * p.correct / p.scored);
    (void)runs.append_metrics(job.run_id, p.done, m);
    if (job.events && job.events->on_item_done) job.events->on_item_done(p);
}

Status run_step_item(Job& job, store::Project& project, StepAnswerer& answerer, const eval::BenchItem& item) {
    std::vector<std::string> images;
    for (const auto& f : item.files) {
        std::error_code ec;
        if (f.type == "image" && !f.resolved.empty() && fs::exists(f.resolved, ec)) images.push_back(f.resolved);
    }
    const auto contexts = gta_step_contexts(item, job.ordinal.at(item.id), gta_step_system_prompt(item), images);
    json predictions = json::array(), actions = json::array(), steps = json::array();
    std::string error;
    std::optional<std::string> answer;
    for (const auto& ctx : contexts) {
        if (job.stopping()) return make_error("stopped");
        Result<std::string> text = make_error("not asked");
        for (int attempt = 0;; ++attempt) {
            text = answerer.answer(ctx, job.cancel);
            if (text.ok() || !agent::is_infrastructure_error(text.error()) || attempt >= job.settings.loop.infrastructure_retries)
                break;
            std::this_thread::sleep_for(std::chrono::duration<double>(job.settings.loop.retry_backoff_s * (1 << attempt)));
        }
        if (job.stopping()) return make_error("stopped");
        if (!text.ok()) {
            // The step counts as wrong (a fixed denominator); the reason stays with the item.
            if (error.empty()) error = "step " + std::to_string(ctx.position) + ": " + text.error().to_string();
            predictions.push_back({{"role", "assistant"}, {"content", ""},
                                   {"error", {{"type", "controller"}, {"msg", text.error().message}}}});
            actions.push_back(nullptr);
            continue;
        }
        json msg = gta_message_of_action(*text);
        if (!msg.contains("tool_calls")) answer = msg.value("content", std::string());
        predictions.push_back(msg);
        actions.push_back(*text);
        steps.push_back(run_step_json(ctx.position, *text));
    }
    store::RunResult rr;
    rr.run_id = job.run_id;
    rr.task_key = item.id;
    if (auto it = job.task_ids.find(item.id); it != job.task_ids.end()) rr.task_id = it->second;
    rr.answer = answer;
    if (!error.empty()) rr.error = error;
    rr.extra = json{{"status", error.empty() ? "done" : "failed"}, {"mode", "step"},
                    {"step_predictions", predictions}, {"actions", actions}, {"steps", steps},
                    {"ground_truth", item.gold_answer}, {"question", item.query}}
                   .dump();
    MATRIX_TRY(int64_t id, store::RunRepo(project.db()).put_result(rr));
    (void)id;
    eval::TaskResult tr;
    tr.task_id = item.id;
    tr.answer = answer;
    for (const auto& p : predictions) tr.step_predictions.push_back(p);
    item_finished(job, project, item.id, error.empty() ? "ok" : "failed: " + error, tr);
    return {};
}

Status put_outcome(store::Project& project, int64_t run_id, const std::string& key, std::optional<int64_t> task_id,
                   std::optional<int64_t> trajectory_id, const std::string& status, const std::string& reason) {
    store::RunResult rr;
    rr.run_id = run_id;
    rr.task_key = key;
    rr.task_id = task_id;
    rr.trajectory_id = trajectory_id;
    rr.error = reason;
    rr.extra = json{{"status", status}, {"reason", reason}}.dump();
    MATRIX_TRY(int64_t id, store::RunRepo(project.db()).put_result(rr));
    (void)id;
    return {};
}

struct Watch {
    std::atomic<bool> cancel{false};
    std::atomic<bool> timed_out{false};
    std::atomic<int64_t> deadline_ms{0};  // steady clock ms; 0: idle
};

Status run_e2e_item(Job& job, store::Project& project, agent::Controller& controller, const agent::ToolRegistry& tools,
                    const eval::BenchItem& item, Watch& watch) {
    auto tid = job.task_ids.find(item.id);
    if (tid == job.task_ids.end()) {
        MATRIX_CHECK(put_outcome(project, job.run_id, item.id, std::nullopt, std::nullopt, "crashed",
                                 "crashed: the item is not a task of the project"));
        eval::TaskResult tr;
        tr.task_id = item.id;
        item_finished(job, project, item.id, "crashed", tr);
        return {};
    }
    agent::AgentRunSettings as = agent_settings_of(job.settings);
    agent::TaskRunEvents ev;
    ev.on_prepared = [&](agent::PreparedTask& p) { format_task(job.settings.benchmark, item, p); };
    ev.on_step = [&](const store::Step& s) {
        if (job.events && job.events->on_step) {
            std::lock_guard<std::mutex> lock(job.mutex);
            job.events->on_step(item.id, s);
        }
    };
    ev.on_note = [&](const std::string& n) {
        if (job.events && job.events->on_note) {
            std::lock_guard<std::mutex> lock(job.mutex);
            job.events->on_note(item.id + ": " + n);
        }
    };
    watch.cancel = false;
    watch.timed_out = false;
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
    watch.deadline_ms = job.settings.item_timeout_s > 0 ? now_ms + int64_t(job.settings.item_timeout_s * 1000) : INT64_MAX;
    auto out = agent::run_task(project.db(), job.run_id, tid->second, controller, tools, as, ev, &watch.cancel);
    watch.deadline_ms = 0;
    if (job.stopping() && !watch.timed_out) return make_error("stopped");
    eval::TaskResult tr;
    tr.task_id = item.id;
    std::string outcome;
    if (!out.ok()) {
        const std::string reason = "crashed: " + out.error().to_string();
        MATRIX_CHECK(put_outcome(project, job.run_id, item.id, tid->second, std::nullopt, "crashed", reason));
        outcome = reason;
    } else if (watch.timed_out) {
        const std::string reason = "timeout after " + std::to_string(int(job.settings.item_timeout_s)) + " s";
        MATRIX_CHECK(put_outcome(project, job.run_id, item.id, tid->second, out->trajectory_id, "timeout", reason));
        outcome = "timeout";
    } else {
        const agent::AgentResult& r = out->result;
        if (r.status == "answered" || r.status == "forced") {
            tr.answer = r.answer_text;
            outcome = r.status;
        } else if (r.status == "no_answer") {
            const std::string reason = "no answer (" + r.stop_reason + ")";
            MATRIX_CHECK(put_outcome(project, job.run_id, item.id, tid->second, out->trajectory_id, "no_answer", reason));
            outcome = reason;
        } else {
            outcome = r.status + (r.invalid_reason.empty() ? "" : ": " + r.invalid_reason);
        }
        for (const auto& s : r.trajectory) {
            eval::RunStep st;
            st.index = s.idx;
            for (const auto& c : s.tool_calls) st.tool_calls.push_back({c.name, json::parse(c.arguments, nullptr, false)});
            tr.steps.push_back(std::move(st));
        }
    }
    item_finished(job, project, item.id, outcome, tr);
    return {};
}

void worker_main(Job& job, const ControllerSource& source, std::shared_ptr<agent::Controller> shared, Watch& watch) {
    store::OpenOptions o;
    o.create = false;
    o.busy_timeout_ms = 60000;
    auto project = store::Project::open(job.db_path, o);
    auto fail = [&](const Error& e) {
        std::lock_guard<std::mutex> lock(job.mutex);
        if (!job.fatal) job.fatal = e;
    };
    if (!project.ok()) return fail(project.error());
    std::unique_ptr<StepAnswerer> answerer;
    std::unique_ptr<agent::Controller> own;
    std::optional<agent::ToolRegistry> tools;
    agent::Controller* controller = shared.get();
    const std::string kind = job.settings.controller.value("kind", std::string());
    if (kind == "gold") {
        answerer = std::make_unique<GoldStepAnswerer>();
    } else if (kind == "perturbed") {
        answerer = std::make_unique<PerturbedGoldAnswerer>();
    } else {
        if (!controller) {
            auto made = source.make();
            if (!made.ok()) return fail(made.error());
            own = std::move(made).value();
            controller = own.get();
        }
        if (job.settings.mode == "step") {
            // The controller is this worker's (or the serialised shared one): no extra lock here.
            std::shared_ptr<agent::Controller> alias(std::shared_ptr<agent::Controller>(), controller);
            answerer = std::make_unique<ControllerStepAnswerer>(alias, job.settings.loop.generation, false);
        }
    }
    if (job.settings.mode == "e2e") {
        // The tools get the controller's engine (visualizer, objectlocation, questions about files).
        auto host = controller ? agent::tool_host_for(controller) : Result<agent::ToolHost>(agent::ToolHost{});
        if (!host.ok()) return fail(host.error());
        auto t = agent::agent_tool_registry(job.settings.tools, *host);
        if (!t.ok()) return fail(t.error());
        tools = std::move(t).value();
    }
    for (;;) {
        if (job.stopping()) return;
        {
            std::lock_guard<std::mutex> lock(job.mutex);
            if (job.fatal) return;
        }
        const size_t i = job.next.fetch_add(1);
        if (i >= job.pending.size()) return;
        const eval::BenchItem* item = job.bench.find(job.pending[i]);
        Status st;
        if (!item) {
            st = put_outcome(*project, job.run_id, job.pending[i], std::nullopt, std::nullopt, "crashed",
                             "crashed: the item is no longer in the benchmark");
        } else if (job.settings.mode == "step") {
            st = run_step_item(job, *project, *answerer, *item);
        } else {
            st = run_e2e_item(job, *project, *controller, *tools, *item, watch);
        }
        if (!st.ok()) {
            if (job.stopping()) return;
            return fail(st.error().within("item " + job.pending[i]));
        }
    }
}

}  // namespace

Result<EvalOutcome> run_eval(const std::string& db_path, int64_t run_id, const ControllerSource& controllers,
                             const EvalEvents& events, const std::atomic<bool>* cancel, const std::atomic<bool>* pause) {
    store::OpenOptions open;
    open.create = false;
    open.busy_timeout_ms = 60000;
    MATRIX_TRY(store::Project project, store::Project::open(db_path, open));
    store::RunRepo runs(project.db());
    MATRIX_TRY(auto run, runs.get(run_id));
    if (!run || run->kind != "eval") return make_error("no eval run " + std::to_string(run_id));
    const json config = parse_or_object(run->config);
    MATRIX_TRY(EvalSettings settings, load_eval_settings(project.db(), run_id));
    if (run->status == "running" && config.contains("process")) {
        const int64_t pid = config["process"].value("pid", int64_t(0));
        if (pid != int64_t(getpid()) && runs_matrix_eval(pid))
            return make_error("run " + std::to_string(run_id) + " is being run by process " + std::to_string(pid));
    }

    Job job;
    job.db_path = db_path;
    job.run_id = run_id;
    job.settings = settings;
    job.cancel = cancel;
    job.pause = pause;
    job.events = &events;
    MATRIX_TRY(job.bench, eval::load_stored_benchmark(project, settings.benchmark, settings.dataset));
    for (size_t i = 0; i < job.bench.items.size(); ++i) job.ordinal[job.bench.items[i].id] = int(i);
    if (run->dataset_id) {
        store::TaskRepo tasks(project.db());
        for (const auto& item : job.bench.items) {
            MATRIX_TRY(auto id, tasks.find_by_external_id(*run->dataset_id, item.id));
            if (id) job.task_ids[item.id] = *id;
        }
    }
    MATRIX_TRY(auto rows, runs.results(run_id));
    std::set<std::string> finished;
    for (const auto& r : rows) {
        if (row_finished(r)) finished.insert(r.task_key);
    }
    EvalOutcome outcome;
    for (const auto& k : config.value("items", json::array())) {
        const std::string key = k.get<std::string>();
        ++outcome.n_items;
        if (!finished.count(key)) job.pending.push_back(key);
    }
    job.progress.total = outcome.n_items;
    job.progress.done = outcome.n_items - int(job.pending.size());
    job.done_before = job.progress.done;
    // Live accuracy continues from the rows kept.
    if (job.progress.done > 0) {
        MATRIX_TRY(auto stored, eval::load_stored_run(project, run_id));
        for (const auto& r : stored.results) {
            if (!finished.count(r.task_id)) continue;
            const auto [c, n] = live_score(job, r);
            job.progress.correct += int(c + 0.5);
            job.progress.scored += n;
        }
    }
    if (events.on_note && job.progress.done > 0)
        events.on_note("resuming: " + std::to_string(job.progress.done) + " of " + std::to_string(outcome.n_items) +
                       " items are finished and kept");
    {
        // Who runs it now: a window that reopens the project reattaches to this process while it lives.
        json c = config;
        c["process"] = {{"pid", int64_t(getpid())}, {"started_at", store::now_iso8601()}};
        MATRIX_CHECK(runs.set_config(run_id, c.dump()));
    }
    MATRIX_CHECK(runs.set_status(run_id, "running"));
    job.started = Clock::now();

    std::shared_ptr<agent::Controller> shared;
    if (!is_replay_controller(settings.controller) && controllers.shared && !job.pending.empty()) {
        if (!controllers.make) return make_error("no controller for this run");
        auto made = controllers.make();
        if (!made.ok()) {
            (void)runs.set_status(run_id, "failed", made.error().to_string());
            return made.error();
        }
        shared = std::make_shared<SerialController>(std::shared_ptr<agent::Controller>(std::move(made).value()));
    } else if (!is_replay_controller(settings.controller) && !controllers.make) {
        return make_error("no controller for this run");
    }
    int n_workers = std::max(1, std::min<int>(settings.workers, int(job.pending.size())));
    if (shared && settings.mode == "e2e" && n_workers > 1) {
        // One GPU queue already serialises the model; what workers would overlap is sandbox work, and forking a
        // sandbox while the CPU BLAS (OpenBLAS's thread pool) computes in another thread can stall it for good.
        n_workers = 1;
        if (events.on_note) events.on_note("a local model runs end-to-end items one at a time");
    }
    std::vector<Watch> watches(size_t(std::max(1, n_workers)));
    std::atomic<bool> all_done{false};
    // Watchdog (e2e): per-item deadlines and the run's cancel/pause reach each item's loop.
    std::thread watchdog([&] {
        while (!all_done.load()) {
            const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
            for (auto& w : watches) {
                const int64_t d = w.deadline_ms.load();
                if (d == 0) continue;
                if (job.stopping()) w.cancel = true;
                else if (now > d) {
                    w.timed_out = true;
                    w.cancel = true;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    });
    std::vector<std::thread> threads;
    for (int w = 0; w < n_workers && !job.pending.empty(); ++w)
        threads.emplace_back(worker_main, std::ref(job), std::cref(controllers), shared, std::ref(watches[size_t(w)]));
    for (auto& t : threads) t.join();
    all_done = true;
    watchdog.join();

    outcome.n_done = job.progress.done;
    outcome.n_redone = 0;
    if (job.fatal) {
        (void)runs.set_status(run_id, "failed", job.fatal->to_string());
        return *job.fatal;
    }
    if (job.stopping() || job.progress.done < outcome.n_items) {
        outcome.status = (pause && pause->load()) ? "paused" : "cancelled";
        MATRIX_CHECK(runs.set_status(run_id, outcome.status));
        return outcome;
    }
    if (settings.benchmark == eval::BenchKind::agentx && !settings.judge_url.empty()) {
        // Judge failures are infrastructure errors: those verdicts are not stored (the metric is computed over
        // the judged tasks and says so) and `matrix bench score --judge-url` asks again for the missing ones.
        MATRIX_TRY(JudgeConfig judge, judge_config_of(settings));
        MATRIX_TRY(auto report, judge_stored_run(project, run_id, judge));
        outcome.judge_requests = report.n_requests;
        outcome.judge_failed = report.n_failed;
        outcome.judge_first_error = report.first_error;
        if (report.n_failed && events.on_note)
            events.on_note("judge: " + std::to_string(report.n_failed) + " of " + std::to_string(report.n_requests) +
                           " requests failed (left out): " + report.first_error);
    }
    MATRIX_TRY(auto official, eval::score_stored_run(project, run_id, eval::ScorerKind::official));
    outcome.metrics["official"] = official.metrics;
    if (settings.benchmark == eval::BenchKind::gta) {
        MATRIX_TRY(auto lenient, eval::score_stored_run(project, run_id, eval::ScorerKind::matrix));
        outcome.metrics["matrix"] = lenient.metrics;
    }
    MATRIX_CHECK(runs.set_status(run_id, "finished"));
    outcome.status = "finished";
    return outcome;
}

}  // namespace matrix::eval
