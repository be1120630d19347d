// `matrix synth`: M-TRACE synthesis from the shell (core/synth/synth_job.h).
//   run     one stage over the output dataset; resumable (finished units are never redone)
//   status  per stage: units in, outputs, rejections by reason, pending, requests, tokens and cost
//   export  the verified tasks as M-TRACE JSON
//   prompt  shows a prompt, or sets / clears a project's override
//   price   sets a model's price per million tokens (for the status's cost)
#include <cctype>
#include <csignal>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "app/cli/args.h"
#include "app/cli/command.h"
#include "app/cli/job_submit.h"
#include "core/agent/agent_run.h"
#include "core/store/project.h"
#include "core/synth/synth_export.h"
#include "core/synth/synth_job.h"
#include "core/synth/synth_prompts.h"
#ifdef MATRIX_HAVE_TORCH
#include "core/synth/local/local_models.h"
#endif

namespace {

using namespace matrix;

const char* k_usage =
    "usage: matrix synth run --db FILE --stage STAGE --endpoint URL --endpoint-model NAME [--dataset NAME]\n"
    "                        [--limit N] [--workers N] [--budget-tokens N] [--seed S] [--seed-dataset NAME]\n"
    "                        [--seed-file FILE] [--seed-tasks ID,ID,... | --seed-tasks-file FILE]\n"
    "                        [--image-pool DIR] [--embeddings-endpoint URL] [--embeddings-model NAME|DIR]\n"
    "                        [--caption-model DIR] [--tools a,b] [--set key=value]...\n"
    "       matrix synth submit [--slurm ...] [--wait] run <the run's arguments>   (a job: matrix jobs ...)\n"
    "       matrix synth status --db FILE [--dataset NAME]\n"
    "       matrix synth export --db FILE [--dataset NAME] --out FILE [--verdict yes|no|all] [--force]\n"
    "       matrix synth prompt --db FILE --name NAME [--set FILE | --clear]\n"
    "       matrix synth price --db FILE --model NAME --prompt USD --completion USD   (per million tokens)\n"
    "  stages, in order: queries, files, images, verify-files, trajectories, verify-trajectories.\n"
    "  run: works on the units the stage has pending in the dataset (default \"synth\"): queries makes --limit\n"
    "       rounds in total (default 1) from --seed-dataset, --seed-file or --seed-tasks examples (task ids,\n"
    "       e.g. a selection in the task browser; --seed-tasks-file: ids separated by commas, spaces or lines);\n"
    "       the other stages take the tasks the previous stages passed (--limit: at most N this run). Prints\n"
    "       one line per unit, progress with ETA on stderr, and a summary last. A killed or paused run carries\n"
    "       on when run again; the request cache answers repeated requests without paying. Exit 0 finished,\n"
    "       3 paused at --budget-tokens, 130 cancelled.\n"
    "  submit: `run` as a job (its own process, detached, or on Slurm with --slurm; see matrix train submit\n"
    "       --help): `matrix jobs pause|resume|cancel ID` stop, continue or end it; a cancelled stage carries on\n"
    "       when run again.\n"
    "  images: ranks the --image-pool's captions (captions.json or <image>.txt) by embeddings from\n"
    "       --embeddings-endpoint (/v1/embeddings, --embeddings-model names its model); without an endpoint,\n"
    "       --embeddings-model DIR embeds with that local Qwen2-VL folder (mean-pooled final hidden states,\n"
    "       L2-normalised); without either, by word overlap (the lexical fallback). --caption-model DIR captions\n"
    "       pool images that have no caption with a local Qwen2-VL (greedy; kept in the project, not redone).\n"
    "       Local models: --set local_device=cpu|cuda[:N], local_dtype=f32|bf16|f16.\n"
    "  --set keys: temperature, max_tokens, examples, per_round, max_answer_chars, retry_attempts,\n"
    "       retry_base_delay_ms, timeout_ms, max_steps, api_key_env, and the sandbox's isolation,\n"
    "       step_timeout_s, address_space_mib, cpu_seconds, processes, file_size_mib, work_dir\n"
    "  prompts: queries, file_content, file_code, verify_files, verify_trajectory\n";

std::atomic<bool> g_cancel{false};
void on_signal(int) { g_cancel.store(true); }

Result<int64_t> to_int(const std::string& key, const std::string& v) {
    try {
        size_t used = 0;
        const long long x = std::stoll(v, &used);
        if (used != v.size()) throw std::invalid_argument(v);
        return static_cast<int64_t>(x);
    } catch (const std::exception&) {
        return make_error(key + " must be an integer, not \"" + v + "\"");
    }
}

Result<double> to_double(const std::string& key, const std::string& v) {
    try {
        size_t used = 0;
        const double x = std::stod(v, &used);
        if (used != v.size()) throw std::invalid_argument(v);
        return x;
    } catch (const std::exception&) {
        return make_error(key + " must be a number, not \"" + v + "\"");
    }
}

// Task ids from "12,14 15\n16": separated by commas or white space; anything else is an error naming it.
Result<std::vector<int64_t>> parse_task_ids(const std::string& text, const std::string& where) {
    std::vector<int64_t> ids;
    std::string token;
    auto flush = [&]() -> Status {
        if (token.empty()) return {};
        auto n = to_int(where, token);
        if (!n.ok() || *n <= 0) return make_error(where + ": \"" + token + "\" is not a task id");
        ids.push_back(*n);
        token.clear();
        return {};
    };
    for (char c : text) {
        if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
            MATRIX_CHECK(flush());
        } else {
            token += c;
        }
    }
    MATRIX_CHECK(flush());
    if (ids.empty()) return make_error(where + ": no task id given");
    return ids;
}

Status apply_set(synth::SynthSettings& s, const std::string& kv) {
    MATRIX_TRY(auto key_value, agent::split_setting(kv));
    const auto& [key, value] = key_value;
    if (key == "temperature") {
        MATRIX_TRY(s.temperature, to_double(key, value));
    } else if (key == "api_key_env") {
        s.api_key_env = value;
    } else if (key == "max_tokens" || key == "examples" || key == "per_round" || key == "max_answer_chars" ||
               key == "retry_attempts" || key == "retry_base_delay_ms" || key == "timeout_ms" || key == "max_steps") {
        MATRIX_TRY(int64_t v, to_int(key, value));
        if (v < 0) return make_error(key + " must not be negative");
        if (key == "max_tokens") s.max_tokens = int(v);
        else if (key == "examples") s.examples = int(v);
        else if (key == "per_round") s.per_round = int(v);
        else if (key == "max_answer_chars") s.max_answer_chars = size_t(v);
        else if (key == "retry_attempts") s.retry_attempts = int(v);
        else if (key == "retry_base_delay_ms") s.retry_base_delay_ms = int(v);
        else if (key == "timeout_ms") s.timeout_ms = int(v);
        else s.max_steps = int(v);
    } else {
        agent::LoopSettings loop;
        std::string system;
        nlohmann::json controller = nlohmann::json::object();
        MATRIX_TRY(bool known, agent::apply_shared_setting(key, value, loop, s.sandbox, system, controller));
        if (!known) return make_error("unknown --set key \"" + key + "\"");
    }
    return {};
}

int run_run(const cli::Args& args) {
    if (!args.require({"db", "stage", "endpoint", "endpoint-model"}, "synth run")) return 2;
    synth::SynthSettings s;
    s.stage = *args.get("stage");
    if (!synth::is_synth_stage(s.stage))
        return cli::fail("synth run: unknown stage \"" + s.stage +
                         "\" (queries, files, images, verify-files, trajectories, verify-trajectories)");
    s.dataset = args.get_or("dataset", "synth");
    s.endpoint = *args.get("endpoint");
    s.model = *args.get("endpoint-model");
    s.seed_dataset = args.get_or("seed-dataset", "");
    s.seed_file = args.get_or("seed-file", "");
    if (args.has("seed-tasks") && args.has("seed-tasks-file"))
        return cli::fail("synth run: give --seed-tasks or --seed-tasks-file, not both");
    if (auto ids = args.get("seed-tasks")) {
        auto parsed = parse_task_ids(*ids, "--seed-tasks");
        if (!parsed.ok()) return cli::fail("synth run: " + parsed.error().to_string());
        s.seed_tasks = *parsed;
    } else if (auto file = args.get("seed-tasks-file")) {
        std::ifstream in(*file, std::ios::binary);
        if (!in) return cli::fail("synth run: cannot read the seed task file " + *file);
        std::stringstream ss;
        ss << in.rdbuf();
        auto parsed = parse_task_ids(ss.str(), *file);
        if (!parsed.ok()) return cli::fail("synth run: " + parsed.error().to_string());
        s.seed_tasks = *parsed;
    }
    s.image_pool = args.get_or("image-pool", "");
    s.embeddings_endpoint = args.get_or("embeddings-endpoint", "");
    // --embeddings-model: the endpoint's model name, or without an endpoint a local model folder.
    if (s.embeddings_endpoint.empty()) s.embeddings_model_dir = args.get_or("embeddings-model", "");
    else s.embeddings_model = args.get_or("embeddings-model", "");
    s.caption_model_dir = args.get_or("caption-model", "");
    s.tools = cli::split_list(args.get_or("tools", ""));
    for (const char* k : {"limit", "workers", "budget-tokens", "seed"}) {
        if (auto v = args.get(k)) {
            auto n = to_int(std::string("--") + k, *v);
            if (!n.ok()) return cli::fail("synth run: " + n.error().to_string());
            if (*n < 0) return cli::fail(std::string("synth run: --") + k + " must not be negative");
            if (std::string(k) == "limit") s.limit = int(*n);
            else if (std::string(k) == "workers") s.workers = int(std::max<int64_t>(1, *n));
            else if (std::string(k) == "budget-tokens") s.budget_tokens = *n;
            else s.seed = *n;
        }
    }
    std::string local_device = "cpu", local_dtype = "f32";
    for (const std::string& kv : args.get_all("set")) {
        if (kv.rfind("local_device=", 0) == 0) local_device = kv.substr(13);
        else if (kv.rfind("local_dtype=", 0) == 0) local_dtype = kv.substr(12);
        else if (auto st = apply_set(s, kv); !st.ok()) return cli::fail("synth run: " + st.error().to_string());
    }
    if (!s.caption_model_dir.empty() || !s.embeddings_model_dir.empty()) {
        if (s.stage != "images")
            return cli::fail("synth run: --caption-model and a local --embeddings-model are for --stage images");
#ifdef MATRIX_HAVE_TORCH
        synth::LocalModelOptions lo;
        lo.device = local_device;
        lo.dtype = local_dtype;
        if (!s.caption_model_dir.empty()) {
            lo.model_dir = s.caption_model_dir;
            auto c = synth::load_local_captioner(lo);
            if (!c.ok()) return cli::fail("synth run: --caption-model: " + c.error().to_string());
            s.local.captioner = *c;
        }
        if (!s.embeddings_model_dir.empty()) {
            lo.model_dir = s.embeddings_model_dir;
            auto e = synth::load_local_embedder(lo);
            if (!e.ok()) return cli::fail("synth run: --embeddings-model: " + e.error().to_string());
            s.local.embedder = *e;
        }
#else
        (void)local_device;
        (void)local_dtype;
        return cli::fail("synth run: this build has no LibTorch engine, so --caption-model / --embeddings-model DIR "
                         "cannot run a local model: use --embeddings-endpoint");
#endif
    }
    {
        auto project = store::Project::open(*args.get("db"));  // creates and migrates a new project
        if (!project.ok()) return cli::fail(project.error().to_string());
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    synth::SynthEvents events;
    events.on_item = [](const synth::SynthItemReport& r) {
        std::cout << r.stage << " " << r.item_key << ": " << r.status;
        if (r.status != "failed") std::cout << ", " << r.n_out << " out, " << r.n_rejected << " rejected";
        if (!r.reason.empty()) std::cout << " (" << r.reason << ")";
        std::cout << "\n" << std::flush;
        std::cerr << "[progress " << r.done << "/" << r.total;
        if (r.eta_s >= 0) std::cerr << ", eta " << static_cast<int64_t>(r.eta_s + 0.5) << " s";
        std::cerr << "]\n";
    };
    events.on_note = [](const std::string& n) { std::cerr << "[" << n << "]\n"; };
    auto outcome = synth::run_stage(*args.get("db"), s, events, &g_cancel);
    if (!outcome.ok()) return cli::fail("synth run: " + outcome.error().to_string());
    std::cout << "stage " << s.stage << ": " << outcome->status << ", " << outcome->units << " units, " << outcome->done
              << " done, " << outcome->rejected << " rejected, " << outcome->failed << " failed, "
              << outcome->paid_tokens << " paid tokens\n";
    if (!outcome->note.empty()) std::cerr << outcome->note << "\n";
    if (outcome->status == "paused") return 3;
    if (outcome->status == "cancelled") return 130;
    return 0;
}

int run_status(const cli::Args& args) {
    if (!args.require({"db"}, "synth status")) return 2;
    store::OpenOptions o;
    o.create = false;
    auto project = store::Project::open(*args.get("db"), o);
    if (!project.ok()) return cli::fail(project.error().to_string());
    auto st = synth::synth_status(project->db(), args.get_or("dataset", "synth"));
    if (!st.ok()) return cli::fail("synth status: " + st.error().to_string());
    std::cout << std::left << std::setw(20) << "stage" << std::right << std::setw(7) << "in" << std::setw(7) << "out"
              << std::setw(9) << "rejected" << std::setw(8) << "pending" << std::setw(9) << "requests" << std::setw(7)
              << "cached" << std::setw(10) << "prompt" << std::setw(11) << "completion" << std::setw(10) << "cost"
              << "\n";
    for (const auto& s : st->stages) {
        std::cout << std::left << std::setw(20) << s.stage << std::right << std::setw(7) << s.in << std::setw(7) << s.out
                  << std::setw(9) << s.rejected << std::setw(8) << s.pending << std::setw(9) << s.requests
                  << std::setw(7) << s.cached_requests << std::setw(10) << s.prompt_tokens << std::setw(11)
                  << s.completion_tokens << std::setw(10) << std::fixed << std::setprecision(4) << s.cost << "\n";
        for (const auto& [reason, n] : s.reasons) std::cout << "    rejected " << n << ": " << reason << "\n";
        for (const auto& [method, n] : s.methods) std::cout << "    " << method << ": " << n << "\n";
        for (const auto& u : s.usage)
            std::cout << "    model " << u.model << ": " << u.requests << " requests (" << u.cached_requests
                      << " cached), " << u.prompt_tokens << " + " << u.completion_tokens << " tokens, cost "
                      << std::fixed << std::setprecision(4) << u.cost << "\n";
    }
    std::cout << "paid tokens " << st->paid_tokens << ", cost " << std::fixed << std::setprecision(4) << st->cost << "\n";
    return 0;
}

int run_export(const cli::Args& args) {
    if (!args.require({"db", "out"}, "synth export")) return 2;
    store::OpenOptions o;
    o.create = false;
    auto project = store::Project::open(*args.get("db"), o);
    if (!project.ok()) return cli::fail(project.error().to_string());
    auto r = synth::export_synth(project->db(), args.get_or("dataset", "synth"), *args.get("out"),
                                 args.get_or("verdict", "yes"), args.has("force"));
    if (!r.ok()) return cli::fail("synth export: " + r.error().to_string());
    std::cout << "records " << r->records << "\n";
    return 0;
}

int run_prompt(const cli::Args& args) {
    if (!args.require({"db", "name"}, "synth prompt")) return 2;
    auto project = store::Project::open(*args.get("db"));
    if (!project.ok()) return cli::fail(project.error().to_string());
    const std::string name = *args.get("name");
    if (auto file = args.get("set")) {
        std::ifstream in(*file, std::ios::binary);
        if (!in) return cli::fail("synth prompt: cannot read " + *file);
        std::stringstream ss;
        ss << in.rdbuf();
        if (auto st = synth::set_synth_prompt_override(project->db(), name, ss.str()); !st.ok())
            return cli::fail("synth prompt: " + st.error().to_string());
    } else if (args.has("clear")) {
        if (auto st = synth::set_synth_prompt_override(project->db(), name, ""); !st.ok())
            return cli::fail("synth prompt: " + st.error().to_string());
    }
    auto p = synth::load_synth_prompt(project->db(), name);
    if (!p.ok()) return cli::fail("synth prompt: " + p.error().to_string());
    std::cout << "# " << p->name << (p->overridden ? " (project override)" : " (bundled)") << " sha256 " << p->sha256
              << "\n" << p->system << "\n=== user ===\n" << p->user << "\n";
    return 0;
}

int run_price(const cli::Args& args) {
    if (!args.require({"db", "model", "prompt", "completion"}, "synth price")) return 2;
    auto project = store::Project::open(*args.get("db"));
    if (!project.ok()) return cli::fail(project.error().to_string());
    auto pr = to_double("--prompt", *args.get("prompt"));
    auto co = to_double("--completion", *args.get("completion"));
    if (!pr.ok()) return cli::fail("synth price: " + pr.error().to_string());
    if (!co.ok()) return cli::fail("synth price: " + co.error().to_string());
    if (auto st = synth::set_synth_price(project->db(), *args.get("model"), {*pr, *co}); !st.ok())
        return cli::fail("synth price: " + st.error().to_string());
    return 0;
}

int run_synth_cmd(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "submit") return cli::submit_command("synth", argc, argv);
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
        std::cout << k_usage;
        return argc < 2 ? 2 : 0;
    }
    const std::string sub = argv[1];
    cli::Args args(k_usage,
                   {"db", "stage", "dataset", "endpoint", "endpoint-model", "limit", "workers", "budget-tokens", "seed",
                    "seed-dataset", "seed-file", "seed-tasks", "seed-tasks-file", "image-pool", "embeddings-endpoint",
                    "embeddings-model", "caption-model", "tools", "set",
                    "out", "verdict", "name", "model", "prompt", "completion"},
                   {"force", "clear"});
    if (!args.parse(argc, argv, 2)) return args.help_requested() ? 0 : 2;
    try {
        if (sub == "run") return run_run(args);
        if (sub == "status") return run_status(args);
        if (sub == "export") return run_export(args);
        if (sub == "prompt") return run_prompt(args);
        if (sub == "price") return run_price(args);
    } catch (const std::exception& e) {
        return cli::fail(std::string("synth ") + sub + ": " + e.what());
    }
    return cli::fail("synth: unknown subcommand \"" + sub + "\" (run, status, export, prompt, price)");
}

}  // namespace

MATRIX_CLI_COMMAND("synth", "M-TRACE synthesis from a teacher model (queries to verified trajectories): run, status, export",
                   run_synth_cmd);
