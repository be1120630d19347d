// Rotary position embeddings of Qwen2-VL: the 2D rotary of the vision tower (row/column of each patch, patches in
// 2x2 merge-window order) and the 3D M-RoPE of the LM (temporal/height/width sections of the head dimension),
// with the position ids of transformers' Qwen2VLModel.get_rope_index: text tokens count up on all three axes,
// image tokens get (t, row, col) offsets after the preceding text, padding (attention_mask 0) is skipped, and
// rope_deltas = max position + 1 - sequence length carries the offset into decoding.
#pragma once

#include <torch/torch.h>

#include "core/model/config.h"

namespace matrix::model {

struct RopeIndex {
    torch::Tensor position_ids;  // [3, B, L] int64 (padding positions hold 1, as in transformers)
    torch::Tensor rope_deltas;   // [B, 1] int64
};

// input_ids [B, L]; image_grid_thw [n_images, 3] (undefined when no images); attention_mask [B, L] or undefined.
// Images are consumed in order across the batch rows. Runs on CPU; results are on CPU.
RopeIndex get_rope_index(const Qwen2VLConfig& cfg, const torch::Tensor& input_ids, const torch::Tensor& image_grid_thw,
                         const torch::Tensor& attention_mask);

// Position ids while decoding with a cache: past_length + arange(L) + rope_deltas[b], on all three axes, on
// rope_deltas' device (CPU when it is undefined).
torch::Tensor decode_position_ids(const torch::Tensor& rope_deltas, int64_t batch, int64_t past_length, int64_t length);

// Vision rotary frequencies for every patch in the order of pixel_values: [n_patches, head_dim/2] float32.
torch::Tensor vision_rotary_freqs(const VisionConfig& cfg, const torch::Tensor& grid_thw);

// M-RoPE cos/sin with the sections already interleaved as apply_multimodal_rotary_pos_emb does:
// position_ids [3, B, L] -> cos, sin [B, 1, L, head_dim] in `dtype`.
std::pair<torch::Tensor, torch::Tensor> mrope_cos_sin(const TextConfig& cfg, const torch::Tensor& position_ids,
                                                      torch::ScalarType dtype);

// x * cos + rotate_half(x) * sin (rotate_half: [-x2, x1]).
torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

}  // namespace matrix::model
