// `matrix sample`: step-wise Pref-X sampling from the shell (core/agent/sampling.h).
//   run     K candidates per step from the controller, each run in its own sandbox fork, the verifier's pick
//           continued; step records (+ beam_search_data.json) and pairs stored as they happen; the run id last
//   resume  carries on a killed or cancelled run: finished tasks are kept, unfinished ones continue from their
//           stored steps (every step's seed is derived from the run's seed, the task and the step)
#include <csignal>
#include <iostream>
#include <sstream>

#include "app/cli/args.h"
#include "app/cli/command.h"
#include "app/cli/job_submit.h"
#include "core/agent/agent_job.h"
#include "core/agent/sampling.h"
#include "core/agent/sampling_models.h"
#include "core/store/project.h"
#include "core/store/request_cache_repo.h"
#include "core/store/run_repo.h"

namespace {

using namespace matrix;

const char* k_usage =
    "usage: matrix sample run --db FILE --dataset NAME (--model DIR [--adapter DIR] | --endpoint URL\n"
    "                         --endpoint-model NAME) [--verifier-endpoint URL --verifier-model NAME] [--k 5]\n"
    "                         [--limit N] [--workers N] [--tools a,b,c] [--seed S] [--name NAME] [--set key=value]...\n"
    "       matrix sample resume --db FILE --run ID [--set key=value]...\n"
    "  run: samples the dataset's tasks (the first N with --limit): at every step K candidates (1 at T 0.7 with\n"
    "       repetition penalty 1.05, K-1 at T 1.2; top_p 0.8, top_k 100, 512 tokens), each run in its own fork of\n"
    "       the sandbox, the verifier picks the best (JSON {\"reason\", \"best_id\"}); pairs go to the Pref-X dataset\n"
    "       \"<dataset>-sampled\" as pending, step records to <run folder>/beam/<task>/beam_search_data.json.\n"
    "       Without --verifier-endpoint the controller's own model is the verifier (our verifier prompt).\n"
    "       Prints each step as it is stored, progress with ETA on stderr, and the run id on the last line.\n"
    "  resume: carries on the run's unfinished tasks; finished tasks are kept as they are.\n"
    "  --set keys: max_steps, max_errors, max_new_tokens, seed, k, temperature, temperature_rest,\n"
    "           repetition_penalty, repetition_penalty_rest, top_p, top_k, greedy, bleu_threshold,\n"
    "           max_error_rejects, verifier_max_new_tokens, system_prompt (auto|dataset|bundled|file:PATH),\n"
    "           step_timeout_s, isolation (auto|bubblewrap|rlimits), work_dir, dtype, device, api_key_env,\n"
    "           pairs_dataset, workers, max_output_chars\n";

std::atomic<bool> g_cancel{false};
void on_signal(int) { g_cancel.store(true); }

Status apply_sets(const std::vector<std::string>& sets, agent::SamplingSettings& s) {
    for (const std::string& kv : sets) {
        MATRIX_TRY(auto key_value, agent::split_setting(kv));
        MATRIX_CHECK(agent::apply_sampling_setting(s, key_value.first, key_value.second));
    }
    return {};
}

std::string one_line(const std::string& s, size_t max = 120) {
    std::string out;
    for (char c : s) out += (c == '\n' ? ' ' : c);
    if (out.size() > max) out = out.substr(0, max) + "...";
    return out;
}

int drive(store::Project& project, int64_t run_id, const agent::SamplingSettings& settings) {
    std::shared_ptr<net::RequestCache> cache;
    if (agent::sampling_uses_endpoint(settings)) {
        auto opened = store::RequestCacheRepo::open(project.path());
        if (!opened.ok()) return cli::fail(opened.error().to_string());
        cache = std::shared_ptr<net::RequestCache>(std::move(*opened));
    }
    store::RunRepo runs(project.db());
    auto fail_run = [&](const Error& e) {
        (void)runs.set_status(run_id, "failed", e.to_string());
        return cli::fail(e.to_string());
    };
    auto models = agent::make_sampling_models(settings, cache);
    if (!models.ok()) return fail_run(models.error());
    // The tools get the controller's engine (visualizer, objectlocation, questions about files).
    auto host = agent::tool_host_for(models->controller.get());
    if (!host.ok()) return fail_run(host.error());
    auto tools = agent::agent_tool_registry(settings.agent.tools, *host);
    if (!tools.ok()) return fail_run(tools.error());
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    agent::SamplingEvents events;
    events.on_step = [](int64_t task_id, const store::Step& s, int pairs) {
        const auto extra = nlohmann::json::parse(s.extra.value_or("{}"), nullptr, false);
        std::cout << "task " << task_id << " step " << s.idx << ": " << s.candidates.size() << " candidates, best "
                  << (extra.is_object() ? extra.value("best_step_idx", "?") : "?") << (s.is_error ? " [error]" : "")
                  << (s.is_final ? " [final]" : "") << ", " << pairs << " pairs";
        if (extra.is_object() && !extra.value("rank_reason", "").empty())
            std::cout << " (" << one_line(extra.value("rank_reason", "")) << ")";
        std::cout << "\n" << std::flush;
    };
    events.on_note = [](int64_t task_id, const std::string& n) { std::cerr << "[task " << task_id << ": " << n << "]\n"; };
    events.on_task_done = [](int64_t task_id, const agent::TaskSampleOutcome& o) {
        std::cout << "task " << task_id << ": " << o.status << " (" << o.stop_reason << "), " << o.steps << " steps, "
                  << o.pairs << " pairs" << (o.already_finished ? ", as stored" : "") << "\n" << std::flush;
    };
    events.on_progress = [](int64_t done, int64_t total, double eta) {
        std::cerr << "[progress " << done << "/" << total;
        if (eta >= 0) std::cerr << ", eta " << static_cast<int64_t>(eta + 0.5) << " s";
        std::cerr << "]\n";
    };
    // Endpoints take concurrent requests; a local model is one call at a time (the job serialises workers).
    auto job = agent::run_sampling_job(project.db(), run_id, settings, *models->controller, *models->verifier, *tools,
                                       events, &g_cancel, models->thread_safe);
    if (!job.ok()) return cli::fail(job.error().to_string());
    std::cout << "pairs " << job->pairs << "\n";
    if (job->status == "cancelled") {
        std::cerr << "run " << run_id << " cancelled; `matrix sample resume --run " << run_id << "` carries on\n";
        std::cout << "run " << run_id << "\n";
        return 130;
    }
    std::cout << "run " << run_id << "\n";
    return 0;
}

int run_run(const cli::Args& args) {
    if (!args.require({"db", "dataset"}, "sample run")) return 2;
    agent::SamplingSettings s = agent::default_sampling_settings(5);
    if (auto m = args.get("model")) {
        s.agent.controller = {{"kind", "local"}, {"model", *m}, {"adapter", args.get_or("adapter", "")}};
    } else if (auto e = args.get("endpoint")) {
        if (!args.has("endpoint-model")) return cli::fail("sample run: --endpoint needs --endpoint-model NAME");
        s.agent.controller = {{"kind", "endpoint"}, {"url", *e}, {"model", *args.get("endpoint-model")}};
    } else {
        return cli::fail("sample run: give --model DIR or --endpoint URL --endpoint-model NAME");
    }
    if (auto v = args.get("verifier-endpoint")) {
        if (!args.has("verifier-model")) return cli::fail("sample run: --verifier-endpoint needs --verifier-model NAME");
        s.verifier = {{"kind", "endpoint"}, {"url", *v}, {"model", *args.get("verifier-model")}};
    } else if (args.has("verifier-model")) {
        return cli::fail("sample run: --verifier-model needs --verifier-endpoint URL");
    }
    s.dataset = *args.get("dataset");
    s.agent.name = args.get_or("name", "sample " + s.dataset);
    s.agent.tools = cli::split_list(args.get_or("tools", ""));
    if (s.agent.tools.empty())
        for (const auto& spec : agent::matrix_tool_specs()) s.agent.tools.push_back(spec.name);
    if (auto k = args.get("k")) {
        if (auto st = agent::apply_sampling_setting(s, "k", *k); !st.ok()) return cli::fail(st.error().to_string());
    }
    if (auto w = args.get("workers")) {
        if (auto st = agent::apply_sampling_setting(s, "workers", *w); !st.ok()) return cli::fail(st.error().to_string());
    }
    if (auto seed = args.get("seed")) s.agent.loop.generation.seed = std::stoull(*seed);
    if (auto st = apply_sets(args.get_all("set"), s); !st.ok()) return cli::fail(st.error().to_string());
    auto described = agent::tool_host_described(s.agent.controller);  // the status recorded with the run
    if (!described.ok()) return cli::fail(described.error().to_string());
    auto tools = agent::agent_tool_registry(s.agent.tools, *described);
    if (!tools.ok()) return cli::fail(tools.error().to_string());

    auto project = store::Project::open(*args.get("db"));
    if (!project.ok()) return cli::fail(project.error().to_string());
    auto ids = agent::dataset_task_ids(project->db(), s.dataset, args.has("limit") ? std::stoll(*args.get("limit")) : -1);
    if (!ids.ok()) return cli::fail(ids.error().to_string());
    s.agent.task_ids = *ids;
    const std::string work_root =
        s.agent.sandbox.work_dir.empty() ? agent::default_runs_folder(*args.get("db")) : s.agent.sandbox.work_dir;
    const std::string verifier_description =
        s.verifier.value("kind", "") == "endpoint"
            ? "endpoint " + s.verifier.value("url", "") + " model " + s.verifier.value("model", "")
            : "the controller's model with the workbench's verifier prompt";
    auto run_id = agent::create_sampling_run(project->db(), s, *tools, s.agent.controller.dump(), verifier_description, work_root);
    if (!run_id.ok()) return cli::fail(run_id.error().to_string());
    std::cerr << "[run " << *run_id << ", " << s.agent.task_ids.size() << " tasks, K " << s.k() << ", work folder "
              << s.agent.sandbox.work_dir << "]\n";
    return drive(*project, *run_id, s);
}

int run_resume(const cli::Args& args) {
    if (!args.require({"db", "run"}, "sample resume")) return 2;
    store::OpenOptions open;
    open.create = false;
    auto project = store::Project::open(*args.get("db"), open);
    if (!project.ok()) return cli::fail(project.error().to_string());
    const int64_t run_id = std::stoll(*args.get("run"));
    auto settings = agent::load_sampling_settings(project->db(), run_id);
    if (!settings.ok()) return cli::fail(settings.error().to_string());
    if (auto st = apply_sets(args.get_all("set"), *settings); !st.ok()) return cli::fail(st.error().to_string());
    return drive(*project, run_id, *settings);
}

int run_sample_cmd(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "submit") return cli::submit_command("sample", argc, argv);
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
        std::cout << k_usage;
        return argc < 2 ? 2 : 0;
    }
    const std::string sub = argv[1];
    cli::Args args(k_usage,
                   {"db", "dataset", "model", "adapter", "endpoint", "endpoint-model", "verifier-endpoint",
                    "verifier-model", "k", "limit", "workers", "tools", "seed", "name", "set", "run"});
    if (!args.parse(argc, argv, 2)) return args.help_requested() ? 0 : 2;
    try {
        if (sub == "run") return run_run(args);
        if (sub == "resume") return run_resume(args);
    } catch (const std::exception& e) {
        return cli::fail(std::string("sample ") + sub + ": " + e.what());
    }
    return cli::fail("sample: unknown subcommand \"" + sub + "\" (run, resume)");
}

}  // namespace

MATRIX_CLI_COMMAND("sample", "step-wise Pref-X sampling (K candidates, sandbox forks, a verifier): run, resume", run_sample_cmd);
