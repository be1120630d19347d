// `matrix agent`: run the agent runtime from the shell.
//   run     the controller (local Qwen2-VL [+ adapter] or an endpoint) on a stored or typed-in task, with tools,
//           in the sandbox; prints each step as it happens and the stored trajectory id last
//   resume  carries on a killed run from its stored steps
//   replay  runs a JSON list of code strings in one sandbox state and prints what each printed (or its error)
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/cli/args.h"
#include "app/cli/command.h"
#include "core/agent/agent_job.h"
#include "core/agent/agent_run.h"
#include "core/agent/controller_factory.h"
#include "core/agent/endpoint_controller.h"
#include "core/agent/sandbox.h"
#include "core/agent/tool.h"
#include "core/store/project.h"
#include "core/store/request_cache_repo.h"
#include "core/store/run_repo.h"
#include "core/util/json_input.h"

namespace {

using namespace matrix;
namespace fs = std::filesystem;

const char* k_usage =
    "usage: matrix agent run --db FILE (--model DIR [--adapter DIR] | --endpoint URL --endpoint-model NAME)\n"
    "                        (--task-id ID | --task TEXT [--image F]...) [--tools a,b,c] [--max-steps N]\n"
    "                        [--seed S] [--name NAME] [--set key=value]...\n"
    "       matrix agent resume --db FILE --run ID [--set key=value]...\n"
    "       matrix agent replay --actions F.json --workdir DIR [--json] [--tools a,b,c] [--set key=value]...\n"
    "  run: prints each step as it happens, then the stored trajectory id on the last line.\n"
    "  resume: carries on the run's unfinished tasks from their stored steps (their code runs again to rebuild\n"
    "          the interpreter state); finished tasks are kept as they are.\n"
    "  replay: F.json is a JSON list of code strings, run one after another in one sandbox state; prints a JSON\n"
    "          list of {\"observation\": str, \"error\": str|null} (with --json; else one block per step).\n"
    "  --tools: the MATRIX tools offered to the agent (default: all of them); a tool without a backend here is\n"
    "           listed as unavailable and a call to it fails with the reason.\n"
    "  --set keys: max_errors, max_new_tokens, temperature, top_p, top_k, repetition_penalty, greedy (true/false),\n"
    "           system_prompt (auto|dataset|bundled|file:PATH), step_timeout_s, isolation (auto|bubblewrap|\n"
    "           rlimits), address_space_mib, cpu_seconds, processes, file_size_mib, work_dir, dtype, device,\n"
    "           forced_final_answer (true/false), api_key_env, max_output_chars\n";

std::atomic<bool> g_cancel{false};
void on_sigint(int) { g_cancel.store(true); }

// Applies --set key=value pairs to the run settings; unknown keys are an error.
Status apply_sets(const std::vector<std::string>& sets, agent::AgentRunSettings& s) {
    for (const std::string& kv : sets) {
        MATRIX_TRY(auto key_value, agent::split_setting(kv));
        const auto& [k, v] = key_value;
        MATRIX_TRY(bool known, agent::apply_shared_setting(k, v, s.loop, s.sandbox, s.system_prompt, s.controller));
        if (!known) return make_error("unknown --set key \"" + k + "\" (see matrix agent --help)");
    }
    return {};
}

std::string one_line(const std::string& s, size_t max = 160) {
    std::string out;
    for (char c : s) out += (c == '\n' ? ' ' : c);
    if (out.size() > max) out = out.substr(0, max) + "...";
    return out;
}

void print_step(const store::Step& s) {
    std::cout << "step " << s.idx << (s.is_error ? " [error]" : s.is_final ? " [final]" : "") << "\n";
    if (!s.thought.empty()) std::cout << "  thought: " << one_line(s.thought) << "\n";
    if (!s.code.empty()) {
        std::istringstream code(s.code);
        for (std::string line; std::getline(code, line);) std::cout << "  | " << line << "\n";
    }
    if (s.observation) std::cout << "  -> " << one_line(*s.observation, 400) << "\n";
    std::cout << std::flush;
}

// Runs the run's tasks (tasks finished earlier come back as stored), printing each step as it is stored;
// 0 when the run finished, 130 when it was interrupted (it can be resumed).
int drive(store::Project& project, int64_t run_id, const agent::AgentRunSettings& settings) {
    std::shared_ptr<net::RequestCache> cache;
    if (settings.controller.value("kind", "") == "endpoint") {
        auto opened = store::RequestCacheRepo::open(project.path());
        if (!opened.ok()) return cli::fail(opened.error().to_string());
        cache = std::shared_ptr<net::RequestCache>(std::move(*opened));
    }
    auto controller = agent::make_controller(settings.controller, cache);
    if (!controller.ok()) {
        (void)store::RunRepo(project.db()).set_status(run_id, "failed", controller.error().to_string());
        return cli::fail(controller.error().to_string());
    }
    // The tools get the controller's engine (visualizer, objectlocation, questions about files).
    auto host = agent::tool_host_for(controller->get());
    if (!host.ok()) return cli::fail(host.error().to_string());
    agent::PluginLoadReport report;
    auto tools = agent::agent_tool_registry(settings.tools, *host, &report);
    if (!tools.ok()) return cli::fail(tools.error().to_string());
    for (const std::string& e : report.errors()) std::cerr << "[tool plugin not loaded: " << e << "]\n";
    std::signal(SIGINT, on_sigint);
    std::signal(SIGTERM, on_sigint);
    agent::AgentJobEvents events;
    events.on_step = [](int64_t, const store::Step& s) { print_step(s); };
    events.on_note = [](int64_t, const std::string& n) { std::cerr << "[" << n << "]\n"; };
    events.on_task_done = [](int64_t task_id, const agent::TaskRunOutcome& out) {
        const agent::AgentResult& r = out.result;
        std::cout << "task " << task_id << ": " << r.status;
        if (r.status == "answered" || r.status == "forced")
            std::cout << (r.forced ? " (forced after " + r.stop_reason + ")" : "") << ": " << one_line(r.answer_text, 400);
        if (r.status == "invalid") std::cout << ": " << r.invalid_reason;
        std::cout << "\n";
    };
    auto job = agent::run_agent_job(project.db(), run_id, settings, **controller, *tools, events, &g_cancel);
    if (!job.ok()) return cli::fail(job.error().to_string());
    const int64_t last_trajectory = job->tasks.empty() ? 0 : job->tasks.back().second.trajectory_id;
    if (job->status == "cancelled") {
        std::cout << "run " << run_id << " cancelled; `matrix agent resume --run " << run_id << "` carries on\n";
        std::cout << "trajectory " << last_trajectory << "\n";
        return 130;
    }
    std::cout << "run " << run_id << "\n";
    std::cout << "trajectory " << last_trajectory << "\n";
    return 0;
}

int run_run(const cli::Args& args) {
    if (!args.require({"db"}, "agent run")) return 2;
    agent::AgentRunSettings s;
    if (auto m = args.get("model")) {
        s.controller = {{"kind", "local"}, {"model", *m}, {"adapter", args.get_or("adapter", "")}};
    } else if (auto e = args.get("endpoint")) {
        if (!args.has("endpoint-model")) return cli::fail("agent run: --endpoint needs --endpoint-model NAME");
        s.controller = {{"kind", "endpoint"}, {"url", *e}, {"model", *args.get("endpoint-model")}};
    } else {
        return cli::fail("agent run: give --model DIR or --endpoint URL --endpoint-model NAME");
    }
    if (args.has("task-id") == args.has("task")) return cli::fail("agent run: give exactly one of --task-id ID and --task TEXT");
    s.name = args.get_or("name", "agent run");
    s.tools = cli::split_list(args.get_or("tools", ""));
    if (auto n = args.get("max-steps")) s.loop.max_steps = std::stoi(*n);
    if (auto seed = args.get("seed")) s.loop.generation.seed = std::stoull(*seed);
    if (auto st = apply_sets(args.get_all("set"), s); !st.ok()) return cli::fail(st.error().to_string());
    if (s.tools.empty()) {
        for (const auto& spec : agent::matrix_tool_specs()) s.tools.push_back(spec.name);
    }
    auto described = agent::tool_host_described(s.controller);
    if (!described.ok()) return cli::fail(described.error().to_string());
    auto tools = agent::agent_tool_registry(s.tools, *described);
    if (!tools.ok()) return cli::fail(tools.error().to_string());

    auto project = store::Project::open(*args.get("db"));
    if (!project.ok()) return cli::fail(project.error().to_string());
    int64_t task_id = 0;
    if (auto id = args.get("task-id")) {
        task_id = std::stoll(*id);
    } else {
        auto created = agent::create_adhoc_task(project->db(), *args.get("task"), args.get_all("image"));
        if (!created.ok()) return cli::fail(created.error().to_string());
        task_id = *created;
    }
    s.task_ids = {task_id};
    const std::string work_root =
        s.sandbox.work_dir.empty() ? agent::default_runs_folder(*args.get("db")) : s.sandbox.work_dir;
    auto run_id = agent::create_agent_run_in(project->db(), s, *tools, s.controller.dump(), work_root);
    if (!run_id.ok()) return cli::fail(run_id.error().to_string());
    std::cerr << "[run " << *run_id << ", task " << task_id << ", work folder " << s.sandbox.work_dir << "]\n";
    return drive(*project, *run_id, s);
}

int run_resume(const cli::Args& args) {
    if (!args.require({"db", "run"}, "agent resume")) return 2;
    store::OpenOptions open;
    open.create = false;
    auto project = store::Project::open(*args.get("db"), open);
    if (!project.ok()) return cli::fail(project.error().to_string());
    const int64_t run_id = std::stoll(*args.get("run"));
    auto settings = agent::load_agent_run_settings(project->db(), run_id);
    if (!settings.ok()) return cli::fail(settings.error().to_string());
    if (auto st = apply_sets(args.get_all("set"), *settings); !st.ok()) return cli::fail(st.error().to_string());
    return drive(*project, run_id, *settings);
}

int run_replay(const cli::Args& args) {
    if (!args.require({"actions", "workdir"}, "agent replay")) return 2;
    auto read = read_json_file(*args.get("actions"));
    if (!read.ok()) return cli::fail(read.error().to_string());
    nlohmann::json actions = std::move(read).value();
    if (!actions.is_array()) return cli::fail(*args.get("actions") + ": not a JSON list of code strings");
    for (size_t i = 0; i < actions.size(); ++i)
        if (!actions[i].is_string()) return cli::fail(*args.get("actions") + ": element " + std::to_string(i) + " is not a string");
    agent::AgentRunSettings s;
    if (auto st = apply_sets(args.get_all("set"), s); !st.ok()) return cli::fail(st.error().to_string());
    auto host = agent::tool_host_for(nullptr);
    if (!host.ok()) return cli::fail(host.error().to_string());
    auto tools = agent::agent_tool_registry(cli::split_list(args.get_or("tools", "")), *host);
    if (!tools.ok()) return cli::fail(tools.error().to_string());
    agent::SandboxOptions o = s.sandbox;
    o.work_dir = *args.get("workdir");
    o.tools = tools->specs();
    const agent::ToolRegistry& registry = *tools;
    auto sandbox = agent::Sandbox::start(o, [&](const std::string& name, const nlohmann::json& a, int c,
                                                const std::string& cwd) {
        return registry.call(name, a, agent::ToolCallContext{cwd, -1, c});
    });
    if (!sandbox.ok()) return cli::fail(sandbox.error().to_string());
    std::cerr << "[sandbox: " << (*sandbox)->isolation() << "]\n";
    nlohmann::json out = nlohmann::json::array();
    for (size_t i = 0; i < actions.size(); ++i) {
        auto r = (*sandbox)->execute(actions[i].get<std::string>(), static_cast<int>(i));
        if (!r.ok()) return cli::fail("step " + std::to_string(i) + ": " + r.error().to_string());
        nlohmann::json e = {{"observation", r->output}, {"error", r->error ? nlohmann::json(*r->error) : nlohmann::json()}};
        if (r->is_final) e["final_answer"] = r->final_answer;
        if (args.has("json")) {
            out.push_back(e);
        } else {
            std::cout << "--- step " << i << " ---\n" << r->output;
            if (r->error) std::cout << "Error: " << *r->error << "\n";
            if (r->is_final) std::cout << "final_answer: " << r->final_answer.dump() << "\n";
        }
    }
    if (args.has("json")) std::cout << out.dump(2) << "\n";
    return 0;
}

int run_agent_cmd(int argc, char** argv) {
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
        std::cout << k_usage;
        return argc < 2 ? 2 : 0;
    }
    const std::string sub = argv[1];
    cli::Args args(k_usage,
                   {"db", "model", "adapter", "endpoint", "endpoint-model", "task-id", "task", "image", "tools",
                    "max-steps", "seed", "name", "set", "run", "actions", "workdir"},
                   {"json"});
    if (!args.parse(argc, argv, 2)) return args.help_requested() ? 0 : 2;
    try {
        if (sub == "run") return run_run(args);
        if (sub == "resume") return run_resume(args);
        if (sub == "replay") return run_replay(args);
    } catch (const std::exception& e) {
        return cli::fail(std::string("agent ") + sub + ": " + e.what());
    }
    return cli::fail("agent: unknown subcommand \"" + sub + "\" (run, resume, replay)");
}

}  // namespace

MATRIX_CLI_COMMAND("agent", "run the agent (controller + tools + sandbox): run, resume, replay", run_agent_cmd);
