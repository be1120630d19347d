// Tokenizer: loads an HF `tokenizer.json` (byte-level BPE as Qwen2 / Qwen2-VL publish it) and encodes and
// decodes exactly as HF `tokenizers` does (checked id-for-id against tests/fixtures tokenizer_cases.json).
// Pipeline of encode(): added/special tokens are matched first on the raw text (normalized=false tokens),
// each gap is NFC-normalised, tokens with normalized=true are matched next, then the pre-tokenizer
// (Split with the Qwen2 regex, ByteLevel mapping) cuts the gap into pieces and BPE turns each piece into ids.
// decode() is HF's: special tokens optionally skipped, ByteLevel characters mapped back to bytes, invalid
// UTF-8 replaced by U+FFFD. No post-processor tokens are added (Qwen2's adds none).
// Thread safety: a loaded Tokenizer is immutable except for the internal BPE cache, which is locked;
// encode/decode may run concurrently. Copies share the loaded data (cheap to copy).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.h"

namespace matrix::tok {

struct AddedToken {
    int32_t id = -1;
    std::string content;
    bool special = false;     // skipped by decode(skip_special=true); not matched by encode(allow_special=false)
    bool normalized = false;  // matched on the NFC text instead of the raw text
    bool lstrip = false;      // the match absorbs whitespace on its left
    bool rstrip = false;      // ... and on its right
    bool single_word = false; // only matched when not inside a word
};

// Ids of the tokens the Qwen2-VL prompt format uses; -1 where the tokenizer lacks one.
struct SpecialIds {
    int32_t endoftext = -1;     // <|endoftext|>: pad / document end
    int32_t im_start = -1;      // <|im_start|>
    int32_t im_end = -1;        // <|im_end|>: end of turn, EOS of chat generation
    int32_t vision_start = -1;  // <|vision_start|>
    int32_t vision_end = -1;    // <|vision_end|>
    int32_t image_pad = -1;     // <|image_pad|>: one per merged image patch
    int32_t video_pad = -1;     // <|video_pad|>
};

class Tokenizer {
public:
    // `path`: a tokenizer.json file, or a directory containing one (a checkpoint directory).
    static Result<Tokenizer> load(const std::string& path);
    // Parses tokenizer.json text; `context` names the source in errors.
    static Result<Tokenizer> from_json(std::string_view json_text, const std::string& context = "tokenizer.json");

    // Text -> ids. With allow_special=false, special added tokens are not matched and are encoded as plain
    // text (HF's split_special_tokens=True); non-special added tokens are still matched.
    std::vector<int32_t> encode(std::string_view text, bool allow_special = true) const;
    // Ids -> text. Unknown ids are skipped.
    std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;
    // Ids -> raw bytes before UTF-8 sanitising (for streaming, see StreamDecoder).
    std::string decode_bytes(const std::vector<int32_t>& ids, bool skip_special = false) const;

    std::optional<int32_t> token_to_id(std::string_view token) const;
    std::string id_to_token(int32_t id) const;  // "" for an unknown id
    std::vector<std::string> ids_to_tokens(const std::vector<int32_t>& ids) const;
    int32_t vocab_size() const;  // largest id + 1 (model vocab and added tokens)
    bool is_special(int32_t id) const;
    const std::vector<AddedToken>& added_tokens() const;
    const SpecialIds& special_ids() const;
    // The normaliser alone (NFC for Qwen2), for tests and tools.
    std::string normalize(std::string_view text) const;

    struct Impl;

private:
    std::shared_ptr<const Impl> m_impl;
};

// Streaming decode for generation: push ids one by one, get back the text that became complete
// (a multi-byte character split across tokens is held back until its last byte arrives).
class StreamDecoder {
public:
    explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = true)
        : m_tokenizer(tokenizer), m_skip_special(skip_special) {}
    std::string push(int32_t id);
    std::string flush();  // whatever is pending, invalid bytes replaced by U+FFFD

private:
    const Tokenizer& m_tokenizer;
    bool m_skip_special;
    std::string m_pending;
};

}  // namespace matrix::tok
