// Qwen2-VL's chat template (ChatML) rendered without a Jinja engine, plus the SFT encoding of a conversation
// with its assistant-token mask. Generic: the MATRIX agent conversation is built in core/conversation.
//
// Rendering equals HF's chat_template of Qwen2-VL-7B-Instruct:
//   - if the first message is not `system`: "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n";
//   - each message: "<|im_start|>{role}\n" + parts + "<|im_end|>\n", where an image part is
//     "<|vision_start|>" + n x "<|image_pad|>" + "<|vision_end|>" (n = grid_t*grid_h*grid_w / merge^2, the pad
//     expansion the processor does after preprocessing) and a text part is its text verbatim;
//   - add_generation_prompt appends "<|im_start|>assistant\n".
// Thread safety: free functions, reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"
#include "core/util/result.h"

namespace matrix::tok {

inline constexpr const char* k_default_system_prompt = "You are a helpful assistant.";

// Number of <|image_pad|> tokens for a preprocessed image: merged patches = t*h*w / merge_size^2.
int64_t image_pad_count(const std::array<int64_t, 3>& grid_thw, int64_t merge_size = 2);

struct ContentPart {
    enum class Kind { Text, Image, Video };
    Kind kind = Kind::Text;
    std::string text;          // Kind::Text
    int64_t n_pad_tokens = 0;  // Kind::Image / Video: see image_pad_count()
    std::string path;          // Kind::Image: optional file; matrix::vision::prepare_inputs preprocesses it
                               // and fills n_pad_tokens (the renderer itself never reads files)

    static ContentPart make_text(std::string s) { return {Kind::Text, std::move(s), 0, {}}; }
    static ContentPart make_image(int64_t n_pad) { return {Kind::Image, {}, n_pad, {}}; }
    static ContentPart make_image(const std::array<int64_t, 3>& grid_thw, int64_t merge_size = 2) {
        return {Kind::Image, {}, image_pad_count(grid_thw, merge_size), {}};
    }
    static ContentPart make_image_file(std::string file) { return {Kind::Image, {}, 0, std::move(file)}; }
};

struct ChatMessage {
    std::string role;  // "system", "user", "assistant" (any other role is rendered as given)
    std::vector<ContentPart> content;
    static ChatMessage make(std::string role, std::string text) {
        return {std::move(role), {ContentPart::make_text(std::move(text))}};
    }
};

struct ChatTemplateOptions {
    bool add_generation_prompt = true;   // append "<|im_start|>assistant\n"
    bool add_vision_id = false;          // "Picture k: " before each image (the template's add_vision_id)
    std::string default_system = k_default_system_prompt;  // used when messages[0] is not system; "" = none
};

// The prompt text exactly as HF's apply_chat_template(tokenize=False) renders it.
std::string render_chat(const std::vector<ChatMessage>& messages, const ChatTemplateOptions& options = {});

// Ids with a per-token training mask, for SFT labels (label = id where mask, -100 elsewhere).
struct EncodedChat {
    std::vector<int32_t> ids;
    std::vector<uint8_t> assistant_mask;  // 1 on tokens that are trained
    std::string text;                     // the rendered text (= decode(ids))
    int64_t n_images = 0;
};

// Encodes a conversation like LLaMA-Factory's `qwen2_vl` template does for SFT, which is what MATRIX trains
// with: the text is cut into alternating prompt segments (system, user turns and each
// "<|im_start|>assistant\n" header) and response segments (assistant content + "<|im_end|>\n"); each
// segment is tokenized on its own and the ids concatenated. Labelled (mask 1): every assistant message's
// content tokens, its "<|im_end|>" AND the "\n" after it (LLaMA-Factory's format_assistant slot is
// "{{content}}<|im_end|>\n", and the fixture's case3.labels label that "\n" too). Everything else, including
// the "<|im_start|>assistant\n" header, has mask 0. Because special tokens split the text anyway, the ids
// equal tokenizing the whole rendered text except where an assistant message starts with
// whitespace (then the segment rule wins, as in LLaMA-Factory).
// With add_generation_prompt and a last message that is not from the assistant, the result is a prompt
// for generation (equal to tokenizer.encode(render_chat(...))).
Result<EncodedChat> encode_chat(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                                const ChatTemplateOptions& options = {});

// A response to score or train after a prompt (DPO / step-wise candidates): the action's ids alone, and with
// close_turn its "<|im_end|>\n" too. Tokenized on its own, like LLaMA-Factory's response segment.
std::vector<int32_t> encode_response(const Tokenizer& tokenizer, const std::string& text, bool close_turn);

}  // namespace matrix::tok
