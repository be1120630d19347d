// Joins preprocessing and the chat template (see multimodal_inputs.h).
#include "core/image/multimodal_inputs.h"

namespace matrix::vision {

Result<MultimodalInputs> prepare_inputs(const tok::Tokenizer& tokenizer, std::vector<tok::ChatMessage> messages,
                                        const PreprocessConfig& config, const tok::ChatTemplateOptions& options) {
    MultimodalInputs in;
    std::vector<PreprocessedImage> images;
    for (tok::ChatMessage& m : messages)
        for (tok::ContentPart& p : m.content) {
            if (p.kind != tok::ContentPart::Kind::Image || p.path.empty()) continue;
            auto img = preprocess_file(p.path, config);
            if (!img) return img.error();
            p.n_pad_tokens = img->n_merged_tokens(config.merge_size);
            images.push_back(std::move(*img));
        }
    auto enc = tok::encode_chat(tokenizer, messages, options);
    if (!enc) return enc.error();
    in.input_ids = std::move(enc->ids);
    in.assistant_mask = std::move(enc->assistant_mask);
    in.text = std::move(enc->text);
    in.images = concat(images);
    return in;
}

Result<MultimodalInputs> prepare_agent_inputs(const tok::Tokenizer& tokenizer,
                                              const conversation::AgentConversation& c,
                                              const PreprocessConfig& config) {
    MATRIX_CHECK(conversation::check_agent_turns(c));
    tok::ChatTemplateOptions opt;
    opt.add_generation_prompt = c.add_generation_prompt;
    return prepare_inputs(tokenizer, conversation::agent_messages(c), config, opt);
}

}  // namespace matrix::vision
