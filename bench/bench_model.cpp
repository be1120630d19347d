// Qwen2-VL engine throughput: prefill and decode tokens/s through core/model/generation (static KV cache).
//   bench_model                      CPU, the tiny fixture model (float32): case-1 prompt with two images, a long
//                                    text prompt, batch 1 and 4
//   bench_model --7b [--device cuda] [--dtype bf16] [--prompt 1024] [--new 128]
//                                    a Qwen2-VL-7B-shaped model with random weights (no download), one 448x448
//                                    image (256 merged tokens) inside a `prompt`-token prompt, batch 1: the setting
//                                    of the anchor (HF transformers on H200: 51 tokens/s decode).
// Prints one line per case: name, prompt tokens, prefill tokens/s, decode tokens/s.
#include <cstdio>
#include <cstring>
#include <string>

#include "core/model/generation.h"
#include "core/model/qwen2vl.h"
#include "core/model/sdpa.h"
#include "core/model/weights.h"
#include "core/util/safetensors.h"

using namespace matrix;
using namespace matrix::model;

namespace {

struct Case {
    std::string name;
    GenerationRequest req;
    int64_t new_tokens;
};

void run_case(Qwen2VL& m, const Case& c, int repeats) {
    SamplingOptions opt;
    opt.max_new_tokens = c.new_tokens;
    opt.ignore_eos = true;
    double best_prefill = 1e30, best_decode = 1e30;
    int64_t steps = 0;
    for (int i = 0; i < repeats + 1; ++i) {  // first run warms up
        auto r = generate(m, c.req, opt);
        if (!r.ok()) {
            std::fprintf(stderr, "%s: %s\n", c.name.c_str(), r.error().to_string().c_str());
            return;
        }
        if (i == 0) continue;
        best_prefill = std::min(best_prefill, r->prefill_seconds);
        best_decode = std::min(best_decode, r->decode_seconds);
        steps = r->decode_steps;
    }
    const int64_t B = c.req.input_ids.size(0), L = c.req.input_ids.size(1);
    std::printf("%-28s batch %2lld  prompt %5lld  prefill %9.1f tok/s (%.3f s)  decode %8.1f tok/s (%lld steps, %.2f ms/step)\n",
                c.name.c_str(), (long long)B, (long long)L, B * L / best_prefill, best_prefill,
                steps > 0 ? B * steps / best_decode : 0.0, (long long)steps, steps > 0 ? 1000 * best_decode / steps : 0.0);
    std::fflush(stdout);
}

torch::Tensor ref_tensor(SafetensorsFile& f, const char* name) {
    return view_tensor(*f.find(name))->clone();
}

int bench_tiny(int repeats) {
    const std::string fx = std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny";
    auto m = load_qwen2vl(fx + "/tiny-qwen2vl");
    if (!m.ok()) {
        std::fprintf(stderr, "%s\n", m.error().to_string().c_str());
        return 1;
    }
    auto ref = *SafetensorsFile::open(fx + "/reference.safetensors");
    Case c1{"tiny case1 (2 images)", {}, 64};
    c1.req.input_ids = ref_tensor(*ref, "case1.input_ids");
    c1.req.pixel_values = ref_tensor(*ref, "case1.pixel_values");
    c1.req.image_grid_thw = ref_tensor(*ref, "case1.grid_thw");
    run_case(*m, c1, repeats);
    torch::manual_seed(0);
    for (int64_t b : {1, 4}) {
        Case c{"tiny text 1024", {}, 128};
        c.req.input_ids = torch::randint(0, 1800, {b, 1024}, torch::kInt64);
        run_case(*m, c, repeats);
    }
    return 0;
}

Qwen2VLConfig qwen2vl_7b_config() {
    Qwen2VLConfig cfg;  // defaults in config.h are Qwen2-VL-7B-Instruct's
    cfg.text.vocab_size = 152064;
    cfg.text.hidden_size = 3584;
    cfg.text.intermediate_size = 18944;
    cfg.text.num_hidden_layers = 28;
    cfg.text.num_attention_heads = 28;
    cfg.text.num_key_value_heads = 4;
    cfg.text.mrope_section = {16, 24, 24};
    cfg.vision.depth = 32;
    cfg.vision.embed_dim = 1280;
    cfg.vision.num_heads = 16;
    cfg.vision.mlp_ratio = 4;
    cfg.vision.hidden_size = 3584;
    return cfg;
}

int bench_7b(const std::string& device, const std::string& dtype, int64_t prompt, int64_t new_tokens, int repeats) {
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
    run_case(*m, c, repeats);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    bool big = false;
    std::string device = "cpu", dtype = "bf16";
    int64_t prompt = 1024, new_tokens = 128;
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
        else {
            std::fprintf(stderr, "usage: bench_model [--7b [--device cuda] [--dtype bf16|f16|f32] [--prompt N] [--new N]] [--repeats N]\n");
            return 2;
        }
    }
    std::printf("attention: %s, threads: %d\n", attention_backend(), torch::get_num_threads());
    torch::NoGradGuard ng;
    return big ? bench_7b(device, dtype, prompt, new_tokens, repeats) : bench_tiny(repeats);
}
