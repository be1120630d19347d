// `matrix eval`: launch evaluation runs on a benchmark stored with `matrix bench load` (core/eval/eval_run.h).
//   run     creates the run (controller, tools, prompts, sampling, seed, mode recorded with it), runs its items on
//           N workers printing one progress line per item, scores it (official + MATRIX for GTA); the run id is
//           the last line
//   resume  carries on a killed, cancelled or paused run; finished items are never redone
// SIGINT / SIGTERM stop the run as cancelled, SIGUSR1 as paused (exit 130; both resume the same way).
#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "app/cli/args.h"
#include "app/cli/command.h"
#include "app/cli/judge_options.h"
#include "app/cli/job_submit.h"
#include "core/agent/agent_job.h"
#include "core/agent/controller_factory.h"
#include "core/eval/eval_run.h"
#include "core/store/project.h"
#include "core/store/request_cache_repo.h"
#include "core/store/run_repo.h"

namespace {

using namespace matrix;

const char* k_usage =
    "usage: matrix eval run --db FILE --benchmark gta|gaia|agentx [--dataset NAME] --mode step|e2e\n"
    "                       (--model DIR [--adapter DIR] | --endpoint URL --endpoint-model NAME |\n"
    "                        --controller gold|perturbed)\n"
    "                       [--tools a,b,c] [--limit N] [--workers N] [--seed S] [--name NAME] [--set key=value]...\n"
    "                       [--judge-url URL --judge-model NAME [--judge-key-env VAR] [--judge-timeout-ms MS]]\n"
    "       matrix eval resume --db FILE --run ID [--workers N] [--judge-url URL --judge-model NAME ...]\n"
    "  run: the benchmark must be in the project (matrix bench load). Prints one line per finished item\n"
    "       (\"[done/total] item: outcome  acc X% (n)  eta Ns\"), the scores, then \"run ID\" on the last line.\n"
    "  --mode step: GTA step-by-step: every gold assistant turn predicted from the gold prefix (gold tool outputs,\n"
    "       tools not executed), scored with GTA's InstAcc / ToolAcc / ArgAcc / SummAcc.\n"
    "  --mode e2e: the agent with tools on every item (GTA, GAIA, Agent-X); every item keeps a row (crashes,\n"
    "       timeouts, no answer count as wrong with the reason); official and MATRIX scorers.\n"
    "  --controller gold: answers every step with the gold one (step mode; a check of the harness and scorer);\n"
    "       perturbed: the gold step with known faults.\n"
    "  --workers N: items run concurrently (a local model answers one request at a time; an endpoint gets up to\n"
    "       N requests at once).\n"
    "  --set keys: max_steps, max_errors, max_new_tokens, temperature, top_p, top_k, repetition_penalty,\n"
    "       greedy (true/false), system_prompt (auto|dataset|bundled|file:PATH), step_timeout_s, item_timeout_s,\n"
    "       isolation (auto|bubblewrap|rlimits), work_dir, dtype, device, api_key_env\n"
    "  --judge-url, --judge-model (Agent-X): once every item has its row, an OpenAI-compatible chat-completions\n"
    "       judge gives the judge metrics beside toolset F1 (recorded with the run; the API key is read from the\n"
    "       environment variable --judge-key-env names, never stored); without a judge, toolset F1 only.\n"
    "       Failed judge requests are left out and reported; `matrix bench score --judge-url` asks again.\n"
    "  resume: SIGINT/SIGTERM stop a run as cancelled, SIGUSR1 as paused; resume carries either on.\n";

// --judge-* into the settings (Agent-X only); false after one stderr line.
bool apply_judge(const cli::Args& args, const std::string& command, eval::EvalSettings& s) {
    auto judge = cli::judge_options(args, command);
    if (!judge) return false;
    if (!judge->given()) return true;
    if (s.benchmark != eval::BenchKind::agentx) {
        std::cerr << "matrix " << command << ": --judge-url applies to Agent-X runs (the judge metrics are Agent-X's)\n";
        return false;
    }
    s.judge_url = judge->url;
    s.judge_model = judge->model;
    s.judge_key_env = judge->key_env;
    s.judge_timeout_ms = judge->timeout_ms;
    return true;
}

std::atomic<bool> g_cancel{false};
std::atomic<bool> g_pause{false};
void on_stop(int) { g_cancel.store(true); }
void on_pause(int) { g_pause.store(true); }

Status apply_sets(const std::vector<std::string>& sets, eval::EvalSettings& s) {
    for (const std::string& kv : sets) {
        MATRIX_TRY(auto key_value, agent::split_setting(kv));
        const auto& [k, v] = key_value;
        if (k == "item_timeout_s") {
            try {
                s.item_timeout_s = std::stod(v);
            } catch (const std::exception&) {
                return make_error("--set " + k + ": bad value \"" + v + "\"");
            }
            continue;
        }
        MATRIX_TRY(bool known, agent::apply_shared_setting(k, v, s.loop, s.sandbox, s.system_prompt, s.controller));
        if (!known) return make_error("unknown --set key \"" + k + "\" (see matrix eval --help)");
    }
    return {};
}

std::string percent(double v) {
    char buf[32];
    if (v == double(int64_t(v))) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
    else std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

// Runs the run to its end (or a signal) and prints progress; the run id is the last line.
int drive(const std::string& db, int64_t run_id, const eval::EvalSettings& settings) {
    std::shared_ptr<net::RequestCache> cache;
    eval::ControllerSource source;
    if (!eval::is_replay_controller(settings.controller)) {
        const bool endpoint = settings.controller.value("kind", "") == "endpoint";
        if (endpoint) {
            auto opened = store::RequestCacheRepo::open(db);
            if (!opened.ok()) return cli::fail(opened.error().to_string());
            cache = std::shared_ptr<net::RequestCache>(std::move(*opened));
        }
        const nlohmann::json c = settings.controller;
        source.make = [c, cache]() { return agent::make_controller(c, cache); };
        source.shared = !endpoint;  // a local model: one GPU queue; an endpoint: one client per worker
    }
    std::signal(SIGINT, on_stop);
    std::signal(SIGTERM, on_stop);
    std::signal(SIGUSR1, on_pause);
    eval::EvalEvents events;
    events.on_item_done = [](const eval::EvalProgress& p) {
        std::cout << "[" << p.done << "/" << p.total << "] " << p.item << ": " << p.outcome;
        if (p.scored > 0) std::cout << "  acc " << percent(100.0 * p.correct / p.scored) << "% (" << p.scored << ")";
        if (p.eta_s >= 0) std::cout << "  eta " << int(p.eta_s + 0.5) << "s";
        std::cout << "\n" << std::flush;
    };
    events.on_note = [](const std::string& n) { std::cerr << "[" << n << "]\n"; };
    auto out = eval::run_eval(db, run_id, source, events, &g_cancel, &g_pause);
    if (!out.ok()) return cli::fail(out.error().to_string());
    if (out->status != "finished") {
        std::cout << "run " << run_id << " " << out->status << " after " << out->n_done << " of " << out->n_items
                  << " items; `matrix eval resume --run " << run_id << "` carries on\n";
        std::cout << "run " << run_id << "\n";
        return 130;
    }
    if (out->judge_requests > 0)
        std::cout << "judge: " << (out->judge_requests - out->judge_failed) << " of " << out->judge_requests
                  << " verdicts stored\n";
    for (const auto& [scorer, metrics] : out->metrics.items()) {
        std::cout << scorer << ":";
        for (const auto& [k, v] : metrics.items()) {
            if (v.is_number()) std::cout << " " << k << "=" << percent(v.get<double>());
        }
        std::cout << "\n";
    }
    std::cout << "run " << run_id << "\n";
    return 0;
}

int run_run(const cli::Args& args) {
    if (!args.require({"db", "benchmark", "mode"}, "eval run")) return 2;
    eval::EvalSettings s;
    auto kind = eval::bench_kind_from_string(*args.get("benchmark"));
    if (!kind) return cli::fail("eval run: --benchmark must be gta, gaia or agentx");
    s.benchmark = *kind;
    s.mode = *args.get("mode");
    if (s.mode != "step" && s.mode != "e2e") return cli::fail("eval run: --mode must be step or e2e");
    s.dataset = args.get_or("dataset", "");
    const int n_controllers = int(args.has("model")) + int(args.has("endpoint")) + int(args.has("controller"));
    if (n_controllers != 1)
        return cli::fail("eval run: give one of --model DIR, --endpoint URL --endpoint-model NAME, --controller gold");
    if (auto m = args.get("model")) {
        s.controller = {{"kind", "local"}, {"model", *m}, {"adapter", args.get_or("adapter", "")}};
    } else if (auto e = args.get("endpoint")) {
        if (!args.has("endpoint-model")) return cli::fail("eval run: --endpoint needs --endpoint-model NAME");
        s.controller = {{"kind", "endpoint"}, {"url", *e}, {"model", *args.get("endpoint-model")}};
    } else {
        const std::string c = *args.get("controller");
        if (c != "gold" && c != "perturbed") return cli::fail("eval run: --controller must be gold or perturbed");
        s.controller = {{"kind", c}};
    }
    s.name = args.get_or("name", "");
    s.tools = cli::split_list(args.get_or("tools", ""));
    try {
        if (auto n = args.get("limit")) s.limit = std::stoi(*n);
        if (auto n = args.get("workers")) s.workers = std::stoi(*n);
        if (auto seed = args.get("seed")) s.loop.generation.seed = std::stoull(*seed);
    } catch (const std::exception&) {
        return cli::fail("eval run: --limit, --workers and --seed take numbers");
    }
    if (auto st = apply_sets(args.get_all("set"), s); !st.ok()) return cli::fail(st.error().to_string());
    if (!apply_judge(args, "eval run", s)) return 2;
    const std::string db = *args.get("db");
    int64_t run_id = 0;
    {
        store::OpenOptions open;
        open.create = false;
        auto project = store::Project::open(db, open);
        if (!project.ok()) return cli::fail(project.error().to_string());
        std::string description = s.controller.value("kind", "");
        if (s.controller.contains("model")) description += " " + s.controller.value("model", "");
        if (s.controller.contains("url")) description += " at " + s.controller.value("url", "");
        if (!s.controller.value("adapter", "").empty()) description += " + adapter " + s.controller.value("adapter", "");
        const std::string work_root = s.sandbox.work_dir.empty() ? agent::default_runs_folder(db) : s.sandbox.work_dir;
        auto id = eval::create_eval_run(*project, s, description, work_root);
        if (!id.ok()) return cli::fail("eval run: " + id.error().to_string());
        run_id = *id;
    }
    std::cerr << "[run " << run_id << ": " << eval::to_string(s.benchmark) << " " << s.mode << ", "
              << s.workers << " worker(s)]\n";
    return drive(db, run_id, s);
}

int run_resume(const cli::Args& args) {
    if (!args.require({"db", "run"}, "eval resume")) return 2;
    const std::string db = *args.get("db");
    int64_t run_id = 0;
    try {
        run_id = std::stoll(*args.get("run"));
    } catch (const std::exception&) {
        return cli::fail("eval resume: --run takes a run id");
    }
    eval::EvalSettings settings;
    {
        store::OpenOptions open;
        open.create = false;
        auto project = store::Project::open(db, open);
        if (!project.ok()) return cli::fail(project.error().to_string());
        auto s = eval::load_eval_settings(project->db(), run_id);
        if (!s.ok()) return cli::fail(s.error().to_string());
        settings = *s;
        const bool new_judge = args.has("judge-url");
        if (!apply_judge(args, "eval resume", settings)) return 2;
        if (auto w = args.get("workers")) settings.workers = std::max(1, std::atoi(w->c_str()));
        if (args.has("workers") || new_judge) {
            // The stored settings keep the worker count and the judge the run is resumed with.
            auto run = store::RunRepo(project->db()).get(run_id);
            if (run.ok() && *run) {
                nlohmann::json config = nlohmann::json::parse((*run)->config, nullptr, false);
                if (config.is_object()) {
                    config["eval"] = settings.to_json();
                    (void)store::RunRepo(project->db()).set_config(run_id, config.dump());
                }
            }
        }
    }
    std::cerr << "[resuming run " << run_id << "]\n";
    return drive(db, run_id, settings);
}

int run_eval_cmd(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "submit") return cli::submit_command("eval", argc, argv);
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
        std::cout << k_usage;
        return argc < 2 ? 2 : 0;
    }
    const std::string sub = argv[1];
    cli::Args args(k_usage,
                   {"db", "benchmark", "dataset", "mode", "model", "adapter", "endpoint", "endpoint-model", "controller",
                    "tools", "limit", "workers", "seed", "name", "set", "run", "judge-url", "judge-model",
                    "judge-key-env", "judge-timeout-ms"});
    if (!args.parse(argc, argv, 2)) return args.help_requested() ? 0 : 2;
    try {
        if (sub == "run") return run_run(args);
        if (sub == "resume") return run_resume(args);
    } catch (const std::exception& e) {
        return cli::fail(std::string("eval ") + sub + ": " + e.what());
    }
    return cli::fail("eval: unknown subcommand \"" + sub + "\" (run, resume)");
}

}  // namespace

MATRIX_CLI_COMMAND("eval", "launch evaluation runs on a stored benchmark: run, resume (GTA step / e2e, GAIA, Agent-X)",
                   run_eval_cmd);
