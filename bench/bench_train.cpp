// bench_train: training throughput of the engine's training step (core/training: losses, AdamW, the DPO
// shortcuts), SFT tokens/s and DPO pairs/s.
//   CPU (default): the tiny fixture Qwen2-VL, LoRA r=16 on all LM projections, one image, sequence --seq (512).
//   --gpu: a Qwen2-VL-7B-shaped model with random bf16 weights on cuda:0, LoRA r=16 (fp32 master weights) on all LM
//          projections, one 448x448 image (256 image tokens), sequence 2048, bf16 autocast — the setting;
//          HF transformers + PEFT on one H200: SFT 7,971 tokens/s, DPO 1.70 pairs/s.
// DPO is measured three ways: "naive" = what TRL does without precompute (policy forward on chosen and rejected
// and a reference forward on both, full logits); "batched" = reference log-probs precomputed once (their cost
// reported separately, per pair), chosen and rejected in one batched forward, logits only after the prompt (the
// trainer with share_context=false); "shared" = the context forwarded once and both actions attending to its
// keys/values (share_context=true). --grad-ckpt turns gradient checkpointing on; the peak RSS is printed last
// (run --only sft with and without --grad-ckpt to compare memory). SFT runs the LM head at the labelled rows only, as
// the trainer does; --full-logits runs it over every position (HF's way). --real-vocab (CPU): the tiny model's
// shapes with Qwen2-VL's 152,064-token vocabulary, so the LM head weighs as in a real model. --profile: after each
// timed phase, one more step (and DPO's reference precompute) under LibTorch's profiler (bench/op_profile.h): per op
// calls and self time, forward and backward, and on CUDA the kernels, launches and device busy time.
#include <sys/resource.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/model/autocast.h"
#include "core/model/lora.h"
#include "core/model/qwen2vl.h"
#include "core/training/cpu_allocator.h"
#include "core/training/losses.h"
#include "core/training/optimizer.h"
#include "core/training/shared_context.h"
#include "bench/op_profile.h"

using namespace matrix;
using Clock = std::chrono::steady_clock;

namespace {

struct Setup {
    model::Qwen2VL net{nullptr};
    torch::Device device{torch::kCPU};
    torch::Tensor pixels, grid;  // one image
    int64_t image_tokens = 0;
    int64_t image_token_id = 0, vision_start = 0, vision_end = 0, vocab = 0;
};

void sync(const Setup& s) {
    if (s.device.is_cuda()) torch::cuda::synchronize();
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
// Process CPU time: with LibTorch on 1 thread this is the compute, steady on a shared, loaded machine.
double cpu_seconds_since(std::clock_t c) { return static_cast<double>(std::clock() - c) / CLOCKS_PER_SEC; }

// [1, L] ids: <|vision_start|> image pads <|vision_end|> then random text; the first `prompt` are context.
torch::Tensor make_ids(const Setup& s, int64_t L, uint64_t seed) {
    auto g = at::detail::createCPUGenerator(seed);
    auto ids = torch::randint(0, std::min<int64_t>(s.vocab, 1500), {1, L}, g, torch::kInt64);
    ids[0][0] = s.vision_start;
    ids[0].narrow(0, 1, s.image_tokens).fill_(s.image_token_id);
    ids[0][s.image_tokens + 1] = s.vision_end;
    return ids;
}

model::ForwardInput input(const Setup& s, const torch::Tensor& ids, int n_images) {
    model::ForwardInput in;
    in.input_ids = ids.to(s.device);
    std::vector<torch::Tensor> px(n_images, s.pixels), gr(n_images, s.grid);
    in.pixel_values = torch::cat(px, 0);
    in.image_grid_thw = torch::cat(gr, 0);
    return in;
}

std::vector<int32_t> to_vec(const torch::Tensor& ids, int64_t from, int64_t to) {
    std::vector<int32_t> v;
    auto a = ids.accessor<int64_t, 2>();
    for (int64_t i = from; i < to; ++i) v.push_back(static_cast<int32_t>(a[0][i]));
    return v;
}

bool g_profile = false;  // --profile

// With --profile: run(), synced, under the profiler; its table is printed as `what`.
template <class F>
void profiled(const Setup& s, const std::string& what, F&& run) {
    if (!g_profile) return;
    sync(s);
    bench::OpProfiler profiler(s.device.is_cuda());
    run();
    sync(s);
    bench::print_profile(profiler.stop(), what, 15);
    std::fflush(stdout);
}

// Runs step() once (warm-up), then `steps` times: {wall seconds, process CPU seconds} of the timed steps. With
// --profile, then one more step under the profiler.
template <class F>
std::pair<double, double> time_steps(const Setup& s, int64_t steps, F& step, const std::string& what) {
    step();
    sync(s);
    const auto t0 = Clock::now();
    const std::clock_t c0 = std::clock();
    for (int64_t i = 0; i < steps; ++i) step();
    sync(s);
    const std::pair<double, double> out{seconds_since(t0), cpu_seconds_since(c0)};
    profiled(s, what + ": one step", step);
    return out;
}

// DPO with the reference log-probs precomputed once by `logps` ([chosen, rejected] summed action log-probs; LoRA
// off, no grad), then timed steps of logps + sigmoid loss + backward + AdamW. Prints pairs/s and the precompute.
template <class F>
void bench_dpo_precomputed(Setup& s, train::Optimizer& opt, bool autocast, int64_t steps, const char* label, F logps) {
    torch::Tensor ref;
    const auto t_ref = Clock::now();
    {
        torch::NoGradGuard ng;
        model::CudaAutocast a(autocast);
        model::set_lora_enabled(*s.net, false);
        ref = logps();
        model::set_lora_enabled(*s.net, true);
    }
    sync(s);
    const double ref_s = seconds_since(t_ref);
    profiled(s, std::string(label) + ": the reference precompute (once more)", [&] {
        torch::NoGradGuard ng;
        model::CudaAutocast a(autocast);
        model::set_lora_enabled(*s.net, false);
        (void)logps();
        model::set_lora_enabled(*s.net, true);
    });
    auto step = [&] {
        torch::Tensor loss;
        {
            model::CudaAutocast a(autocast);
            auto lp = logps();
            loss = train::dpo_loss(lp.narrow(0, 0, 1), lp.narrow(0, 1, 1), ref.narrow(0, 0, 1), ref.narrow(0, 1, 1), 0.1,
                                   train::DpoLoss::Sigmoid)
                       .loss;
        }
        loss.backward();
        opt.step();
    };
    const auto [dt, cpu] = time_steps(s, steps, step, label);
    std::printf("%s: %.3f pairs/s (%.3f per CPU-second; + reference precompute %.3f s per pair, once; %.3f pairs/s "
                "including it)\n",
                label, double(steps) / dt, double(steps) / cpu, ref_s, 1.0 / (dt / double(steps) + ref_s));
}

double peak_rss_mib() {
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
    bool gpu = false, grad_ckpt = false, full_logits = false, real_vocab = false;
    std::string only;
    int64_t L = 512, steps = 5, response = 64;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--gpu")) gpu = true;
        else if (!std::strcmp(argv[i], "--grad-ckpt")) grad_ckpt = true;
        else if (!std::strcmp(argv[i], "--full-logits")) full_logits = true;
        else if (!std::strcmp(argv[i], "--real-vocab")) real_vocab = true;
        else if (!std::strcmp(argv[i], "--profile")) g_profile = true;
        else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!std::strcmp(argv[i], "--seq") && i + 1 < argc) L = std::stoll(argv[++i]);
        else if (!std::strcmp(argv[i], "--steps") && i + 1 < argc) steps = std::stoll(argv[++i]);
        else if (!std::strcmp(argv[i], "--response") && i + 1 < argc) response = std::stoll(argv[++i]);
        else {
            std::fprintf(stderr, "usage: bench_train [--gpu] [--grad-ckpt] [--full-logits] [--real-vocab] [--only sft|dpo|optim] "
                                 "[--seq L] [--steps N] [--response N] [--profile]\n");
            return 2;
        }
    }
    if (gpu && L == 512) L = 2048;
    // As the trainer does on CPU (core/training/cpu_allocator.h); MATRIX_MALLOC_DEFAULT=1 measures glibc's defaults.
    if (!gpu) {
        const std::string note = train::keep_freed_memory_for_reuse();
        std::printf("allocator: %s\n", note.empty() ? "glibc defaults" : note.c_str());
    }
    Setup s;
    if (gpu) {
        if (!torch::cuda::is_available()) {
            std::fprintf(stderr, "bench_train: --gpu but CUDA is not available\n");
            return 1;
        }
        s.device = torch::Device("cuda:0");
        const auto cfg = model::qwen2vl_7b_config();
        model::LoadOptions lo;
        lo.device = s.device;
        lo.dtype = torch::kBFloat16;
        auto net = model::random_qwen2vl(cfg, lo, 0);
        if (!net.ok()) return std::fprintf(stderr, "%s\n", net.error().to_string().c_str()), 1;
        s.net = *net;
        s.grid = torch::tensor({{1, 32, 32}}, torch::kInt64);  // 448x448
        s.pixels = torch::randn({1024, 1176}).to(s.device, torch::kBFloat16);
    } else {
        const std::string dir = std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny/tiny-qwen2vl";
        auto net = model::load_qwen2vl(dir);
        if (real_vocab) {
            // The tiny model's shapes with Qwen2-VL's real vocabulary (152,064), random weights: the LM head then
            // weighs as it does in a 7B model's training step (there: ~8% of the forward FLOPs, and the logits).
            auto cfg = model::load_config(dir);
            if (!cfg.ok()) return std::fprintf(stderr, "%s\n", cfg.error().to_string().c_str()), 1;
            cfg->text.vocab_size = 152064;
            net = model::random_qwen2vl(*cfg, model::LoadOptions{}, 0);
        }
        if (!net.ok()) return std::fprintf(stderr, "%s\n", net.error().to_string().c_str()), 1;
        s.net = *net;
        s.grid = torch::tensor({{1, 8, 12}}, torch::kInt64);  // 168x112
        s.pixels = torch::randn({96, 1176});
    }
    const auto& cfg = s.net->cfg;
    s.image_tokens = s.grid.prod().item<int64_t>() / 4;
    s.image_token_id = cfg.image_token_id;
    s.vision_start = cfg.vision_start_token_id;
    s.vision_end = cfg.vision_end_token_id;
    s.vocab = cfg.text.vocab_size;
    model::LoraConfig lc;
    lc.r = 16;
    lc.alpha = 32;
    lc.dropout = 0.0;
    auto wrapped = model::attach_lora(*s.net, lc);
    if (!wrapped.ok()) return std::fprintf(stderr, "%s\n", wrapped.error().to_string().c_str()), 1;
    auto params = train::lora_trainable_params(*s.net);
    s.net->model->gradient_checkpointing = grad_ckpt;
    train::TrainingConfig tc;
    tc.lr = 1e-5;
    train::Optimizer opt(params, tc, 1000);
    s.net->train();
    const bool ac = gpu;
    std::printf("bench_train: %s, %s, L=%lld, LoRA r=16 on %zu modules, %lld image tokens, torch %s threads %d%s\n",
                gpu ? "cuda:0 bf16 (7B-shaped, random)"
                    : real_vocab ? "cpu f32 (tiny fixture shapes, vocab 152064, random)" : "cpu f32 (tiny fixture)", gpu ? "autocast" : "no autocast",
                (long long)L, wrapped->size(), (long long)s.image_tokens, TORCH_VERSION, torch::get_num_threads(),
                grad_ckpt ? ", gradient checkpointing" : "");

    // ---- SFT: forward + loss over the response half + backward + AdamW ----
    // ---- the optimizer step alone: multi-tensor AdamW (the trainer's) vs torch::optim::AdamW's per-parameter loop,
    // the same random grads into two copies of the LoRA parameters; time per step and how far the copies drift ----
    if (only == "optim") {
        std::vector<train::NamedParam> twin;
        for (const auto& p : params) twin.push_back({p.name, p.tensor.detach().clone().set_requires_grad(true)});
        train::Optimizer opt_ref(twin, tc, 1000);
        auto g = at::detail::createCPUGenerator(5);
        auto fill = [&] {
            for (size_t i = 0; i < params.size(); ++i) {
                auto grad = torch::randn(params[i].tensor.sizes(), g).to(s.device);
                params[i].tensor.mutable_grad() = grad;
                twin[i].tensor.mutable_grad() = grad.clone();
            }
        };
        double t_multi = 0, t_loop = 0;
        const int n = static_cast<int>(std::max<int64_t>(steps, 20));
        for (int i = 0; i < n + 1; ++i) {  // the first (state creation) is not timed
            fill();
            sync(s);
            auto t0 = Clock::now();
            opt.adamw_update();
            sync(s);
            if (i > 0) t_multi += seconds_since(t0);
            t0 = Clock::now();
            opt_ref.adamw_update(/*per_parameter=*/true);
            sync(s);
            if (i > 0) t_loop += seconds_since(t0);
        }
        double drift = 0;
        for (size_t i = 0; i < params.size(); ++i)
            drift = std::max(drift, (params[i].tensor - twin[i].tensor).abs().max().item<double>());
        std::printf("AdamW over %zu tensors: multi-tensor %.3f ms/step, per-parameter loop %.3f ms/step; max |diff| "
                    "after %d steps %.3g\n",
                    params.size(), 1e3 * t_multi / n, 1e3 * t_loop / n, n + 1, drift);
        return 0;
    }

    if (only.empty() || only == "sft") {
        auto ids = make_ids(s, L, 1);
        auto labels = ids.clone();
        labels.narrow(1, 0, L / 2).fill_(train::kIgnoreIndex);
        labels = labels.to(s.device);
        // The trainer's way: the LM head only at the labelled rows; --full-logits: over every position (HF's way).
        auto step = [&] {
            torch::Tensor loss;
            {
                model::CudaAutocast a(ac);
                auto in = input(s, ids, 1);
                if (full_logits) {
                    loss = train::sft_loss(s.net->forward(in).logits, labels);
                } else {
                    const auto rows = train::label_rows(labels);
                    in.logit_rows = rows.rows;
                    loss = train::sft_loss_at_rows(s.net->forward(in).logits, rows);
                }
            }
            loss.backward();
            opt.step();
        };
        const auto [dt, cpu] = time_steps(s, steps, step, full_logits ? "SFT (full logits)" : "SFT");
        std::printf("SFT (%s): %.1f tokens/s (%.3f s/step; %.1f tokens per CPU-second)\n",
                    full_logits ? "full logits" : "logits at labelled rows", double(L * steps) / dt,
                    dt / double(steps), double(L * steps) / cpu);
    }

    if (only == "sft") {
        std::printf("peak RSS: %.0f MiB\n", peak_rss_mib());
        return 0;
    }
    // ---- DPO ----
    const int64_t P = L - response;
    auto chosen = make_ids(s, L, 2), rejected = make_ids(s, L, 3);
    rejected.narrow(1, 0, P).copy_(chosen.narrow(1, 0, P));  // shared context
    auto labels_of = [&](const torch::Tensor& ids) {
        auto l = ids.clone();
        l.narrow(1, 0, P).fill_(train::kIgnoreIndex);
        return l.to(s.device);
    };
    auto both = torch::cat({chosen, rejected}, 0);
    auto both_labels = torch::cat({labels_of(chosen), labels_of(rejected)}, 0);
    {
        // naive: 2 policy forwards + 2 reference forwards, full logits.
        auto step = [&] {
            torch::Tensor rc, rr;
            {
                torch::NoGradGuard ng;
                model::CudaAutocast a(ac);
                model::set_lora_enabled(*s.net, false);
                rc = train::sequence_logps(s.net->forward(input(s, chosen, 1)).logits, labels_of(chosen));
                rr = train::sequence_logps(s.net->forward(input(s, rejected, 1)).logits, labels_of(rejected));
                model::set_lora_enabled(*s.net, true);
            }
            torch::Tensor loss;
            {
                model::CudaAutocast a(ac);
                auto pc = train::sequence_logps(s.net->forward(input(s, chosen, 1)).logits, labels_of(chosen));
                auto pr = train::sequence_logps(s.net->forward(input(s, rejected, 1)).logits, labels_of(rejected));
                loss = train::dpo_loss(pc, pr, rc, rr, 0.1, train::DpoLoss::Sigmoid).loss;
            }
            loss.backward();
            opt.step();
        };
        const auto [dt, cpu] = time_steps(s, steps, step, "DPO naive");
        std::printf("DPO naive (policy c, policy r, ref c, ref r): %.3f pairs/s (%.3f per CPU-second)\n",
                    double(steps) / dt, double(steps) / cpu);
    }
    // batched: reference precomputed once (batched [c, r], no grad), then policy [c, r] in one forward with logits
    // only at the action tokens (the trainer with share_context=false).
    const auto both_rows = train::label_rows(both_labels);
    bench_dpo_precomputed(s, opt, ac, steps, "DPO batched (precomputed reference, [c, r] batched, logits at actions)",
                          [&] {
                              auto in = input(s, both, 2);
                              in.logit_rows = both_rows.rows;
                              return train::sequence_logps_and_counts_at_rows(s.net->forward(in).logits, both_rows)
                                  .first;
                          });
    // shared: the context forwarded once (keys/values recorded with grad), chosen and rejected continuations batched
    // against it (core/training/shared_context.h, the trainer's path); reference precomputed the same way.
    std::vector<train::PairTokens> pair(1);
    pair[0].prompt = to_vec(chosen, 0, P);
    pair[0].chosen = to_vec(chosen, P, L);
    pair[0].rejected = to_vec(rejected, P, L);
    bench_dpo_precomputed(s, opt, ac, steps,
                          "DPO shared context (precomputed reference, context once, [c, r] against its keys/values)",
                          [&] { return train::shared_context_logps(*s.net, pair, s.pixels, s.grid, 0).logps; });
    std::printf("peak RSS: %.0f MiB%s\n", peak_rss_mib(), gpu ? " (CUDA memory: see nvidia-smi)" : "");
    return 0;
}
