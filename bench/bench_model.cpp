// Qwen2-VL engine throughput: prefill and decode tokens/s through core/model/generation (static KV cache).
//   bench_model                      CPU, the tiny fixture model (float32): case-1 prompt with two images, a long
//                                    text prompt, batch 1 and 4
//   bench_model --7b [--device cuda] [--dtype bf16] [--prompt 1024] [--new 128]
//                                    a Qwen2-VL-7B-shaped model with random weights (no download), one 448x448
//                                    image (256 merged tokens) inside a `prompt`-token prompt, batch 1: the setting
//                                    of the anchor (HF transformers on H200: 51 tokens/s decode).
//   bench_model ... --cuda-graph     decode greedy steps by replaying a captured CUDA graph (LibTorch with CUDA);
//                                    the 7B case first decodes eagerly and reports whether both give the same tokens
//   bench_model --check [--device cuda] [--fixture DIR]
//                                    numerics on a device against the HF fixture (float32): case-1 logits (2 images),
//                                    case-2 padded batch, the 24 greedy tokens (eager, fixed-shape step, CUDA graph);
//                                    exit 1 when a check fails (the GPU script's first step).
//   bench_model ... --profile N      after each case's timing, LibTorch's profiler over the prefill and over N decode
//                                    steps (bench/op_profile.h): per op calls and self time, the op calls the engine
//                                    makes per step, and on CUDA the kernel launches, kernel times and device busy
//                                    time per decode step (where the time goes: issue 18's first step).
// Prints one line per case: name, prompt tokens, prefill tokens/s, decode tokens/s.
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include <torch/version.h>

#include "core/model/cuda_graph_decode.h"
#include "core/model/generation.h"
#include "core/model/qwen2vl.h"
#include "core/model/sdpa.h"
#include "core/model/weights.h"
#include "core/util/safetensors.h"
#include "bench/op_profile.h"

using namespace matrix;
using namespace matrix::model;

namespace {

struct Case {
    std::string name;
    GenerationRequest req;
    int64_t new_tokens;
};

void sync_device(const Qwen2VL& m) {
    if (m->device().is_cuda()) torch::cuda::synchronize();
}

// Greedy tokens of one case, for comparing decode paths (fixed: the graph path's step run eagerly).
std::vector<int64_t> greedy_tokens(Qwen2VL& m, const GenerationRequest& req, int64_t n, bool graph, bool* used = nullptr,
                                   bool fixed = false) {
    SamplingOptions opt;
    opt.max_new_tokens = n;
    opt.ignore_eos = true;
    opt.cuda_graph = graph;
    opt.static_decode = fixed;
    auto r = generate(m, req, opt);
    if (!r.ok()) {
        std::fprintf(stderr, "generate: %s\n", r.error().to_string().c_str());
        return {};
    }
    if (used) *used = r->cuda_graph;
    return r->tokens.at(0);
}

void run_case(Qwen2VL& m, const Case& c, int repeats, bool cuda_graph) {
    SamplingOptions opt;
    opt.max_new_tokens = c.new_tokens;
    opt.ignore_eos = true;
    opt.cuda_graph = cuda_graph;
    bool graph_used = false;
    double best_prefill = 1e30, best_decode = 1e30;
    int64_t steps = 0;
    for (int i = 0; i < repeats + 1; ++i) {  // first run warms up
        sync_device(m);
        auto r = generate(m, c.req, opt);
        if (!r.ok()) {
            std::fprintf(stderr, "%s: %s\n", c.name.c_str(), r.error().to_string().c_str());
            return;
        }
        graph_used = r->cuda_graph;
        if (i == 0) continue;
        best_prefill = std::min(best_prefill, r->prefill_seconds);
        best_decode = std::min(best_decode, r->decode_seconds);
        steps = r->decode_steps;
    }
    const int64_t B = c.req.input_ids.size(0), L = c.req.input_ids.size(1);
    std::printf("%-28s batch %2lld  prompt %5lld  prefill %9.1f tok/s (%.3f s)  decode %8.1f tok/s (%lld steps, %.2f ms/step)%s\n",
                c.name.c_str(), (long long)B, (long long)L, B * L / best_prefill, best_prefill,
                steps > 0 ? B * steps / best_decode : 0.0, (long long)steps, steps > 0 ? 1000 * best_decode / steps : 0.0,
                graph_used ? "  [cuda graph]" : "");
    std::fflush(stdout);
}

// The profiler over one case: the prefill (a generation of one token), and one decode step as the difference of two
// generations that differ by `steps` decode steps (both past the start, so a CUDA graph's capture is in both).
// Returns the decode step's profile (empty when steps <= 0); `print`: also print both tables.
bench::OpProfile profile_case(Qwen2VL& m, const Case& c, int64_t steps, bool cuda_graph, bool print = true) {
    if (steps <= 0) return {};
    SamplingOptions opt;
    opt.ignore_eos = true;
    opt.cuda_graph = cuda_graph;
    const bool cuda = m->device().is_cuda();
    auto profiled = [&](int64_t new_tokens) {
        opt.max_new_tokens = new_tokens;
        (void)generate(m, c.req, opt);  // warm: the allocator's blocks for these shapes
        sync_device(m);
        bench::OpProfiler profiler(cuda);
        auto r = generate(m, c.req, opt);
        sync_device(m);
        bench::OpProfile p = profiler.stop();
        if (!r.ok()) std::fprintf(stderr, "%s: %s\n", c.name.c_str(), r.error().to_string().c_str());
        return p;
    };
    const std::string name = c.name + (cuda_graph ? " [cuda graph]" : "");
    if (print) bench::print_profile(profiled(1), name + ": prefill + first token", 12);
    const int64_t lead = 4;
    const bench::OpProfile a = profiled(1 + lead), b = profiled(1 + lead + steps);
    bench::OpProfile step = bench::per_step_difference(b, a, double(steps));
    if (print) bench::print_profile(step, name + ": one decode step (mean of " + std::to_string(steps) + ")", 12);
    std::fflush(stdout);
    return step;
}

// The op calls of a decode step split into one decoder layer's and the rest: the tiny model's shapes with 2 and 4
// text layers (random weights), the difference over 2 is one layer. A map of launch overheads: on a GPU every such
// op is at least one kernel launch, so a 28-layer model's eager step makes about rest + 28 x layer of them.
void profile_layers(const std::string& fx, int64_t steps) {
    auto cfg = load_config(fx + "/tiny-qwen2vl");
    if (!cfg.ok()) {
        std::fprintf(stderr, "%s\n", cfg.error().to_string().c_str());
        return;
    }
    std::vector<bench::OpProfile> per_depth;
    for (int64_t layers : {2, 4}) {
        cfg->text.num_hidden_layers = layers;
        LoadOptions lo;
        lo.dtype = torch::kFloat32;
        auto m = random_qwen2vl(*cfg, lo, 0);
        if (!m.ok()) {
            std::fprintf(stderr, "%s\n", m.error().to_string().c_str());
            return;
        }
        Case c{"tiny text 256", {}, 8};
        torch::manual_seed(0);
        c.req.input_ids = torch::randint(0, 1800, {1, 256}, torch::kInt64);
        per_depth.push_back(profile_case(*m, c, steps, false, false));
    }
    const bench::OpProfile layer = bench::per_step_difference(per_depth[1], per_depth[0], 2.0);
    bench::print_profile(layer, "one decoder layer of a decode step (4 layers - 2 layers, / 2)", 16);
    const double rest = per_depth[0].top_level_ops - 2 * layer.top_level_ops;
    const double rest_compute = per_depth[0].compute_ops - 2 * layer.compute_ops;
    std::printf("decode step: op calls %.1f outside the decoder layers + %.1f per layer (28 layers, 7B: %.0f); compute "
                "ops %.1f + %.1f per layer (28 layers: %.0f, about the kernels an eager GPU step launches)\n",
                rest, layer.top_level_ops, rest + 28 * layer.top_level_ops, rest_compute, layer.compute_ops,
                rest_compute + 28 * layer.compute_ops);
    std::fflush(stdout);
}

torch::Tensor ref_tensor(SafetensorsFile& f, const char* name) {
    return view_tensor(*f.find(name))->clone();
}

// The fixture's tiny model in float32 on `device` (the error is printed).
std::optional<Qwen2VL> load_tiny(const std::string& fx, const std::string& device) {
    LoadOptions lo;
    lo.device = torch::Device(device);
    lo.dtype = torch::kFloat32;
    auto m = load_qwen2vl(fx + "/tiny-qwen2vl", lo);
    if (!m.ok()) {
        std::fprintf(stderr, "%s\n", m.error().to_string().c_str());
        return std::nullopt;
    }
    return std::move(*m);
}

int bench_tiny(const std::string& fx, const std::string& device, int repeats, bool cuda_graph, int64_t profile) {
    auto m = load_tiny(fx, device);
    if (!m) return 1;
    auto ref = *SafetensorsFile::open(fx + "/reference.safetensors");
    Case c1{"tiny case1 (2 images)", {}, 64};
    c1.req.input_ids = ref_tensor(*ref, "case1.input_ids");
    c1.req.pixel_values = ref_tensor(*ref, "case1.pixel_values");
    c1.req.image_grid_thw = ref_tensor(*ref, "case1.grid_thw");
    run_case(*m, c1, repeats, cuda_graph);
    profile_case(*m, c1, profile, cuda_graph);
    torch::manual_seed(0);
    for (int64_t b : {1, 4}) {
        Case c{"tiny text 1024", {}, 128};
        c.req.input_ids = torch::randint(0, 1800, {b, 1024}, torch::kInt64);
        run_case(*m, c, repeats, cuda_graph);
        if (b == 1) profile_case(*m, c, profile, cuda_graph);
    }
    if (profile > 0 && !torch::Device(device).is_cuda()) profile_layers(fx, profile);
    return 0;
}

// Numerics of the engine on `device` against the HF fixture, float32. Tolerances: the fixture's (1e-4) on CPU;
// on CUDA 1e-3 for logits (other kernels and reduction orders; TF32 stays off for matmuls by default).
int check_fixture(const std::string& fx, const std::string& device) {
    auto m = load_tiny(fx, device);
    if (!m) return 1;
    auto ref = *SafetensorsFile::open(fx + "/reference.safetensors");
    const bool on_cuda = torch::Device(device).is_cuda();
    const double tol = on_cuda ? 1e-3 : 1e-4;
    int failures = 0;
    auto report = [&](const char* what, bool ok, const std::string& detail) {
        std::printf("check %-40s %s  %s\n", what, ok ? "PASS" : "FAIL", detail.c_str());
        std::fflush(stdout);
        if (!ok) ++failures;
    };
    {
        ForwardInput in;
        in.input_ids = ref_tensor(*ref, "case1.input_ids");
        in.pixel_values = ref_tensor(*ref, "case1.pixel_values");
        in.image_grid_thw = ref_tensor(*ref, "case1.grid_thw");
        auto out = (*m)->forward(in);
        const double d = (out.logits.to(torch::kCPU, torch::kFloat32) - ref_tensor(*ref, "case1.logits")).abs().max().item<double>();
        report("case1 logits (2 images)", d < tol, "max |diff| " + std::to_string(d));
        const bool pos = torch::equal(out.position_ids.to(torch::kCPU), ref_tensor(*ref, "case1.position_ids").to(torch::kInt64));
        report("case1 M-RoPE position ids", pos, "exact");
    }
    {
        ForwardInput in;
        in.input_ids = ref_tensor(*ref, "case2.input_ids");
        in.attention_mask = ref_tensor(*ref, "case2.attention_mask");
        auto out = (*m)->forward(in);
        auto mask = in.attention_mask.to(torch::kBool);
        auto got = out.logits.to(torch::kCPU, torch::kFloat32).index({mask});
        auto want = ref_tensor(*ref, "case2.logits").index({mask});
        const double d = (got - want).abs().max().item<double>();
        report("case2 logits (padded batch of 2)", d < tol, "max |diff| " + std::to_string(d));
    }
    GenerationRequest req;
    req.input_ids = ref_tensor(*ref, "case1.input_ids");
    req.pixel_values = ref_tensor(*ref, "case1.pixel_values");
    req.image_grid_thw = ref_tensor(*ref, "case1.grid_thw");
    auto expect_t = ref_tensor(*ref, "case1.generated").to(torch::kInt64).view({-1});
    std::vector<int64_t> expect(expect_t.data_ptr<int64_t>(), expect_t.data_ptr<int64_t>() + expect_t.numel());
    auto eager = greedy_tokens(*m, req, 24, false);
    int64_t same = 0;
    while (same < (int64_t)std::min(eager.size(), expect.size()) && eager[same] == expect[same]) ++same;
    report("case1 greedy 24 tokens (eager)", eager == expect, std::to_string(same) + "/24 equal");
    auto fixed = greedy_tokens(*m, req, 24, false, nullptr, true);
    same = 0;
    while (same < (int64_t)std::min(fixed.size(), expect.size()) && fixed[same] == expect[same]) ++same;
    report("case1 greedy 24 tokens (fixed-shape step)", fixed == expect, std::to_string(same) + "/24 equal");
    if (on_cuda) {
        bool used = false;
        auto graph = greedy_tokens(*m, req, 24, true, &used);
        if (!used) {
            report("case1 greedy 24 tokens (CUDA graph)", false, "not compiled in (LibTorch without torch_cuda?)");
        } else {
            same = 0;
            while (same < (int64_t)std::min(graph.size(), expect.size()) && graph[same] == expect[same]) ++same;
            report("case1 greedy 24 tokens (CUDA graph)", graph == expect, std::to_string(same) + "/24 equal");
        }
        // A padded batch of 2 with 2 candidates each, eager vs graph (masking and row bookkeeping).
        GenerationRequest pr;
        pr.input_ids = ref_tensor(*ref, "case2.input_ids");
        pr.attention_mask = ref_tensor(*ref, "case2.attention_mask");
        SamplingOptions opt;
        opt.max_new_tokens = 16;
        opt.ignore_eos = true;
        opt.n = 2;
        auto a = generate(*m, pr, opt);
        opt.cuda_graph = true;
        auto b = generate(*m, pr, opt);
        const bool ok = a.ok() && b.ok() && a->tokens == b->tokens;
        report("case2 padded batch x2 candidates, graph == eager", ok && used, ok ? "16 tokens x 4 rows" : "differ or failed");
    }
    std::printf("check %s: %d failure(s)\n", failures == 0 ? "PASSED" : "FAILED", failures);
    return failures == 0 ? 0 : 1;
}

int bench_7b(const std::string& device, const std::string& dtype, int64_t prompt, int64_t new_tokens, int repeats,
             bool cuda_graph, int64_t profile) {
    auto cfg = qwen2vl_7b_config();
    LoadOptions lo;
    lo.device = torch::Device(device);
    lo.dtype = dtype == "f32" ? torch::kFloat32 : dtype == "f16" ? torch::kFloat16 : torch::kBFloat16;
    auto m = random_qwen2vl(cfg, lo);
    if (!m.ok()) {
        std::fprintf(stderr, "%s\n", m.error().to_string().c_str());
        return 1;
    }
    // 448x448 image: grid 1x32x32 patches -> 256 tokens after the 2x2 merge.
    const int64_t n_img = 256;
    if (prompt < n_img + 16) prompt = n_img + 16;
    auto ids = torch::randint(0, 151000, {1, prompt}, torch::kInt64);
    ids[0][10] = cfg.vision_start_token_id;
    ids[0].narrow(0, 11, n_img).fill_(cfg.image_token_id);
    ids[0][11 + n_img] = cfg.vision_end_token_id;
    Case c{"qwen2vl-7b-shaped " + dtype + " " + device, {}, new_tokens};
    c.req.input_ids = ids;
    c.req.pixel_values = torch::randn({1024, cfg.vision.patch_dim()});
    c.req.image_grid_thw = torch::tensor({1, 32, 32}, torch::kInt64).view({1, 3});
    if (cuda_graph) {
        // Random weights give nearly flat logits, so bf16 rounding differences between the two attention paths
        // (cache narrowed vs masked) can flip a near-tie: report where the two first differ instead of failing.
        bool used = false;
        auto e = greedy_tokens(*m, c.req, 32, false), g = greedy_tokens(*m, c.req, 32, true, &used);
        int64_t same = 0;
        while (same < (int64_t)std::min(e.size(), g.size()) && e[same] == g[same]) ++same;
        std::printf("graph vs eager greedy tokens: %lld/32 equal before the first difference%s\n", (long long)same,
                    used ? "" : " (graph NOT used)");
    }
    run_case(*m, c, repeats, false);
    if (cuda_graph) run_case(*m, c, repeats, true);
    profile_case(*m, c, profile, false);
    if (cuda_graph) profile_case(*m, c, profile, true);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    bool big = false, check = false, cuda_graph = false;
    std::string device = "cpu", dtype = "bf16", fixture = std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny";
    int64_t prompt = 1024, new_tokens = 128, profile = 0;
    int repeats = 2;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (a == "--7b") big = true;
        else if (a == "--device") device = next();
        else if (a == "--dtype") dtype = next();
        else if (a == "--prompt") prompt = std::stoll(next());
        else if (a == "--new") new_tokens = std::stoll(next());
        else if (a == "--repeats") repeats = std::stoi(next());
        else if (a == "--check") check = true;
        else if (a == "--cuda-graph") cuda_graph = true;
        else if (a == "--fixture") fixture = next();
        else if (a == "--profile") profile = std::stoll(next());
        else {
            std::fprintf(stderr, "usage: bench_model [--7b [--dtype bf16|f16|f32] [--prompt N] [--new N]] [--device cpu|cuda] "
                                 "[--repeats N] [--cuda-graph] [--profile STEPS] | --check [--device cuda] [--fixture DIR]\n");
            return 2;
        }
    }
    std::printf("attention: %s, threads: %d, LibTorch %s, CUDA graphs %s\n", attention_backend(), torch::get_num_threads(),
                TORCH_VERSION, cuda_graph_decoding_available() ? "compiled in" : "not compiled in");
    torch::NoGradGuard ng;
    try {
        if (check) return check_fixture(fixture, device);
        return big ? bench_7b(device, dtype, prompt, new_tokens, repeats, cuda_graph, profile)
                   : bench_tiny(fixture, device, repeats, cuda_graph, profile);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_model: %s\n", e.what());
        return 1;
    }
}
