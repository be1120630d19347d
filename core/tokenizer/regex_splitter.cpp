// PCRE2 wrapper for the Split pre-tokenizer. Matching walks the subject with pcre2_match from each end
// offset; empty matches (none with the Qwen2 pattern) advance by one character so the loop terminates.
#include "core/tokenizer/regex_splitter.h"
#include "core/util/utf8.h"

#include <pcre2.h>

namespace matrix::tok {

const char* const k_qwen2_pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

namespace {

// Oniguruma's Unicode \s (what HF tokenizers' regexes use): U+0009..U+000D, U+0085 and the categories
// Zs, Zl, Zp. PCRE2's UCP \s is the same set plus U+180E (through \h), so "\u180E!" would split
// differently. The rewritten pattern spells Oniguruma's set out; it is ~30% slower under PCRE2-JIT, so it
// is only used for text that contains U+180E (bytes E1 A0 8E) and the plain pattern otherwise.
constexpr const char* k_onig_space =
    R"(\t\n\x{0B}\f\r\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";

std::string onig_compatible(const std::string& pattern) {
    std::string out;
    bool in_class = false;
    for (size_t i = 0; i < pattern.size(); ++i) {
        char c = pattern[i];
        if (c == '\\' && i + 1 < pattern.size()) {
            char n = pattern[i + 1];
            if (n == 's') out += in_class ? std::string(k_onig_space) : "[" + std::string(k_onig_space) + "]";
            else if (n == 'S' && !in_class) out += "[^" + std::string(k_onig_space) + "]";
            else out += pattern.substr(i, 2);  // \S inside a class is left to PCRE2 (not used by Qwen2)
            ++i;
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = true;
            out += c;
            if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
            if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];  // literal ] first
            continue;
        }
        if (c == ']' && in_class) in_class = false;
        out += c;
    }
    return out;
}

}  // namespace

struct RegexSplitter::Code {
    pcre2_code* code = nullptr;   // the pattern as given (PCRE2 semantics)
    pcre2_code* exact = nullptr;  // \s rewritten to Oniguruma's set; null when the pattern has no \s/\S
    bool jit = false;
    ~Code() {
        if (code) pcre2_code_free(code);
        if (exact) pcre2_code_free(exact);
    }
};

namespace {
Result<pcre2_code*> compile(const std::string& pattern, bool& jit) {
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
    jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    return code;
}
}  // namespace

Result<RegexSplitter> RegexSplitter::create(const std::string& pattern, Behavior behavior) {
    RegexSplitter s;
    s.m_code = std::make_shared<Code>();
    bool jit = false, jit_exact = true;
    auto code = compile(pattern, jit);
    if (!code) return code.error();
    s.m_code->code = *code;
    const std::string exact = onig_compatible(pattern);
    if (exact != pattern) {
        auto ex = compile(exact, jit_exact);
        if (!ex) return ex.error();
        s.m_code->exact = *ex;
    }
    s.m_code->jit = jit && jit_exact;
    s.m_pattern = pattern;
    s.m_behavior = behavior;
    return s;
}

bool RegexSplitter::jit() const { return m_code && m_code->jit; }

void RegexSplitter::split(std::string_view text, std::vector<std::string_view>& out) const {
    if (text.empty()) return;
    const pcre2_code* code = m_code->code;
    if (m_code->exact && text.find("\xE1\xA0\x8E") != std::string_view::npos) code = m_code->exact;  // U+180E
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(code, nullptr);
    out.reserve(out.size() + text.size() / 4 + 1);
    auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    size_t pos = 0, gap_start = 0;
    while (pos <= text.size()) {
        int rc = pcre2_match(code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
        if (rc < 0) break;
        PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        if (me == ms) {  // empty match: step over one UTF-8 character
            if (ms >= text.size()) break;
            pos = utf8::ceil_boundary(text, ms + 1);
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
