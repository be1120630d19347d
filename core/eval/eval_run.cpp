// Evaluation runs (see eval_run.h).
#include "core/eval/eval_run.h"

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

namespace {

using Clock = std::chrono::steady_clock;

agent::AgentRunSettings agent_settings_of(const EvalSettings& s) {
    agent::AgentRunSettings a;
    a.name = s.name;
    a.controller = s.controller;
    a.tools = s.tools;
    a.system_prompt = s.system_prompt;
    a.loop = s.loop;
    a.sandbox = s.sandbox;
    return a;
}

json parse_or_object(const std::string& text) {
    json j = json::parse(text, nullptr, false);
    return j.is_object() ? j : json::object();
}

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

// The benchmark's task text for the agent (agent-runtime.md 1).
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

bool runs_matrix_eval(int64_t pid) {
    if (pid <= 0 || ::kill(pid_t(pid), 0) != 0) return false;
    std::ifstream st("/proc/" + std::to_string(pid) + "/stat");
    const std::string stat((std::istreambuf_iterator<char>(st)), {});
    const size_t close = stat.rfind(')');
    if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z') return false;  // a zombie
    std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    const std::string cmd((std::istreambuf_iterator<char>(in)), {});
    return cmd.find(std::string("eval") + '\0') != std::string::npos;
}

}  // namespace

bool is_replay_controller(const json& c) {
    const std::string k = c.value("kind", std::string());
    return k == "gold" || k == "perturbed";
}

json EvalSettings::to_json() const {
    return {{"name", name},
            {"benchmark", eval::to_string(benchmark)},
            {"dataset", dataset},
            {"mode", mode},
            {"limit", limit},
            {"workers", workers},
            {"item_timeout_s", item_timeout_s},
            {"judge", judge_url.empty() ? json(nullptr)
                                        : json{{"url", judge_url}, {"model", judge_model}, {"key_env", judge_key_env},
                                               {"timeout_ms", judge_timeout_ms}}},
            {"agent", agent_settings_of(*this).to_json()}};
}

Result<EvalSettings> EvalSettings::from_json(const json& j) {
    if (!j.is_object()) return make_error("eval settings are not a JSON object");
    EvalSettings s;
    s.name = j.value("name", "");
    auto kind = eval::bench_kind_from_string(j.value("benchmark", "gta"));
    if (!kind) return make_error("eval settings: unknown benchmark " + j.value("benchmark", std::string()));
    s.benchmark = *kind;
    s.dataset = j.value("dataset", "");
    s.mode = j.value("mode", "step");
    s.limit = j.value("limit", 0);
    s.workers = j.value("workers", 1);
    s.item_timeout_s = j.value("item_timeout_s", s.item_timeout_s);
    if (auto judge = j.find("judge"); judge != j.end() && judge->is_object()) {
        s.judge_url = judge->value("url", "");
        s.judge_model = judge->value("model", "");
        s.judge_key_env = judge->value("key_env", "");
        s.judge_timeout_ms = judge->value("timeout_ms", s.judge_timeout_ms);
    }
    MATRIX_TRY(agent::AgentRunSettings a, agent::AgentRunSettings::from_json(j.value("agent", json::object())));
    s.controller = a.controller;
    s.tools = a.tools;
    s.system_prompt = a.system_prompt;
    s.loop = a.loop;
    s.sandbox = a.sandbox;
    return s;
}

Result<JudgeConfig> judge_config_of(const EvalSettings& s) {
    JudgeConfig judge;
    judge.endpoint = s.judge_url;
    judge.model = s.judge_model;
    judge.timeout_ms = s.judge_timeout_ms;
    judge.max_attempts = 3;
    if (!s.judge_key_env.empty()) {
        const char* key = std::getenv(s.judge_key_env.c_str());
        if (!key || !*key)
            return make_error("the environment variable " + s.judge_key_env + " (the judge's API key) is not set");
        judge.api_key = key;
    }
    return judge;
}

Result<std::optional<store::Run>> training_run_for_adapter(store::Database& db, const std::string& adapter_dir) {
    if (adapter_dir.empty()) return std::optional<store::Run>();
    std::error_code ec;
    const fs::path want = fs::weakly_canonical(fs::absolute(adapter_dir, ec), ec);
    store::RunRepo runs(db);
    for (const char* kind : {"dpo", "sft"}) {
        MATRIX_TRY(auto list, runs.list(std::string(kind)));
        for (const auto& r : list) {
            std::vector<std::string> dirs;
            if (r.adapter_path) dirs.push_back(*r.adapter_path);
            MATRIX_TRY(auto ckpts, runs.checkpoints(r.id));
            for (const auto& c : ckpts) dirs.push_back(c.path);
            for (const auto& d : dirs) {
                const fs::path have = fs::weakly_canonical(fs::absolute(d, ec), ec);
                if (have == want) return std::optional<store::Run>(r);
            }
        }
    }
    return std::optional<store::Run>();
}

Result<int64_t> create_eval_run(store::Project& project, EvalSettings& settings, const std::string& controller_description,
                                const std::string& work_root) {
    if (settings.mode != "step" && settings.mode != "e2e") return make_error("mode must be step or e2e");
    if (settings.mode == "step" && settings.benchmark != eval::BenchKind::gta)
        return make_error("step-by-step mode is GTA's (gold dialogs with tool calls); use --mode e2e");
    if (settings.mode == "e2e" && is_replay_controller(settings.controller))
        return make_error("the gold controller answers step-by-step mode only (e2e has no gold step to replay)");
    if (settings.workers < 1) return make_error("workers must be at least 1");
    MATRIX_TRY(eval::Benchmark b, eval::load_stored_benchmark(project, settings.benchmark, settings.dataset));
    settings.dataset = b.name;
    json items = json::array();
    for (const auto& item : b.items) {
        if (settings.limit > 0 && int(items.size()) >= settings.limit) break;
        items.push_back(item.id);
    }
    if (items.empty()) return make_error("the benchmark dataset '" + b.name + "' has no items");
    store::Database& db = project.db();
    MATRIX_TRY(auto ds, store::DatasetRepo(db).find(b.name));

    json config = {{"mode", settings.mode}, {"items", items}, {"scorers", json::array({"official"})}};
    if (settings.benchmark == eval::BenchKind::gta) config["scorers"].push_back("matrix");
    json controller = settings.controller;
    controller["description"] = controller_description;
    config["controller"] = controller;
    const agent::GenerationSettings& g = settings.loop.generation;
    config["sampling"] = agent_settings_of(settings).to_json()["loop"];
    config["seed"] = g.seed;
    if (settings.mode == "step") {
        config["prompts"] = {{"system_prompt", "bundled agent prompt with the item's GTA tools (gta_step_system_prompt)"},
                             {"task_text", "Task: q + \"\\nAttachment:\\n\" + paths"},
                             {"summarise_instruction", k_gta_summarise_instruction},
                             {"bundled_system_prompt", agent::bundled_system_prompt()}};
        config["tools"] = {{"executed", false}, {"note", "step mode: gold tool outputs, tools not executed"}};
    } else {
        MATRIX_TRY(agent::ToolHost described, agent::tool_host_described(settings.controller));
        MATRIX_TRY(agent::ToolRegistry tools, agent::agent_tool_registry(settings.tools, described));
        config["tool_status"] = tools.status_json();
        config["prompts"] = {{"system_prompt", settings.system_prompt},
                             {"bundled_system_prompt", agent::bundled_system_prompt()}};
        if (auto usable = agent::bubblewrap_usable(settings.sandbox.bwrap); usable.ok()) {
            config["sandbox_bubblewrap"] = "usable";
        } else {
            config["sandbox_bubblewrap"] = usable.error().message;
        }
    }
    const std::string adapter = settings.controller.value("adapter", std::string());
    MATRIX_TRY(auto trained, training_run_for_adapter(db, adapter));
    if (trained) {
        store::RunRepo runs(db);
        MATRIX_TRY(auto samples, runs.samples(trained->id));
        std::map<std::string, int> seen;
        for (const auto& s : samples) seen[s.item_kind] += 1;
        config["training_run"] = {{"id", trained->id},       {"kind", trained->kind},
                                  {"name", trained->name},   {"dataset_id", trained->dataset_id ? json(*trained->dataset_id) : json()},
                                  {"samples", seen},         {"config", parse_or_object(trained->config)}};
    }

    store::Run r;
    r.kind = "eval";
    r.name = settings.name.empty() ? std::string(eval::to_string(settings.benchmark)) + " " + settings.mode : settings.name;
    r.status = "created";
    if (ds) r.dataset_id = ds->id;
    r.benchmark = eval::to_string(settings.benchmark);
    if (settings.controller.contains("model")) r.model_path = settings.controller.value("model", "");
    else if (settings.controller.contains("url"))
        r.model_path = settings.controller.value("model", "") + " @ " + settings.controller.value("url", "");
    else r.model_path = settings.controller.value("kind", "");
    if (!adapter.empty()) r.adapter_path = adapter;
    store::RunRepo runs(db);
    store::Transaction tx(db);
    MATRIX_CHECK(tx.begin_status());
    MATRIX_TRY(int64_t run_id, runs.create(r));
    if (settings.mode == "e2e") settings.sandbox.work_dir = (fs::path(work_root) / ("run-" + std::to_string(run_id))).string();
    config["eval"] = settings.to_json();
    MATRIX_CHECK(runs.set_config(run_id, config.dump()));
    store::ProvenanceRepo prov(db);
    if (ds) {
        auto l = prov.link("run", run_id, "dataset", ds->id, "evaluated_on");
        if (!l.ok()) return l.error();
    }
    if (trained) {
        auto l = prov.link("run", run_id, "run", trained->id, "evaluates");
        if (!l.ok()) return l.error();
    }
    MATRIX_CHECK(tx.commit());
    return run_id;
}

Result<EvalSettings> load_eval_settings(store::Database& db, int64_t run_id) {
    MATRIX_TRY(auto run, store::RunRepo(db).get(run_id));
    if (!run || run->kind != "eval") return make_error("no eval run " + std::to_string(run_id));
    const json config = parse_or_object(run->config);
    if (!config.contains("eval")) return make_error("run " + std::to_string(run_id) + " was not launched by matrix eval");
    auto s = EvalSettings::from_json(config["eval"]);
    if (!s.ok()) return s.error().within("eval run " + std::to_string(run_id));
    return s;
}

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


Result<std::vector<EvalRunStatus>> eval_run_statuses(store::Database& db) {
    store::RunRepo runs(db);
    MATRIX_TRY(auto list, runs.list(std::string("eval")));
    std::vector<EvalRunStatus> out;
    for (const auto& r : list) {
        const json config = parse_or_object(r.config);
        if (!config.contains("eval")) continue;  // imported runs
        EvalRunStatus s;
        s.run_id = r.id;
        s.name = r.name;
        s.status = r.status;
        s.mode = config.value("mode", std::string());
        s.benchmark = r.benchmark.value_or("");
        s.total = int(config.value("items", json::array()).size());
        MATRIX_TRY(auto done, runs.metric_series(r.id, "live/done"));
        if (!done.empty()) s.done = int(done.back().value);
        MATRIX_TRY(auto acc, runs.metric_series(r.id, "live/accuracy"));
        if (!acc.empty()) s.accuracy = acc.back().value;
        if (r.status == "finished") s.done = s.total;
        s.pid = config.contains("process") ? config["process"].value("pid", int64_t(0)) : 0;
        s.process_alive = (r.status == "running") && runs_matrix_eval(s.pid);
        MATRIX_TRY(store::Statement cur,
                   db.prepare("SELECT t.id, t.task_id, (SELECT count(*) FROM steps s WHERE s.trajectory_id=t.id) "
                              "FROM trajectories t WHERE t.run_id=? ORDER BY t.id DESC LIMIT 1"));
        cur.bind(1, r.id);
        MATRIX_TRY(bool has_current, cur.step());
        if (has_current) {
            s.current_trajectory_id = cur.column_int64(0);
            s.current_task_id = cur.column_int64(1);
            s.current_steps = cur.column_int(2);
        }
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace matrix::eval
