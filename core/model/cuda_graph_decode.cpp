// CUDA-graph greedy decoding (see cuda_graph_decode.h). The step below mirrors DecoderLayerImpl / TextAttentionImpl /
// Qwen2VLImpl::forward for one token per row over a KVCache, with every shape fixed: the same math as the eager
// decode step (rotary at the row's M-RoPE position = position + rope_delta, keys/values appended to the cache,
// attention over the real positions), so greedy tokens agree with eager decoding (checked by bench_model --check).
#include "core/model/cuda_graph_decode.h"

#include <limits>

#include "core/model/rotary.h"
#include "core/model/sdpa.h"
#include "core/model/text.h"
#include "core/util/error_text.h"

#ifdef MATRIX_HAVE_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace matrix::model {

struct CudaGraphDecoder::State {
    Qwen2VLImpl* model = nullptr;
    KVCache* cache = nullptr;
    int64_t rows = 0, capacity = 0;
    torch::Tensor ids;          // [R, 1] int64: the step's input tokens (static buffer)
    torch::Tensor pos;          // [1] int64: cache position the step writes (advanced inside the step)
    torch::Tensor key_pos;      // [1, capacity] int64: 0 .. capacity-1
    torch::Tensor rope_deltas;  // [R, 1] int64 on the device
    torch::Tensor zero, lowest; // additive mask values in the model dtype
    torch::Tensor out;          // [R] int64: the captured step's greedy tokens
    bool capture = true;        // false: run static_step eagerly every time
#ifdef MATRIX_HAVE_CUDA
    std::unique_ptr<at::cuda::CUDAGraph> graph;
#endif
};

namespace {

// One greedy decode step with fixed shapes; reads s.ids and s.pos, writes the cache at s.pos, advances s.pos.
torch::Tensor static_step(CudaGraphDecoder::State& s) {
    Qwen2VLImpl& m = *s.model;
    TextModelImpl& tm = *m.model;
    KVCache& c = *s.cache;
    const int64_t R = s.rows, cap = s.capacity;
    auto h = tm.embed(s.ids);  // [R, 1, H]
    auto position_ids = (s.pos.view({1, 1}) + s.rope_deltas).unsqueeze(0).expand({3, R, 1});
    auto cs = mrope_cos_sin(tm.cfg, position_ids, m.dtype());
    c.attention_mask.index_fill_(1, s.pos, 1);
    auto allowed = (s.key_pos <= s.pos.view({1, 1})) & (c.attention_mask != 0);  // [R, cap]
    auto mask = torch::where(allowed.view({R, 1, 1, cap}), s.zero, s.lowest);
    for (size_t i = 0; i < tm.layers->size(); ++i) {
        auto& layer = tm.layers->at<DecoderLayerImpl>(i);
        TextAttentionImpl& a = *layer.self_attn;
        auto x = layer.input_layernorm(h);
        auto q = a.q_proj(x).view({R, 1, a.num_heads, a.head_dim}).transpose(1, 2);
        auto k = a.k_proj(x).view({R, 1, a.num_kv_heads, a.head_dim}).transpose(1, 2);
        auto v = a.v_proj(x).view({R, 1, a.num_kv_heads, a.head_dim}).transpose(1, 2);
        q = apply_rotary(q, cs.first, cs.second);
        k = apply_rotary(k, cs.first, cs.second);
        c.keys[i].index_copy_(2, s.pos, k);
        c.values[i].index_copy_(2, s.pos, v);
        auto o = attention(q, c.keys[i], c.values[i], mask, false);  // [R, H, 1, hd]
        h = h + a.o_proj(o.transpose(1, 2).reshape({R, 1, a.num_heads * a.head_dim}));
        h = h + layer.mlp(layer.post_attention_layernorm(h));
    }
    h = tm.norm(h);
    auto next = m.lm_head_forward(h).select(1, 0).to(torch::kFloat32).argmax(-1);  // [R]
    s.pos.add_(1);
    return next;
}

}  // namespace

bool cuda_graph_decoding_available() {
#ifdef MATRIX_HAVE_CUDA
    return true;
#else
    return false;
#endif
}

CudaGraphDecoder::CudaGraphDecoder(std::unique_ptr<State> s) : m_state(std::move(s)) {}
CudaGraphDecoder::~CudaGraphDecoder() = default;

Result<std::unique_ptr<CudaGraphDecoder>> CudaGraphDecoder::create(Qwen2VL& model, KVCache& cache, bool capture) {
#ifndef MATRIX_HAVE_CUDA
    if (capture) return make_error("this build's LibTorch has no CUDA: no CUDA-graph decoding", "cuda graph");
#endif
    try {
        const auto dev = model->device();
        if (capture && !dev.is_cuda()) return make_error("the model is not on a CUDA device", "cuda graph");
        if (cache.keys.empty() || cache.length <= 0) return make_error("the cache holds no prefill", "cuda graph");
        if (cache.length >= cache.capacity) return make_error("the cache has no room for a decode step", "cuda graph");
        // The step attends over the whole cache: the unfilled part (torch::empty) must hold finite values, or a NaN
        // there would leak through the masked scores (NaN + lowest) and zero probabilities (0 * NaN).
        for (size_t i = 0; i < cache.keys.size(); ++i) {
            cache.keys[i].narrow(2, cache.length, cache.capacity - cache.length).zero_();
            cache.values[i].narrow(2, cache.length, cache.capacity - cache.length).zero_();
        }
        auto st = std::make_unique<State>();
        st->capture = capture;
        st->model = model.get();
        st->cache = &cache;
        st->rows = cache.batch();
        st->capacity = cache.capacity;
        auto iopt = torch::TensorOptions().dtype(torch::kInt64).device(dev);
        st->ids = torch::zeros({st->rows, 1}, iopt);
        st->pos = torch::full({1}, cache.length, iopt);
        st->key_pos = torch::arange(0, cache.capacity, iopt).view({1, cache.capacity});
        st->rope_deltas = cache.rope_deltas.defined() ? cache.rope_deltas.to(dev, torch::kInt64).view({-1, 1}).clone()
                                                      : torch::zeros({st->rows, 1}, iopt);
        if (st->rope_deltas.size(0) != st->rows)
            return make_error("rope_deltas rows do not match the cache's", "cuda graph");
        const auto dtype = model->dtype();
        double lowest = std::numeric_limits<float>::lowest();  // as build_attention_mask: finfo(dtype).min
        if (dtype == torch::kBFloat16) lowest = static_cast<double>(std::numeric_limits<c10::BFloat16>::lowest());
        else if (dtype == torch::kFloat16) lowest = -65504.0;
        else if (dtype == torch::kFloat64) lowest = std::numeric_limits<double>::lowest();
        auto fopt = torch::TensorOptions().dtype(dtype).device(dev);
        st->zero = torch::zeros({}, fopt);
        st->lowest = torch::full({}, lowest, fopt);
        return std::unique_ptr<CudaGraphDecoder>(new CudaGraphDecoder(std::move(st)));
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), "cuda graph");
    }
}

torch::Tensor CudaGraphDecoder::step(const torch::Tensor& ids) {
    State& s = *m_state;
    if (s.cache->length >= s.capacity) throw std::runtime_error("KV cache capacity exceeded");
    s.ids.copy_(ids.view({s.rows, 1}));
    if (!s.capture) {
        auto next = static_step(s);
        s.cache->length += 1;
        return next;
    }
#ifndef MATRIX_HAVE_CUDA
    throw std::runtime_error("CUDA-graph decoding is not compiled in");
#else
    if (s.graph) {
        s.graph->replay();
        s.cache->length += 1;
        return s.out;
    }
    // First step: run it eagerly on a side stream (lazy initialisations such as cuBLAS workspaces must not happen
    // during capture), then capture the same step without running it. Both on a non-default stream, as capture
    // requires; the device is synchronised around them (once per generation).
    torch::cuda::synchronize();
    auto side = c10::cuda::getStreamFromPool(false, s.ids.device().index());
    torch::Tensor first;
    {
        c10::cuda::CUDAStreamGuard guard(side);
        first = static_step(s);
        side.synchronize();
        s.graph = std::make_unique<at::cuda::CUDAGraph>();
        s.graph->capture_begin();
        s.out = static_step(s);
        s.graph->capture_end();
    }
    torch::cuda::synchronize();
    s.cache->length += 1;
    return first.clone();  // on the current stream: the side stream is not used again
#endif
}

}  // namespace matrix::model
