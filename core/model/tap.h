// The optional observer of intermediate tensors (a graph callback, as llama.cpp's): forward passes call it with a stable name
// ("vision.block", "text.layer", ...), the layer index (-1 when not per layer) and the tensor, so a CLI can dump
// activations and diff them against a reference dump when something drifts. Empty = no cost.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>

namespace matrix::model {

using Tap = std::function<void(const std::string& name, int layer, const torch::Tensor& t)>;

inline void tap_call(const Tap* tap, const char* name, int layer, const torch::Tensor& t) {
    if (tap && *tap) (*tap)(name, layer, t);
}

}  // namespace matrix::model
