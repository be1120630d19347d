// Agent runs in the project store (see agent_run.h).
#include "core/agent/agent_run.h"

#include <filesystem>
#include <fstream>

#include "core/conversation/user_prompt.h"
#include "core/store/dataset_repo.h"
#include "core/store/media_repo.h"
#include "core/store/run_repo.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"

namespace matrix::agent {

namespace fs = std::filesystem;

namespace {

Result<std::optional<std::string>> dataset_system_prompt(store::Database& db, int64_t task_id) {
    MATRIX_TRY(store::Statement st,
               db.prepare("SELECT t.system_prompt_id FROM tasks t WHERE t.dataset_id=(SELECT dataset_id FROM tasks WHERE "
                          "id=?1) AND t.system_prompt_id IS NOT NULL GROUP BY t.system_prompt_id ORDER BY count(*) DESC, "
                          "t.system_prompt_id LIMIT 1"));
    st.bind_all(task_id);
    MATRIX_TRY(bool row, st.step());
    if (!row) return std::optional<std::string>();
    const int64_t id = st.column_int64(0);
    return store::system_prompt_text(db, id);
}

nlohmann::json loop_to_json(const LoopSettings& l) {
    nlohmann::json groups = nlohmann::json::array();
    for (const SamplingGroup& g : l.generation.groups)
        groups.push_back({{"n", g.n},
                          {"do_sample", g.do_sample},
                          {"temperature", g.temperature},
                          {"top_p", g.top_p},
                          {"top_k", g.top_k},
                          {"repetition_penalty", g.repetition_penalty}});
    return {{"max_steps", l.max_steps},
            {"max_errors", l.max_errors},
            {"max_new_tokens", l.generation.max_new_tokens},
            {"stop", l.generation.stop},
            {"seed", l.generation.seed},
            {"groups", groups},
            {"infrastructure_retries", l.infrastructure_retries},
            {"retry_backoff_s", l.retry_backoff_s},
            {"forced_final_answer", l.forced_final_answer}};
}

LoopSettings loop_from_json(const nlohmann::json& j) {
    LoopSettings l;
    l.max_steps = j.value("max_steps", l.max_steps);
    l.max_errors = j.value("max_errors", l.max_errors);
    l.generation.max_new_tokens = j.value("max_new_tokens", l.generation.max_new_tokens);
    l.generation.stop = j.value("stop", l.generation.stop);
    l.generation.seed = j.value("seed", l.generation.seed);
    if (j.contains("groups")) {
        l.generation.groups.clear();
        for (const auto& g : j["groups"]) {
            SamplingGroup s;
            s.n = g.value("n", s.n);
            s.do_sample = g.value("do_sample", s.do_sample);
            s.temperature = g.value("temperature", s.temperature);
            s.top_p = g.value("top_p", s.top_p);
            s.top_k = g.value("top_k", s.top_k);
            s.repetition_penalty = g.value("repetition_penalty", s.repetition_penalty);
            l.generation.groups.push_back(s);
        }
    }
    l.infrastructure_retries = j.value("infrastructure_retries", l.infrastructure_retries);
    l.retry_backoff_s = j.value("retry_backoff_s", l.retry_backoff_s);
    l.forced_final_answer = j.value("forced_final_answer", l.forced_final_answer);
    return l;
}

std::string isolation_name(IsolationMode m) {
    return m == IsolationMode::Bubblewrap ? "bubblewrap" : m == IsolationMode::RlimitsOnly ? "rlimits" : "auto";
}

}  // namespace

Result<std::string> choose_system_prompt(store::Database& db, int64_t task_id, const std::string& choice) {
    if (choice == "bundled") return bundled_system_prompt();
    if (choice.rfind("file:", 0) == 0) {
        std::ifstream in(choice.substr(5), std::ios::binary);
        if (!in) return make_error("cannot read the system prompt file", choice.substr(5));
        return std::string((std::istreambuf_iterator<char>(in)), {});
    }
    if (choice != "auto" && choice != "dataset")
        return make_error("unknown system prompt choice \"" + choice + "\" (auto, dataset, bundled or file:PATH)");
    MATRIX_TRY(auto text, dataset_system_prompt(db, task_id));
    if (text) return *text;
    if (choice == "dataset") return make_error("the task's dataset has no system prompt", "task " + std::to_string(task_id));
    return bundled_system_prompt();
}

Result<PreparedTask> prepare_task(store::Database& db, int64_t task_id, const std::string& system_choice) {
    store::TaskRepo tasks(db);
    MATRIX_TRY(auto task, tasks.get(task_id));
    if (!task) return make_error("no task " + std::to_string(task_id));
    PreparedTask p;
    p.task_id = task_id;
    p.task_key = !task->external_id.empty() ? task->external_id : task->record_key;
    MATRIX_TRY(p.task.system_prompt, choose_system_prompt(db, task_id, system_choice));
    p.task.task_text = task->prompt_text ? conversation::strip_picture_lines(*task->prompt_text) : "Task: " + task->query;
    store::MediaRepo media(db);
    MATRIX_TRY(auto links, media.for_task(task_id));
    for (const store::TaskMedia& l : links) {
        if (l.role == "tool_output") continue;
        std::error_code ec;
        if (!l.media.resolved_path || !fs::exists(*l.media.resolved_path, ec)) {
            p.missing.push_back(l.media.path);
            continue;
        }
        p.files.emplace_back(*l.media.resolved_path, l.media.path);
        if (l.role == "image") p.task.images.push_back(*l.media.resolved_path);
    }
    return p;
}

Result<int64_t> create_adhoc_task(store::Database& db, const std::string& text, const std::vector<std::string>& images) {
    store::DatasetRepo datasets(db);
    MATRIX_TRY(auto dataset, datasets.find_or_create("adhoc", "adhoc"));
    store::TaskRepo tasks(db);
    store::Task t;
    t.dataset_id = dataset.id;
    MATRIX_TRY(t.ordinal, tasks.next_ordinal(dataset.id));
    t.record_key = "adhoc-" + std::to_string(t.ordinal);
    t.query = text;
    std::string prompt = "Task: " + text;
    std::vector<std::string> absolute;
    for (const std::string& i : images) {
        std::error_code ec;
        const std::string abs = fs::absolute(i, ec).lexically_normal().string();
        if (!fs::exists(abs, ec)) return make_error("image not found", i);
        absolute.push_back(abs);
    }
    if (!absolute.empty()) {
        prompt += "\nAttachment: ";
        for (const std::string& a : absolute) prompt += a + "; ";
    }
    t.prompt_text = prompt;
    t.n_images = static_cast<int>(absolute.size());
    MATRIX_TRY(int64_t id, tasks.insert(t));
    store::MediaRepo media(db);
    for (size_t k = 0; k < absolute.size(); ++k) {
        store::Media m;
        m.path = absolute[k];
        m.resolved_path = absolute[k];
        std::error_code ec;
        m.size_bytes = static_cast<int64_t>(fs::file_size(absolute[k], ec));
        MATRIX_TRY(int64_t mid, media.upsert(m));
        MATRIX_CHECK(media.link(id, "image", static_cast<int>(k), mid));
    }
    return id;
}

nlohmann::json AgentRunSettings::to_json() const {
    const SandboxLimits& lim = sandbox.limits;
    return {{"name", name},
            {"controller", controller},
            {"tools", tools},
            {"system_prompt", system_prompt},
            {"loop", loop_to_json(loop)},
            {"sandbox",
             {{"work_dir", sandbox.work_dir},
              {"isolation", isolation_name(sandbox.isolation)},
              {"step_timeout_s", sandbox.step_timeout_s},
              {"max_output_chars", sandbox.max_output_chars},
              {"authorized_imports", sandbox.authorized_imports},
              {"limits",
               {{"address_space_mib", lim.address_space_mib},
                {"cpu_seconds", lim.cpu_seconds},
                {"file_size_mib", lim.file_size_mib},
                {"open_files", lim.open_files},
                {"processes", lim.processes},
                {"tmp_size_mib", lim.tmp_size_mib}}}}},
            {"task_ids", task_ids}};
}

Result<AgentRunSettings> AgentRunSettings::from_json(const nlohmann::json& j) {
    try {
        AgentRunSettings s;
        s.name = j.value("name", "");
        s.controller = j.value("controller", nlohmann::json::object());
        s.tools = j.value("tools", std::vector<std::string>{});
        s.system_prompt = j.value("system_prompt", "auto");
        s.loop = loop_from_json(j.value("loop", nlohmann::json::object()));
        const auto sb = j.value("sandbox", nlohmann::json::object());
        s.sandbox.work_dir = sb.value("work_dir", "");
        const std::string iso = sb.value("isolation", "auto");
        s.sandbox.isolation = iso == "bubblewrap" ? IsolationMode::Bubblewrap
                              : iso == "rlimits"  ? IsolationMode::RlimitsOnly
                                                  : IsolationMode::Auto;
        s.sandbox.step_timeout_s = sb.value("step_timeout_s", s.sandbox.step_timeout_s);
        s.sandbox.max_output_chars = sb.value("max_output_chars", s.sandbox.max_output_chars);
        s.sandbox.authorized_imports = sb.value("authorized_imports", s.sandbox.authorized_imports);
        const auto lim = sb.value("limits", nlohmann::json::object());
        SandboxLimits& l = s.sandbox.limits;
        l.address_space_mib = lim.value("address_space_mib", l.address_space_mib);
        l.cpu_seconds = lim.value("cpu_seconds", l.cpu_seconds);
        l.file_size_mib = lim.value("file_size_mib", l.file_size_mib);
        l.open_files = lim.value("open_files", l.open_files);
        l.processes = lim.value("processes", l.processes);
        l.tmp_size_mib = lim.value("tmp_size_mib", l.tmp_size_mib);
        s.task_ids = j.value("task_ids", std::vector<int64_t>{});
        return s;
    } catch (const std::exception& e) {
        return make_error(std::string("agent run settings: ") + e.what());
    }
}

Result<std::pair<std::string, std::string>> split_setting(const std::string& kv) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) return make_error("--set needs key=value, got \"" + kv + "\"");
    return std::make_pair(kv.substr(0, eq), kv.substr(eq + 1));
}

Result<bool> apply_shared_setting(const std::string& k, const std::string& v, LoopSettings& loop, SandboxOptions& sandbox,
                                  std::string& system_prompt, nlohmann::json& controller) {
    const auto parse_bool = [](const std::string& b) { return b == "1" || b == "true" || b == "yes" || b == "on"; };
    try {
        auto& g = loop.generation.groups.front();
        if (k == "max_steps") loop.max_steps = std::stoi(v);
        else if (k == "max_errors") loop.max_errors = std::stoi(v);
        else if (k == "max_new_tokens") loop.generation.max_new_tokens = std::stoi(v);
        else if (k == "seed") loop.generation.seed = std::stoull(v);
        else if (k == "temperature") g.temperature = std::stod(v);
        else if (k == "top_p") g.top_p = std::stod(v);
        else if (k == "top_k") g.top_k = std::stoi(v);
        else if (k == "repetition_penalty") g.repetition_penalty = std::stod(v);
        else if (k == "greedy") g.do_sample = !parse_bool(v);
        else if (k == "system_prompt") system_prompt = v;
        else if (k == "step_timeout_s") sandbox.step_timeout_s = std::stod(v);
        else if (k == "max_output_chars") sandbox.max_output_chars = std::stoll(v);
        else if (k == "isolation") {
            if (v != "auto" && v != "bubblewrap" && v != "rlimits") return make_error("isolation: auto, bubblewrap or rlimits");
            sandbox.isolation = v == "bubblewrap" ? IsolationMode::Bubblewrap
                                : v == "rlimits"  ? IsolationMode::RlimitsOnly
                                                  : IsolationMode::Auto;
        } else if (k == "address_space_mib") sandbox.limits.address_space_mib = std::stoll(v);
        else if (k == "cpu_seconds") sandbox.limits.cpu_seconds = std::stoll(v);
        else if (k == "processes") sandbox.limits.processes = std::stoll(v);
        else if (k == "file_size_mib") sandbox.limits.file_size_mib = std::stoll(v);
        else if (k == "work_dir") sandbox.work_dir = v;
        else if (k == "forced_final_answer") loop.forced_final_answer = parse_bool(v);
        else if (k == "dtype" || k == "device" || k == "api_key_env") controller[k] = v;
        else return false;
    } catch (const std::exception&) {
        return make_error("--set " + k + ": bad value \"" + v + "\"");
    }
    return true;
}

Result<int64_t> create_agent_run(store::Database& db, const AgentRunSettings& settings, const ToolRegistry& tools,
                                 const std::string& controller_description) {
    nlohmann::json config = settings.to_json();
    config["controller"]["description"] = controller_description;
    config["tool_status"] = tools.status_json();
    if (auto usable = bubblewrap_usable(settings.sandbox.bwrap); usable.ok()) {
        config["sandbox"]["bubblewrap"] = "usable";
    } else {
        config["sandbox"]["bubblewrap"] = usable.error().message;
    }
    store::Run run;
    run.kind = "agent";
    run.name = settings.name.empty() ? "agent run" : settings.name;
    run.config = config.dump();
    if (settings.controller.contains("model")) run.model_path = settings.controller.value("model", "");
    if (settings.controller.contains("adapter") && !settings.controller.value("adapter", "").empty())
        run.adapter_path = settings.controller.value("adapter", "");
    return store::RunRepo(db).create(run);
}

Status update_run_settings(store::Database& db, int64_t run_id, const AgentRunSettings& settings) {
    store::RunRepo runs(db);
    MATRIX_TRY(auto run, runs.get(run_id));
    if (!run) return make_error("no run " + std::to_string(run_id));
    nlohmann::json config = nlohmann::json::parse(run->config, nullptr, false);
    if (!config.is_object()) config = nlohmann::json::object();
    // What was recorded at creation and is not a setting: the controller's description, bubblewrap's verdict.
    const nlohmann::json description = config.value("controller", nlohmann::json::object()).value("description", nlohmann::json());
    const nlohmann::json bubblewrap = config.value("sandbox", nlohmann::json::object()).value("bubblewrap", nlohmann::json());
    const nlohmann::json fresh = settings.to_json();
    for (auto& [k, v] : fresh.items()) config[k] = v;
    if (!description.is_null()) config["controller"]["description"] = description;
    if (!bubblewrap.is_null()) config["sandbox"]["bubblewrap"] = bubblewrap;
    return runs.set_config(run_id, config.dump());
}

Result<std::unique_ptr<Sandbox>> start_task_sandbox(const PreparedTask& prepared, const AgentRunSettings& settings,
                                                    const ToolRegistry& tools, const int* current_step) {
    SandboxOptions sb = settings.sandbox;
    // The agent is told which modules it may import; the sandbox's policy follows the prompt it was given.
    if (auto listed = authorized_imports_in_prompt(prepared.task.system_prompt)) sb.authorized_imports = *listed;
    sb.work_dir = (fs::path(settings.sandbox.work_dir) / ("task-" + std::to_string(prepared.task_id))).string();
    sb.tools = tools.specs();
    for (const auto& [resolved, written] : prepared.files) sb.read_only_binds.emplace_back(resolved, written);
    std::vector<std::pair<std::string, std::string>> path_map;  // as the code writes it -> on the host
    for (const auto& [resolved, written] : prepared.files) {
        path_map.emplace_back(written, resolved);
        if (!written.empty() && written[0] != '/')
            path_map.emplace_back((fs::path(sb.work_dir) / written).lexically_normal().string(), resolved);
    }
    const std::string work_dir = sb.work_dir;
    ToolHandler handler = [path_map, work_dir, &tools, current_step](const std::string& name, const nlohmann::json& args,
                                                                     int candidate,
                                                                     const std::string& cwd) -> Result<nlohmann::json> {
        // Paths as the code writes them become host paths: the task's files by the map, other relative paths
        // against the calling code's folder (the sandbox shows host folders at their own paths).
        nlohmann::json mapped = args;
        for (auto& [k, v] : mapped.items()) {
            if (!v.is_string()) continue;
            const std::string text = v.get<std::string>();
            bool done = false;
            for (const auto& [from, to] : path_map) {
                if (text == from || (fs::path(cwd) / text).lexically_normal().string() == from) {
                    v = to;
                    done = true;
                    break;
                }
            }
            std::error_code ec;
            if (!done && !text.empty() && text[0] != '/' && text.size() < 4096 && fs::exists(fs::path(cwd) / text, ec))
                v = (fs::path(cwd) / text).lexically_normal().string();
        }
        ToolCallContext ctx{cwd.empty() ? work_dir : cwd, current_step ? *current_step : -1, candidate};
        return tools.call(name, mapped, ctx);
    };
    return Sandbox::start(sb, handler);
}

Result<TaskRunOutcome> run_task(store::Database& db, int64_t run_id, int64_t task_id, Controller& controller,
                                const ToolRegistry& tools, const AgentRunSettings& settings,
                                const TaskRunEvents& events, const std::atomic<bool>* cancel) {
    auto note = [&](const std::string& s) {
        if (events.on_note) events.on_note(s);
    };
    store::TrajectoryRepo trajectories(db);
    store::RunRepo runs(db);
    TaskRunOutcome outcome;

    // An earlier attempt of this run at this task: finished -> as stored; else resume from its steps.
    std::vector<store::Step> previous;
    MATRIX_TRY(auto existing, trajectories.list_for_run(run_id));
    for (const store::Trajectory& t : existing) {
        if (t.task_id != task_id) continue;
        outcome.trajectory_id = t.id;
        const auto extra = nlohmann::json::parse(t.extra.value_or("{}"), nullptr, false);
        if (extra.is_object() && extra.value("status", "running") != "running" && extra.value("status", "") != "cancelled") {
            outcome.already_finished = true;
            outcome.result.status = extra.value("status", "");
            outcome.result.answer_text = t.final_answer.value_or("");
            outcome.result.forced = extra.value("forced", false);
            outcome.result.steps = t.n_steps;
            return outcome;
        }
        MATRIX_TRY(auto full, trajectories.get(t.id, true));
        if (full) previous = full->steps;
    }

    MATRIX_TRY(PreparedTask prepared, prepare_task(db, task_id, settings.system_prompt));
    if (events.on_prepared) events.on_prepared(prepared);
    for (const std::string& m : prepared.missing) note("file not found, the task goes on without it: " + m);

    if (outcome.trajectory_id == 0) {
        store::Trajectory t;
        t.task_id = task_id;
        t.source = "run";
        t.run_id = run_id;
        t.extra = nlohmann::json{{"status", "running"}}.dump();
        MATRIX_TRY(outcome.trajectory_id, trajectories.insert(t));
    }
    outcome.resumed_steps = static_cast<int>(previous.size());
    if (!previous.empty()) note("resuming after " + std::to_string(previous.size()) + " stored steps");

    int current_step = 0;
    MATRIX_TRY(auto sandbox, start_task_sandbox(prepared, settings, tools, &current_step));
    note("sandbox: " + sandbox->isolation());

    StepCallback on_step = [&](const store::Step& step) -> Status {
        current_step = step.idx + 1;
        store::Transaction tx(db);
        MATRIX_CHECK(tx.begin_status());
        MATRIX_CHECK(trajectories.append_steps(outcome.trajectory_id, {step}));
        MATRIX_CHECK(tx.commit());
        if (events.on_step) events.on_step(step);
        return {};
    };
    current_step = static_cast<int>(previous.size());
    MATRIX_TRY(outcome.result, run_agent(prepared.task, controller, *sandbox, settings.loop, previous, on_step, cancel));
    const AgentResult& r = outcome.result;

    nlohmann::json extra = {{"status", r.status},  {"stop_reason", r.stop_reason}, {"forced", r.forced},
                            {"steps", r.steps},    {"errors", r.errors},           {"isolation", sandbox->isolation()},
                            {"resumed_steps", outcome.resumed_steps}};
    if (!r.invalid_reason.empty()) extra["invalid_reason"] = r.invalid_reason;
    if (r.final_answer) extra["final_answer"] = *r.final_answer;
    if (!prepared.missing.empty()) extra["missing_files"] = prepared.missing;
    const bool has_answer = r.status == "answered" || r.status == "forced";
    MATRIX_CHECK(trajectories.set_outcome(outcome.trajectory_id,
                                          has_answer ? std::optional<std::string>(r.answer_text) : std::nullopt,
                                          extra.dump()));
    store::RunResult rr;
    rr.run_id = run_id;
    rr.task_id = task_id;
    rr.task_key = prepared.task_key.empty() ? std::to_string(task_id) : prepared.task_key;
    if (has_answer) rr.answer = r.answer_text;
    rr.trajectory_id = outcome.trajectory_id;
    if (r.status == "invalid") rr.error = r.invalid_reason;
    rr.extra = extra.dump();
    MATRIX_TRY(int64_t result_id, runs.put_result(rr));
    (void)result_id;
    return outcome;
}

}  // namespace matrix::agent
