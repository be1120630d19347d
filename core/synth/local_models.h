// Local models for the images stage (issue 20: "captions made by the local VLM", "a local text model if one is
// configured"): interfaces here, in matrix_core, so the stage needs no LibTorch; the Qwen2-VL implementations
// are in core/synth/local/ (matrix_engine): front ends built with it (MATRIX_HAVE_TORCH) make them with
// load_local_captioner / load_local_embedder (core/synth/local/local_models.h).
//  - ImageCaptioner: a short caption for a pool image that has none (greedy, a fixed prompt); the stage keeps
//    each caption in the project's request cache under the image's sha256 and the captioner's identity, so a
//    resumed or repeated run does not caption again.
//  - TextEmbedder: one vector per text (the query, each caption), compared by cosine similarity.
// Thread safety: implementations serve one call at a time (callers may call from any thread).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace matrix::synth {

class ImageCaptioner {
public:
    virtual ~ImageCaptioner() = default;
    // Which model, for notes and outputs ("local Qwen2-VL DIR (f32, cpu)").
    virtual std::string describe() const = 0;
    // What makes its captions (model folder, prompt, token limit): part of the cache key.
    virtual std::string identity() const = 0;
    virtual Result<std::string> caption(const std::string& image_path, const std::atomic<bool>* cancel = nullptr) = 0;
};

class TextEmbedder {
public:
    virtual ~TextEmbedder() = default;
    // Which model and how it embeds ("local Qwen2-VL DIR: mean-pooled final hidden states, L2-normalised").
    virtual std::string describe() const = 0;
    virtual Result<std::vector<std::vector<float>>> embed(const std::vector<std::string>& texts) = 0;
};

// The local models a run uses (both optional).
struct SynthLocalModels {
    std::shared_ptr<ImageCaptioner> captioner;
    std::shared_ptr<TextEmbedder> embedder;
};

}  // namespace matrix::synth
