// Evaluation runs, the record: settings as JSON, creating a run (its items, controller, adapter's training run),
// loading its settings back, and the runs' live status for the GUI (see eval_run.h). The execution is in
// eval_run.cpp.
#include "core/eval/eval_run.h"
#include "core/eval/eval_run_detail.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <signal.h>
#include <unistd.h>

#include "core/eval/bench_store.h"
#include "core/eval/gta_step.h"
#include "core/store/dataset_repo.h"
#include "core/store/provenance.h"
#include "core/store/run_repo.h"
#include "core/store/task_repo.h"

using nlohmann::json;
namespace fs = std::filesystem;

namespace matrix::eval {

namespace detail {

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

}  // namespace detail

using detail::agent_settings_of;
using detail::parse_or_object;
using detail::runs_matrix_eval;

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
