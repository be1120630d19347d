// Gradient (activation) checkpointing of a decoder layer: LibTorch C++ has no torch.utils.checkpoint, so this is a
// custom autograd Function. Its forward runs the layer without grad and keeps only the layer's inputs (hidden
// states, M-RoPE cos/sin, mask, shared-prefix keys/values); its backward re-runs the layer with grad and takes the
// gradients of the inputs and of the layer's trainable parameters from that recompute. Like PyTorch's
// checkpoint(preserve_rng_state=True) it replays the forward's RNG state (LoRA dropout draws the same masks) and
// its CUDA autocast state, so gradients equal the plain path's. Not for forwards with a KVCache.
#pragma once

#include <torch/torch.h>

#include "core/model/text.h"

namespace matrix::model {

// layer.forward(x, in, index) with activations recomputed in backward. Also fills in.record->keys/values[index]
// (as differentiable outputs of the checkpointed function) when in.record is set. The module must outlive the
// autograd graph (backward calls back into it).
torch::Tensor checkpointed_layer(DecoderLayerImpl& layer, const torch::Tensor& x, const AttentionInputs& in,
                                 int64_t index);

}  // namespace matrix::model
