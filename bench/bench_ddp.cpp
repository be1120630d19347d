// bench_ddp: data-parallel training throughput on CPU (core/training/distributed: Gloo, bucketed all-reduce from
// gradient hooks) and the LoRA all-reduce volume of a 7B Qwen2-VL.
//   bench_ddp --nproc N [--seq L] [--steps S]: N local ranks (the torchrun environment, as `matrix train --nproc`),
//     each an SFT step per optimiser step on its own [1, L] sequence (weak scaling: the global batch grows with N)
//     of the tiny fixture model, LoRA r=16 on all LM projections, f32, 1 thread per rank. Rank 0 prints the global
//     tokens/s, the step time and the time ranks waited for the all-reduce after backward. Scaling efficiency =
//     tokens/s(N) / (N x tokens/s(1)).
//   bench_ddp --count-lora R [--targets q_proj,k_proj,...]: the LoRA parameters of Qwen2-VL-7B's targeted modules,
//     counted on the real module tree (one decoder layer of 7B width, bf16, then x 28 layers) and by formula.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/model/lora.h"
#include "core/model/qwen2vl.h"
#include "core/training/cpu_allocator.h"
#include "core/training/distributed.h"
#include "core/training/local_launcher.h"
#include "core/training/losses.h"
#include "core/training/optimizer.h"

using namespace matrix;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    size_t a = 0;
    while (a <= s.size()) {
        size_t b = s.find(',', a);
        if (b == std::string::npos) b = s.size();
        if (b > a) out.push_back(s.substr(a, b - a));
        a = b + 1;
    }
    return out;
}

int count_lora(int64_t r, const std::vector<std::string>& targets) {
    model::Qwen2VLConfig cfg;  // Qwen2-VL-7B shapes
    const int64_t layers = cfg.text.num_hidden_layers;
    // Formula: r x (in + out) per targeted Linear.
    const int64_t h = cfg.text.hidden_size, kv = cfg.text.num_key_value_heads * cfg.text.attn_head_dim(),
                  ff = cfg.text.intermediate_size;
    std::map<std::string, std::pair<int64_t, int64_t>> shape = {{"q_proj", {h, h}},     {"k_proj", {h, kv}},
                                                                {"v_proj", {h, kv}},    {"o_proj", {h, h}},
                                                                {"gate_proj", {h, ff}}, {"up_proj", {h, ff}},
                                                                {"down_proj", {ff, h}}};
    int64_t per_layer_formula = 0;
    for (const auto& t : targets) {
        if (!shape.count(t)) return std::fprintf(stderr, "bench_ddp: no formula for target %s\n", t.c_str()), 2;
        per_layer_formula += r * (shape[t].first + shape[t].second);
    }
    // The module tree: one decoder layer at 7B width (small vocabulary, one vision block: neither is targeted).
    cfg.text.num_hidden_layers = 1;
    cfg.text.vocab_size = 1024;
    cfg.vision.depth = 1;
    model::LoadOptions lo;
    lo.dtype = torch::kBFloat16;
    auto net = model::random_qwen2vl(cfg, lo, 0);
    if (!net.ok()) return std::fprintf(stderr, "%s\n", net.error().to_string().c_str()), 1;
    model::LoraConfig lc;
    lc.r = r;
    lc.alpha = 16;
    lc.target_modules = targets;
    auto wrapped = model::attach_lora(**net, lc);
    if (!wrapped.ok()) return std::fprintf(stderr, "%s\n", wrapped.error().to_string().c_str()), 1;
    int64_t per_layer_tree = 0;
    for (const auto& p : train::lora_trainable_params(**net)) per_layer_tree += p.tensor.numel();
    const int64_t total = per_layer_tree * layers;
    std::printf("Qwen2-VL-7B (hidden %lld, kv %lld, intermediate %lld, %lld layers), LoRA r=%lld on", (long long)h,
                (long long)kv, (long long)ff, (long long)layers, (long long)r);
    for (const auto& t : targets) std::printf(" %s", t.c_str());
    std::printf("\nper layer: %lld (module tree), %lld (formula r x (in + out)); %zu modules wrapped in one layer\n",
                (long long)per_layer_tree, (long long)per_layer_formula, wrapped->size());
    std::printf("total: %lld parameters; gradient all-reduce payload %.1f MB in f32, %.1f MB in bf16\n",
                (long long)total, total * 4 / 1e6, total * 2 / 1e6);
    return per_layer_tree == per_layer_formula ? 0 : 1;
}

int rank_main(int64_t L, int64_t steps) {
    torch::set_num_threads(1);
    (void)train::keep_freed_memory_for_reuse();
    auto env = train::dist_env_from_environment();
    if (!env.ok()) return std::fprintf(stderr, "%s\n", env.error().to_string().c_str()), 1;
    std::unique_ptr<train::ProcessGroup> pg;
    int rank = 0, world = 1;
    if (*env && (*env)->world_size > 1) {
        auto j = train::ProcessGroup::join(**env, "cpu", train::dist_timeout());
        if (!j.ok()) return std::fprintf(stderr, "%s\n", j.error().to_string().c_str()), 1;
        pg = std::move(j).value();
        rank = pg->rank();
        world = pg->size();
    }
    auto net = model::load_qwen2vl(std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny/tiny-qwen2vl");
    if (!net.ok()) return std::fprintf(stderr, "%s\n", net.error().to_string().c_str()), 1;
    torch::manual_seed(0);
    model::LoraConfig lc;
    lc.r = 16;
    lc.alpha = 32;
    lc.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
    auto wrapped = model::attach_lora(**net, lc);
    if (!wrapped.ok()) return std::fprintf(stderr, "%s\n", wrapped.error().to_string().c_str()), 1;
    auto params = train::lora_trainable_params(**net);
    std::vector<torch::Tensor> tensors;
    int64_t n_params = 0;
    for (auto& p : params) {
        tensors.push_back(p.tensor);
        n_params += p.tensor.numel();
    }
    train::TrainingConfig tc;
    tc.lr = 1e-4;
    train::Optimizer opt(params, tc, 1000);
    std::unique_ptr<train::GradReducer> reducer;
    if (pg) reducer = std::make_unique<train::GradReducer>(*pg, tensors);
    (*net)->train();
    auto g = at::detail::createCPUGenerator(1000 + rank);
    auto ids = torch::randint(0, 1500, {1, L}, g, torch::kInt64);
    auto labels = ids.clone();
    labels.narrow(1, 0, L / 2).fill_(train::kIgnoreIndex);
    double wait_s = 0;
    auto step = [&]() -> bool {
        model::ForwardInput in;
        in.input_ids = ids;
        auto loss = train::sft_loss((*net)->forward(in).logits, labels);
        if (reducer) reducer->arm();
        loss.backward();
        if (reducer) {
            const auto t = Clock::now();
            auto st = reducer->finish("bench step");
            wait_s += since(t);
            if (!st.ok()) return std::fprintf(stderr, "%s\n", st.error().to_string().c_str()), false;
        }
        opt.step();
        return true;
    };
    if (!step()) return 1;  // warm-up
    if (pg && !pg->barrier("bench start").ok()) return 1;
    wait_s = 0;
    const auto t0 = Clock::now();
    const std::clock_t c0 = std::clock();
    for (int64_t i = 0; i < steps; ++i)
        if (!step()) return 1;
    if (pg && !pg->barrier("bench end").ok()) return 1;
    const double dt = since(t0), cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
    if (rank == 0)
        std::printf("bench_ddp: %d rank(s), L=%lld, %lld steps, LoRA r=16 on %zu modules (%lld params, %zu bucket(s)), "
                    "torch %s, 1 thread per rank\n  global %.1f tokens/s, %.3f s/step, rank 0: all-reduce wait after "
                    "backward %.4f s/step, CPU %.3f s/step\n",
                    world, (long long)L, (long long)steps, wrapped->size(), (long long)n_params,
                    reducer ? reducer->n_buckets() : size_t(0), TORCH_VERSION, double(world * L * steps) / dt,
                    dt / double(steps), wait_s / double(steps), cpu / double(steps));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    int nproc = 1;
    int64_t L = 512, steps = 10, count_r = 0;
    std::string targets = "q_proj,k_proj,v_proj,o_proj";
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--nproc") && i + 1 < argc) nproc = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--seq") && i + 1 < argc) L = std::stoll(argv[++i]);
        else if (!std::strcmp(argv[i], "--steps") && i + 1 < argc) steps = std::stoll(argv[++i]);
        else if (!std::strcmp(argv[i], "--count-lora") && i + 1 < argc) count_r = std::stoll(argv[++i]);
        else if (!std::strcmp(argv[i], "--targets") && i + 1 < argc) targets = argv[++i];
        else {
            std::fprintf(stderr, "usage: bench_ddp [--nproc N] [--seq L] [--steps S] | --count-lora R [--targets a,b]\n");
            return 2;
        }
    }
    if (count_r > 0) return count_lora(count_r, split(targets));
    if (nproc > 1 && !std::getenv("WORLD_SIZE")) {
        train::LaunchOptions lo;
        lo.nproc = nproc;
        lo.on_message = [](const std::string& m) { std::fprintf(stderr, "bench_ddp: %s\n", m.c_str()); };
        ::setenv("OMP_NUM_THREADS", "1", 1);
        return train::run_local_ranks({"--seq", std::to_string(L), "--steps", std::to_string(steps)}, lo);
    }
    return rank_main(L, steps);
}
