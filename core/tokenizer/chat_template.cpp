// ChatML rendering and segment-wise SFT encoding for Qwen2-VL (see chat_template.h for the exact rules and
// the LLaMA-Factory behaviour the mask reproduces).
#include "core/tokenizer/chat_template.h"

namespace matrix::tok {
namespace {

constexpr const char* k_im_start = "<|im_start|>";
constexpr const char* k_im_end = "<|im_end|>";

void render_content(std::string& out, const ChatMessage& m, const ChatTemplateOptions& options, int& n_images,
                    int& n_videos) {
    for (const ContentPart& p : m.content) {
        switch (p.kind) {
            case ContentPart::Kind::Text:
                out += p.text;
                break;
            case ContentPart::Kind::Image:
                ++n_images;
                if (options.add_vision_id) out += "Picture " + std::to_string(n_images) + ": ";
                out += "<|vision_start|>";
                for (int64_t i = 0; i < p.n_pad_tokens; ++i) out += "<|image_pad|>";
                out += "<|vision_end|>";
                break;
            case ContentPart::Kind::Video:
                ++n_videos;
                if (options.add_vision_id) out += "Video " + std::to_string(n_videos) + ": ";
                out += "<|vision_start|>";
                for (int64_t i = 0; i < p.n_pad_tokens; ++i) out += "<|video_pad|>";
                out += "<|vision_end|>";
                break;
        }
    }
}

// The rendered conversation as (text, is_response) segments; concatenated they equal render_chat().
std::vector<std::pair<std::string, bool>> segments(const std::vector<ChatMessage>& messages,
                                                   const ChatTemplateOptions& options, int& n_images) {
    std::vector<std::pair<std::string, bool>> segs;
    std::string prompt;
    int n_videos = 0;
    n_images = 0;
    if ((messages.empty() || messages[0].role != "system") && !options.default_system.empty())
        prompt += std::string(k_im_start) + "system\n" + options.default_system + k_im_end + "\n";
    for (const ChatMessage& m : messages) {
        prompt += std::string(k_im_start) + m.role + "\n";
        if (m.role == "assistant") {
            segs.emplace_back(std::move(prompt), false);
            prompt.clear();
            std::string resp;
            render_content(resp, m, options, n_images, n_videos);
            resp += std::string(k_im_end) + "\n";
            segs.emplace_back(std::move(resp), true);
        } else {
            render_content(prompt, m, options, n_images, n_videos);
            prompt += std::string(k_im_end) + "\n";
        }
    }
    if (options.add_generation_prompt) prompt += std::string(k_im_start) + "assistant\n";
    if (!prompt.empty()) segs.emplace_back(std::move(prompt), false);
    return segs;
}

}  // namespace

int64_t image_pad_count(const std::array<int64_t, 3>& grid_thw, int64_t merge_size) {
    return grid_thw[0] * grid_thw[1] * grid_thw[2] / (merge_size * merge_size);
}

std::string render_chat(const std::vector<ChatMessage>& messages, const ChatTemplateOptions& options) {
    int n_images = 0;
    std::string out;
    for (auto& [text, is_response] : segments(messages, options, n_images)) out += text;
    return out;
}

Result<EncodedChat> encode_chat(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                                const ChatTemplateOptions& options) {
    const SpecialIds& sp = tokenizer.special_ids();
    if (sp.im_start < 0 || sp.im_end < 0)
        return make_error("tokenizer has no <|im_start|>/<|im_end|> tokens: not a ChatML (Qwen2) tokenizer");
    for (const ChatMessage& m : messages)
        for (const ContentPart& p : m.content) {
            if (p.kind != ContentPart::Kind::Text && (sp.vision_start < 0 || sp.image_pad < 0))
                return make_error("tokenizer has no vision tokens but the conversation has an image");
            if (p.kind != ContentPart::Kind::Text && p.n_pad_tokens <= 0)
                return make_error("image part without pad count" +
                                  (p.path.empty() ? std::string() : " (" + p.path + ": preprocess it first)"));
        }
    EncodedChat enc;
    int n_images = 0;
    for (auto& [text, is_response] : segments(messages, options, n_images)) {
        std::vector<int32_t> ids = tokenizer.encode(text);
        enc.ids.insert(enc.ids.end(), ids.begin(), ids.end());
        enc.assistant_mask.insert(enc.assistant_mask.end(), ids.size(), is_response ? 1 : 0);
        enc.text += text;
    }
    enc.n_images = n_images;
    return enc;
}

std::vector<int32_t> encode_response(const Tokenizer& tokenizer, const std::string& text, bool close_turn) {
    return tokenizer.encode(close_turn ? text + k_im_end + "\n" : text);
}

}  // namespace matrix::tok
