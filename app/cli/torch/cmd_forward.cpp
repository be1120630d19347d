// `matrix forward`: one forward pass of a Qwen2-VL checkpoint (optionally with a PEFT LoRA adapter) on tensors
// from a safetensors file, writing logits (float32), M-RoPE position ids and, with labels, the HF-shifted mean
// token loss and the per-row sum of labelled log-probs. The engine's debugging tool: diff its output against a
// transformers dump (`--tap DIR` also writes every named intermediate).
#include <iostream>

#include "app/cli/args.h"
#include "app/cli/command.h"
#include "core/model/lora.h"
#include "core/model/qwen2vl.h"
#include "core/model/weights.h"
#include "core/training/adapter_io.h"
#include "core/util/safetensors.h"

namespace {
using namespace matrix;
using namespace matrix::model;

const char* k_usage =
    "usage: matrix forward --model DIR [--adapter DIR] --inputs F.safetensors --out F.safetensors\n"
    "                      [--dtype f32|bf16|f16] [--device cpu|cuda[:N]] [--tap F.safetensors]\n"
    "  inputs: input_ids [B,L]; optional attention_mask [B,L], pixel_values [N,1176], image_grid_thw [n,3],\n"
    "          labels [B,L] (-100 = not scored)\n"
    "  outputs: logits [B,L,V] float32, position_ids [3,B,L], rope_deltas [B,1]; with labels also\n"
    "           loss [] (mean token cross-entropy, HF shift) and logps [B] (sum of labelled log-probs)\n";

Result<torch::ScalarType> parse_model_dtype(const std::string& s) {
    if (s == "f32" || s == "float32") return torch::kFloat32;
    if (s == "bf16" || s == "bfloat16") return torch::kBFloat16;
    if (s == "f16" || s == "float16") return torch::kFloat16;
    return make_error("unknown --dtype " + s + " (f32, bf16, f16)");
}

int run_forward_cmd(int argc, char** argv) {
    cli::Args args(k_usage, {"model", "adapter", "inputs", "out", "dtype", "device", "tap"});
    if (!args.parse(argc, argv)) return args.help_requested() ? 0 : 2;
    if (!args.require({"model", "inputs", "out"}, "forward")) return 2;
    auto dtype = parse_model_dtype(args.get_or("dtype", "f32"));
    if (!dtype.ok()) return cli::fail(dtype.error().to_string());
    try {
        torch::NoGradGuard ng;
        LoadOptions lo;
        lo.dtype = *dtype;
        lo.device = torch::Device(args.get_or("device", "cpu"));
        auto model = load_qwen2vl(*args.get("model"), lo);
        if (!model.ok()) return cli::fail(model.error().to_string());
        if (auto a = args.get("adapter")) {
            auto st = train::load_peft_adapter(**model, *a);
            if (!st.ok()) return cli::fail(st.error().to_string());
        }
        auto inputs = SafetensorsFile::open(*args.get("inputs"));
        if (!inputs.ok()) return cli::fail(inputs.error().to_string());
        auto get = [&](const char* name) -> torch::Tensor {
            const TensorView* v = (*inputs)->find(name);
            if (!v) return {};
            auto t = view_tensor(*v);
            if (!t.ok()) throw std::runtime_error(t.error().to_string());
            return t->clone();
        };
        ForwardInput in;
        in.input_ids = get("input_ids");
        if (!in.input_ids.defined()) return cli::fail(*args.get("inputs") + ": no tensor input_ids");
        in.attention_mask = get("attention_mask");
        in.pixel_values = get("pixel_values");
        in.image_grid_thw = get("image_grid_thw");
        if (!in.image_grid_thw.defined()) in.image_grid_thw = get("grid_thw");
        auto labels = get("labels");

        std::vector<torch::Tensor> tapped_keep;
        std::vector<std::string> tapped_names;
        Tap tap = [&](const std::string& name, int layer, const torch::Tensor& t) {
            tapped_names.push_back(layer >= 0 ? name + "." + std::to_string(layer) : name);
            tapped_keep.push_back(t.detach().to(torch::kCPU, torch::kFloat32).contiguous());
        };
        if (args.has("tap")) in.tap = &tap;
        auto out = run_forward(*model, in);
        if (!out.ok()) return cli::fail(out.error().to_string());

        std::vector<torch::Tensor> keep;
        std::vector<TensorToWrite> w;
        auto add = [&](const std::string& name, torch::Tensor t) {
            t = t.detach().to(torch::kCPU).contiguous();
            auto dt = safetensors_dtype(t.scalar_type());
            if (!dt.ok()) throw std::runtime_error(dt.error().to_string());
            keep.push_back(t);
            w.push_back({name, *dt, t.sizes().vec(), keep.back().data_ptr()});
        };
        keep.reserve(8);
        if (!torch::isfinite(out->logits).all().item<bool>())
            return cli::fail("forward: the model produced non-finite logits (NaN or infinity): check the model's "
                             "config.json (rope_theta, rms_norm_eps) and weights");
        add("logits", out->logits.to(torch::kFloat32));
        add("position_ids", out->position_ids.to(torch::kInt64));
        add("rope_deltas", out->rope_deltas.to(torch::kInt64));
        if (labels.defined()) {
            add("loss", lm_loss(out->logits, labels).to(torch::kFloat32));
            add("logps", sequence_logps(out->logits, labels).to(torch::kFloat32));
        }
        auto st = write_safetensors(*args.get("out"), w);
        if (!st.ok()) return cli::fail(st.error().to_string());
        if (args.has("tap")) {
            std::vector<TensorToWrite> tw;
            for (size_t i = 0; i < tapped_keep.size(); ++i)
                tw.push_back({tapped_names[i], DType::F32, tapped_keep[i].sizes().vec(), tapped_keep[i].data_ptr()});
            auto ts = write_safetensors(*args.get("tap"), tw);
            if (!ts.ok()) return cli::fail(ts.error().to_string());
        }
        std::cout << "logits " << out->logits.sizes() << " -> " << *args.get("out") << "\n";
    } catch (const std::exception& e) {
        return cli::fail(std::string("forward: ") + e.what());
    }
    return 0;
}
}  // namespace

MATRIX_CLI_COMMAND("forward", "run one Qwen2-VL forward pass on tensors from a safetensors file", run_forward_cmd);
