// PCRE2 wrapper for the Split pre-tokenizer. Matching walks the subject with pcre2_match from each end
// offset; empty matches (none with the Qwen2 pattern) advance by one character so the loop terminates.
#include "core/tokenizer/regex_splitter.h"

#include <pcre2.h>

namespace matrix::tok {

const char* const k_qwen2_pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct RegexSplitter::Code {
    pcre2_code* code = nullptr;
    bool jit = false;
    ~Code() {
        if (code) pcre2_code_free(code);
    }
};

Result<RegexSplitter> RegexSplitter::create(const std::string& pattern, Behavior behavior) {
    int err = 0;
    PCRE2_SIZE err_off = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &err_off, nullptr);
    if (!code) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof(msg));
        return make_error(std::string("cannot compile pre-tokenizer regex at offset ") + std::to_string(err_off) +
                          ": " + reinterpret_cast<const char*>(msg));
    }
    RegexSplitter s;
    s.m_code = std::make_shared<Code>();
    s.m_code->code = code;
    s.m_code->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    s.m_pattern = pattern;
    s.m_behavior = behavior;
    return s;
}

bool RegexSplitter::jit() const { return m_code && m_code->jit; }

void RegexSplitter::split(std::string_view text, std::vector<std::string_view>& out) const {
    if (text.empty()) return;
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(m_code->code, nullptr);
    auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t pos = 0, gap_start = 0;
    while (pos <= text.size()) {
        int rc = pcre2_match(m_code->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc < 0) break;
        PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        if (me == ms) {  // empty match: step over one UTF-8 character
            if (ms >= text.size()) break;
            pos = ms + 1;
            while (pos < text.size() && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
            continue;
        }
        if (ms > gap_start) out.push_back(text.substr(gap_start, ms - gap_start));
        if (m_behavior == Behavior::Isolated) out.push_back(text.substr(ms, me - ms));
        gap_start = pos = me;
    }
    if (gap_start < text.size()) out.push_back(text.substr(gap_start));
    pcre2_match_data_free(md);
}

}  // namespace matrix::tok
