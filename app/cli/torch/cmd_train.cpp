// `matrix train`: SFT / step-wise DPO runs from the command line over the same core as the GUI's training panel
// (core/training/trainer.h), plus the two offline adapter tools: `merge` (LoRA into the base weights) and
// `preview` (what the trainer sees for a dataset). Ctrl-C pauses: the run checkpoints and can be resumed.
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "app/cli/args.h"
#include "app/cli/command.h"
#include "app/cli/job_submit.h"
#include "core/store/dataset_repo.h"
#include "core/store/project.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"
#include "core/tokenizer/tokenizer.h"
#include "core/training/adapter_io.h"
#include "core/training/local_launcher.h"
#include "core/training/trainer.h"
#include "core/training/training_data.h"

namespace {

std::atomic<bool> g_pause{false};
void on_sigint(int) { g_pause.store(true); }

const char* kUsage =
    "usage: matrix train sft|dpo --db FILE --dataset NAME --model DIR [--adapter DIR] --out DIR\n"
    "                    [--config F.json] [--set key=value]... [--pairs approved|all] [--name S]\n"
    "       matrix train resume --db FILE --resume RUN [--more-epochs N]\n"
    "       matrix train merge --model DIR --adapter DIR --out DIR\n"
    "       matrix train preview --db FILE --dataset NAME --model DIR [--limit N] [--config F.json] [--set k=v]...\n"
    "       matrix train keys\n"
    "       matrix train submit [--slurm ...] sft|dpo|resume ... (a job: matrix train submit --help)\n"
    "  sft: LoRA SFT on the dataset's trajectories (verdict_filter); dpo: step-wise DPO on its pairs.\n"
    "  --adapter: starting adapter (SFT continues it; DPO merges it: reference = base + adapter).\n"
    "  --resume RUN (also with sft|dpo): continue a paused / killed run from its last checkpoint;\n"
    "  --more-epochs N: continue a finished run for N more epochs. Ctrl-C pauses with a checkpoint.\n"
    "  Writes the PEFT adapter (adapter_config.json + adapter_model.safetensors) to --out; checkpoints under\n"
    "  --out/checkpoints. `keys` lists the config keys with their defaults.\n"
    "  --set max_steps=N runs N optimiser steps and overrides epochs, as HF Trainer / LLaMA-Factory do.\n"
    "  --nproc N (sft, dpo, resume): data-parallel over N local processes (Gloo on CPU, NCCL on CUDA), global batch\n"
    "  = batch_size x grad_accum x N; a process started with the torchrun environment (MASTER_ADDR, MASTER_PORT,\n"
    "  RANK, WORLD_SIZE, LOCAL_RANK: torchrun, srun) joins as that rank. Rank 0 writes the store and checkpoints;\n"
    "  a run resumes with any N. MATRIX_DIST_TIMEOUT_S (300) bounds a wait for a silent rank.\n";

int print_keys() {
    auto defaults = matrix::train::TrainingConfig{}.to_json();
    for (const auto& f : matrix::train::config_fields()) {
        std::cout << f.key << " = " << defaults[f.key].dump() << "    # " << f.help;
        if (!f.choices.empty()) {
            std::cout << " (";
            for (size_t i = 0; i < f.choices.size(); ++i) std::cout << (i ? "|" : "") << f.choices[i];
            std::cout << ")";
        }
        std::cout << (f.dpo_only ? " [dpo]" : "") << "\n";
    }
    return 0;
}

matrix::Result<matrix::train::TrainingConfig> config_from_args(const matrix::cli::Args& args) {
    matrix::train::TrainingConfig cfg;
    if (auto path = args.get("config")) {
        auto r = matrix::train::load_training_config(*path);
        if (!r.ok()) return r.error();
        cfg = *r;
    }
    if (auto p = args.get("pairs")) MATRIX_CHECK(cfg.set("pairs", *p));
    for (const auto& kv : args.get_all("set")) MATRIX_CHECK(cfg.set(kv));
    return cfg;
}

int run_preview(const matrix::cli::Args& args) {
    if (!args.require({"db", "dataset", "model"}, "train preview")) return 2;
    auto cfg = config_from_args(args);
    if (!cfg.ok()) return matrix::cli::fail(cfg.error().to_string());
    auto project = matrix::store::Project::open(*args.get("db"));
    if (!project.ok()) return matrix::cli::fail(project.error().to_string());
    auto tk = matrix::tok::Tokenizer::load(*args.get("model"));
    if (!tk.ok()) return matrix::cli::fail(tk.error().to_string());
    auto ds = matrix::store::DatasetRepo(project->db()).find(*args.get("dataset"));
    if (!ds.ok() || !*ds) return matrix::cli::fail("no dataset named '" + *args.get("dataset") + "'");
    const auto images = matrix::train::load_image_settings(*args.get("model"));
    matrix::store::TaskFilter filter;
    filter.dataset_id = (*ds)->id;
    matrix::store::TaskPageRequest page;
    page.limit = std::stoll(args.get_or("limit", "3"));
    auto rows = matrix::store::TaskRepo(project->db()).page(filter, page);
    if (!rows.ok()) return matrix::cli::fail(rows.error().to_string());
    for (const auto& row : *rows) {
        auto traj = matrix::store::TrajectoryRepo(project->db()).primary_for_task(row.id);
        if (!traj.ok() || !*traj) continue;
        auto pv = matrix::train::preview_sft_sample(project->db(), (*traj)->id, *tk, images, *cfg);
        if (!pv.ok()) return matrix::cli::fail(pv.error().to_string());
        std::cout << "=== task " << row.external_id << ": " << pv->n_tokens << " tokens, " << pv->n_trained
                  << " trained, " << pv->n_image_tokens << " image tokens, " << pv->n_steps << " steps\n";
        if (!pv->warning.empty()) std::cout << "warning: " << pv->warning << "\n";
        std::cout << pv->rendered << "\n";
    }
    return 0;
}

int run_train(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "submit") return matrix::cli::submit_command("train", argc, argv);
    matrix::cli::Args args(kUsage,
                           {"db", "dataset", "model", "adapter", "out", "config", "set", "pairs", "resume", "name",
                            "more-epochs", "limit", "nproc"});
    if (!args.parse(argc, argv)) return args.help_requested() ? 0 : 2;
    if (args.positionals().size() != 1) return matrix::cli::fail("train: give one of sft, dpo, resume, merge, preview, keys");
    const std::string action = args.positionals()[0];
    if (action == "keys") return print_keys();
    if (action == "preview") return run_preview(args);
    if (action == "merge") {
        if (!args.require({"model", "adapter", "out"}, "train merge")) return 2;
        auto st = matrix::train::merge_adapter_into_checkpoint(*args.get("model"), *args.get("adapter"), *args.get("out"));
        if (!st.ok()) return matrix::cli::fail(st.error().to_string());
        std::cout << "merged checkpoint written to " << *args.get("out") << "\n";
        return 0;
    }

    if (auto np = args.get("nproc"); np && !std::getenv("WORLD_SIZE")) {
        int n = 0;
        try {
            n = std::stoi(*np);
        } catch (...) {
        }
        if (n < 1) return matrix::cli::fail("train: --nproc takes a number of processes (1 or more)");
        if (n > 1) {  // this process launches the ranks: the same command without --nproc, once per rank
            std::vector<std::string> rank_args{"train"};
            for (int i = 1; i < argc; ++i) {
                const std::string a = argv[i];
                if (a == "--nproc") ++i;
                else if (a.rfind("--nproc=", 0) != 0) rank_args.push_back(a);
            }
            matrix::train::LaunchOptions lo;
            lo.nproc = n;
            lo.on_message = [](const std::string& line) { std::cerr << "matrix train: " << line << std::endl; };
            return matrix::train::run_local_ranks(rank_args, lo);
        }
    }

    matrix::train::TrainRequest req;
    if (args.has("resume")) {
        if (!args.require({"db"}, "train")) return 2;
        try {
            req.resume_run = std::stoll(*args.get("resume"));
            req.extra_epochs = std::stoi(args.get_or("more-epochs", "0"));
        } catch (...) {
            return matrix::cli::fail("train: --resume and --more-epochs take numbers");
        }
    } else {
        if (action == "resume") return matrix::cli::fail("train resume: missing --resume RUN");
        auto stage = matrix::train::parse_stage(action);
        if (!stage.ok()) return matrix::cli::fail(stage.error().to_string());
        req.stage = *stage;
        if (!args.require({"db", "dataset", "model", "out"}, "train")) return 2;
        auto cfg = config_from_args(args);
        if (!cfg.ok()) return matrix::cli::fail(cfg.error().to_string());
        req.config = *cfg;
        req.dataset = *args.get("dataset");
        req.model_dir = *args.get("model");
        req.adapter_dir = args.get_or("adapter", "");
        req.out_dir = *args.get("out");
        req.run_name = args.get_or("name", "");
    }
    req.db_path = *args.get("db");

    matrix::train::TrainCallbacks cb;
    cb.pause = &g_pause;
    cb.on_log = [](const std::string& line) { std::cout << line << std::endl; };
    // The run's id once it is known, for whoever follows the output (a job's supervisor, core/jobs).
    cb.on_step = [announced = false](const matrix::train::StepReport& s) mutable {
        if (!announced) std::cout << "[run " << s.run_id << "]" << std::endl;
        announced = true;
    };
    std::signal(SIGINT, on_sigint);
    std::signal(SIGTERM, on_sigint);  // a cancelled job (SIGTERM) checkpoints and stays resumable, as Ctrl-C
    auto r = matrix::train::run_training(req, cb);
    std::signal(SIGINT, SIG_DFL);  // SIGTERM stays caught: a second one (Slurm's scancel sends more) must not kill
                                   // the process between its checkpoint and its exit
    if (!r.ok()) {
        const char* rank = std::getenv("WORLD_SIZE") ? std::getenv("RANK") : nullptr;
        return matrix::cli::fail(rank ? "rank " + std::string(rank) + ": " + r.error().to_string() : r.error().to_string());
    }
    if (const char* rank = std::getenv("RANK"); rank && std::getenv("WORLD_SIZE") && std::string(rank) != "0")
        return r->status == "finished" || r->status == "paused" ? 0 : 1;  // rank 0 reports the run
    std::cout << "run " << r->run_id << " " << r->status;
    if (r->status == "finished") std::cout << ": adapter in " << r->adapter_dir;
    if (r->status == "paused") std::cout << ": resume with matrix train resume --db " << req.db_path << " --resume " << r->run_id;
    std::cout << "\n";
    return r->status == "finished" || r->status == "paused" ? 0 : 1;
}

}  // namespace

MATRIX_CLI_COMMAND("train", "SFT / step-wise DPO with LoRA; merge and preview adapters' data", run_train);
