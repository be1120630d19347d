// Activation checkpointing of a decoder layer (see activation_checkpoint.h). Follows torch.utils.checkpoint's
// reentrant variant: forward under no grad keeping the inputs; backward forks the RNG to the forward's state,
// re-enters the forward's autocast state, recomputes with grad and calls torch::autograd::grad for the inputs that
// need it and for the layer's trainable parameters (passed to the Function as inputs, so their gradients reach
// their accumulators through the engine like any other node's, and `.backward(inputs=...)` / autograd::grad work).
#include "core/model/activation_checkpoint.h"

#include <ATen/Context.h>

#include <mutex>

#include "core/model/autocast.h"

namespace matrix::model {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

enum : int64_t { kHasMask = 1, kHasPrefix = 2, kRecord = 4 };

std::vector<torch::Tensor> trainable_params(DecoderLayerImpl& layer) {
    std::vector<torch::Tensor> out;
    for (auto& p : layer.parameters(true))
        if (p.requires_grad()) out.push_back(p);
    return out;
}

// Sets the device's default generator to `state` for the recompute and puts the current state back afterwards
// (torch.utils.checkpoint's fork_rng), so the recompute draws the forward's dropout masks and the run's RNG stream
// continues as without checkpointing.
class RngReplay {
public:
    RngReplay(const torch::Device& device, const torch::Tensor& state) {
        if (!state.defined()) return;
        m_gen = at::globalContext().defaultGenerator(device);
        std::lock_guard<std::mutex> lock(m_gen->mutex());
        m_current = m_gen->get_state();
        m_gen->set_state(state);
    }
    ~RngReplay() {
        if (!m_gen) return;
        std::lock_guard<std::mutex> lock(m_gen->mutex());
        m_gen->set_state(m_current);
    }
    RngReplay(const RngReplay&) = delete;
    RngReplay& operator=(const RngReplay&) = delete;

private:
    c10::optional<at::Generator> m_gen;
    torch::Tensor m_current;
};

// Runs the layer on the unpacked inputs; returns {h} or {h, k, v} (record).
variable_list run_layer(DecoderLayerImpl& layer, int64_t index, bool causal, int64_t flags, const torch::Tensor& x,
                        const torch::Tensor& cos, const torch::Tensor& sin, const torch::Tensor& mask,
                        const torch::Tensor& pk, const torch::Tensor& pv) {
    AttentionInputs ai;
    ai.cos = cos;
    ai.sin = sin;
    ai.mask = mask;
    ai.causal = causal;
    PrefixKV prefix, record;
    if (flags & kHasPrefix) {
        prefix.keys.resize(index + 1);
        prefix.values.resize(index + 1);
        prefix.keys[index] = pk;
        prefix.values[index] = pv;
        ai.prefix = &prefix;
    }
    if (flags & kRecord) ai.record = &record;
    auto h = layer.forward(x, ai, index);
    if (!(flags & kRecord)) return {h};
    auto k = record.keys.at(index), v = record.values.at(index);
    // Outputs of a custom Function must not be views of its intermediates.
    if (k.is_view()) k = k.clone();
    if (v.is_view()) v = v.clone();
    return {h, k, v};
}

struct LayerCheckpoint : public torch::autograd::Function<LayerCheckpoint> {
    // tensors: x, cos, sin, [mask], [prefix k, prefix v], trainable params...
    static variable_list forward(AutogradContext* ctx, DecoderLayerImpl* layer, int64_t index, bool causal,
                                 int64_t flags, at::TensorList tensors) {
        size_t i = 0;
        auto x = tensors[i++], cos = tensors[i++], sin = tensors[i++];
        torch::Tensor mask, pk, pv;
        if (flags & kHasMask) mask = tensors[i++];
        if (flags & kHasPrefix) {
            pk = tensors[i++];
            pv = tensors[i++];
        }
        ctx->saved_data["layer"] = reinterpret_cast<int64_t>(layer);
        ctx->saved_data["index"] = index;
        ctx->saved_data["causal"] = causal;
        ctx->saved_data["flags"] = flags;
        ctx->saved_data["n_inputs"] = static_cast<int64_t>(i);
        ctx->saved_data["x_grad"] = x.requires_grad();
        ctx->saved_data["prefix_grad"] = pk.defined() && (pk.requires_grad() || pv.requires_grad());
        ctx->saved_data["autocast"] = cuda_autocast_enabled();
        ctx->saved_data["autocast_dtype"] = static_cast<int64_t>(cuda_autocast_dtype());
        if (layer->is_training()) {  // dropout may draw: keep the generator state to replay it
            auto gen = at::globalContext().defaultGenerator(x.device());
            std::lock_guard<std::mutex> lock(gen.mutex());
            ctx->saved_data["rng"] = gen.get_state();
        }
        ctx->save_for_backward(variable_list(tensors.begin(), tensors.begin() + static_cast<std::ptrdiff_t>(i)));
        return run_layer(*layer, index, causal, flags, x, cos, sin, mask, pk, pv);
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        auto* layer = reinterpret_cast<DecoderLayerImpl*>(ctx->saved_data["layer"].toInt());
        const int64_t index = ctx->saved_data["index"].toInt();
        const bool causal = ctx->saved_data["causal"].toBool();
        const int64_t flags = ctx->saved_data["flags"].toInt();
        const bool x_grad = ctx->saved_data["x_grad"].toBool();
        const bool prefix_grad = ctx->saved_data["prefix_grad"].toBool();
        auto saved = ctx->get_saved_variables();
        size_t i = 0;
        auto x = saved[i++].detach().requires_grad_(x_grad);
        auto cos = saved[i++], sin = saved[i++];
        torch::Tensor mask, pk, pv;
        if (flags & kHasMask) mask = saved[i++];
        if (flags & kHasPrefix) {
            pk = saved[i++].detach().requires_grad_(prefix_grad);
            pv = saved[i++].detach().requires_grad_(prefix_grad);
        }
        const auto params = trainable_params(*layer);

        variable_list outputs;
        {
            torch::Tensor rng;
            auto it = ctx->saved_data.find("rng");
            if (it != ctx->saved_data.end()) rng = it->second.toTensor();
            RngReplay replay(x.device(), rng);
            CudaAutocast autocast(ctx->saved_data["autocast"].toBool(),
                                  static_cast<at::ScalarType>(ctx->saved_data["autocast_dtype"].toInt()));
            torch::AutoGradMode grad_on(true);
            outputs = run_layer(*layer, index, causal, flags, x, cos, sin, mask, pk, pv);
        }
        // Differentiate the outputs that depend on something trainable, w.r.t. what needs a gradient.
        variable_list outs, gouts, wrt;
        for (size_t o = 0; o < outputs.size(); ++o)
            if (outputs[o].requires_grad() && grads[o].defined()) {
                outs.push_back(outputs[o]);
                gouts.push_back(grads[o]);
            }
        if (x_grad) wrt.push_back(x);
        if (prefix_grad) {
            wrt.push_back(pk);
            wrt.push_back(pv);
        }
        wrt.insert(wrt.end(), params.begin(), params.end());
        variable_list g(wrt.size());
        if (!outs.empty() && !wrt.empty())
            g = torch::autograd::grad(outs, wrt, gouts, /*retain_graph=*/false, /*create_graph=*/false,
                                      /*allow_unused=*/true);
        // One entry per forward argument: layer, index, causal, flags (not tensors), then the tensor list.
        variable_list result(4);
        size_t j = 0;
        result.push_back(x_grad ? g[j++] : torch::Tensor());
        result.push_back(torch::Tensor());  // cos
        result.push_back(torch::Tensor());  // sin
        if (flags & kHasMask) result.push_back(torch::Tensor());
        if (flags & kHasPrefix) {
            result.push_back(prefix_grad ? g[j++] : torch::Tensor());
            result.push_back(prefix_grad ? g[j++] : torch::Tensor());
        }
        for (size_t p = 0; p < params.size(); ++p) result.push_back(g[j++]);
        return result;
    }
};

}  // namespace

torch::Tensor checkpointed_layer(DecoderLayerImpl& layer, const torch::Tensor& x, const AttentionInputs& in,
                                 int64_t index) {
    if (in.cache) throw std::runtime_error("gradient checkpointing does not apply to a forward with a KV cache");
    std::vector<torch::Tensor> tensors{x, in.cos, in.sin};
    int64_t flags = 0;
    if (in.mask.defined()) {
        flags |= kHasMask;
        tensors.push_back(in.mask);
    }
    if (in.prefix) {
        flags |= kHasPrefix;
        tensors.push_back(in.prefix->keys.at(index));
        tensors.push_back(in.prefix->values.at(index));
    }
    if (in.record) flags |= kRecord;
    for (auto& p : trainable_params(layer)) tensors.push_back(p);
    auto out = LayerCheckpoint::apply(&layer, index, in.causal, flags, at::TensorList(tensors));
    if (in.record) {
        if (static_cast<int64_t>(in.record->keys.size()) <= index) {
            in.record->keys.resize(index + 1);
            in.record->values.resize(index + 1);
        }
        in.record->keys[index] = out[1];
        in.record->values[index] = out[2];
    }
    return out[0];
}

}  // namespace matrix::model
