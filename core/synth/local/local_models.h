// The images stage's local models on the LibTorch Qwen2-VL engine (see core/synth/local_models.h):
//  - captioner: the model answers k_caption_prompt about the image, greedy, at most max_new_tokens tokens, the
//    image resized to at most max_pixels (preprocessing as the local controller does it);
//  - embedder: each text tokenized as plain text (no chat template, at most max_text_tokens tokens), one forward
//    pass of the language model, the final hidden states (after the last RMSNorm) mean-pooled over the tokens
//    and L2-normalised, in float32.
// Compiled into matrix_engine; front ends reach it through local_models_factory.h. Thread safety: each object
// serves one call at a time (a mutex); calls may come from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/synth/local_models.h"

namespace matrix::synth {

inline constexpr const char* k_caption_prompt = "Describe this image in one short sentence.";

struct LocalModelOptions {
    std::string model_dir;
    std::string dtype = "f32";   // f32 | bf16 | f16
    std::string device = "cpu";  // cpu | cuda[:N]
    int max_new_tokens = 48;     // captioner
    int64_t max_pixels = 448 * 448;  // captioner: the image's pixel budget (a caption needs no fine detail)
    int max_text_tokens = 512;   // embedder: longer texts are cut (a caption or a query is far shorter)
};

Result<std::shared_ptr<ImageCaptioner>> load_local_captioner(const LocalModelOptions& options);
Result<std::shared_ptr<TextEmbedder>> load_local_embedder(const LocalModelOptions& options);

}  // namespace matrix::synth
