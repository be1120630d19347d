// Model inputs for a Qwen2-VL prompt with images: preprocesses every image part that names a file, fills in
// its <|image_pad|> count from the grid, then renders and tokenizes the conversation (core/tokenizer).
// The result is what the engine and `matrix forward/generate` need: input_ids, the SFT mask, the
// concatenated pixel_values and one grid_thw row per image, in prompt order. No torch, no OpenCV types.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "core/conversation/chat_messages.h"
#include "core/image/qwen2vl_preprocess.h"
#include "core/tokenizer/chat_template.h"

namespace matrix::vision {

struct MultimodalInputs {
    std::vector<int32_t> input_ids;
    std::vector<uint8_t> assistant_mask;  // see tok::encode_chat: 1 on trained tokens
    PreprocessedBatch images;             // pixel_values [n_patches, 1176], grid_thw [n_images, 3]
    std::string text;                     // the rendered prompt
};

// Messages whose image parts carry a `path` (ContentPart::make_image_file); parts with a pad count and no
// path are left as they are (no pixels for them). Errors name the image file.
Result<MultimodalInputs> prepare_inputs(const tok::Tokenizer& tokenizer, std::vector<tok::ChatMessage> messages,
                                        const PreprocessConfig& config = {},
                                        const tok::ChatTemplateOptions& options = {});
// The MATRIX agent conversation with its task images given as files (conversation.image_paths).
Result<MultimodalInputs> prepare_agent_inputs(const tok::Tokenizer& tokenizer,
                                              const conversation::AgentConversation& conversation,
                                              const PreprocessConfig& config = {});

}  // namespace matrix::vision
