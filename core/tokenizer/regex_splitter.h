// The "Split" pre-tokenizer of HF tokenizer.json with a regex pattern (Qwen2's pattern uses \p{L}, \p{N}:
// PCRE2 with PCRE2_UTF | PCRE2_UCP, compiled once, JIT-compiled when the library supports it).
// Behaviour "Isolated" (each match and each gap between matches is a piece) and "Removed" (gaps kept,
// matches dropped) are supported. HF uses Oniguruma: \p{L}/\p{N} agree with PCRE2's UCP classes, and \s
// is rewritten before compiling to Oniguruma's set (PCRE2's UCP \s also matches U+180E).
// Thread safety: split() is const and reentrant (match data is per call); the compiled code is shared.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/result.h"

namespace matrix::tok {

// The pre-tokenizer regex of Qwen2 / Qwen2-VL tokenizer.json.
extern const char* const k_qwen2_pattern;

class RegexSplitter {
public:
    enum class Behavior { Isolated, Removed };
    static Result<RegexSplitter> create(const std::string& pattern, Behavior behavior = Behavior::Isolated);

    // Splits valid UTF-8 `text` into pieces (views into `text`), appended to `out`. Never yields empty pieces.
    void split(std::string_view text, std::vector<std::string_view>& out) const;
    const std::string& pattern() const { return m_pattern; }
    bool jit() const;

private:
    struct Code;
    std::shared_ptr<Code> m_code;
    std::string m_pattern;
    Behavior m_behavior = Behavior::Isolated;
};

}  // namespace matrix::tok
