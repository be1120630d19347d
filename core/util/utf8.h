// UTF-8: encode a code point, decode and validate text, and cut text at a character boundary. The one place
// that knows the byte patterns; everything else (the tokenizer, the JSON and Python-literal readers, the
// scorers, the plugins) calls these.
// Decoding follows Unicode's "substitution of maximal subparts" (what Python's errors="replace", Rust's
// String::from_utf8_lossy and HF tokenizers do): an ill-formed sequence is the longest prefix of a well-formed
// one (or one byte), and becomes one U+FFFD. Overlong forms, surrogates (U+D800..U+DFFF) and code points above
// U+10FFFF are ill-formed. The well-formed sequences are Table 3-7 of the Unicode Standard (3.9): the second
// byte's range depends on the lead (E0: A0..BF, ED: 80..9F, F0: 90..BF, F4: 80..8F), which rules out overlongs,
// surrogates and values above U+10FFFF as early as the second byte.
// Header-only, so tool plugins (which link no core library) use it too. Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace matrix::utf8 {

constexpr char32_t k_replacement = 0xFFFD;

inline bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }
// The length a lead byte announces by its bit pattern (110xxxxx: 2, 1110xxxx: 3, 11110xxx: 4); 1 for ASCII and
// for bytes that announce none (continuation bytes, F8..FF). Says nothing about validity: see decode_at.
inline size_t sequence_length(unsigned char lead) {
    return lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 1;
}

// Appends the UTF-8 bytes of `cp`; a surrogate or a value above U+10FFFF (not encodable) appends U+FFFD.
inline void append(std::string& out, char32_t cp) {
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = k_replacement;
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xF0 | (cp >> 18));
        out += char(0x80 | ((cp >> 12) & 0x3F));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}
inline std::string encode(std::u32string_view cps) {
    std::string out;
    out.reserve(cps.size());
    for (char32_t cp : cps) append(out, cp);
    return out;
}

struct Decoded {
    char32_t cp = k_replacement;  // U+FFFD when !valid
    size_t len = 1;               // bytes consumed (>= 1): the sequence, or the maximal ill-formed subpart
    bool valid = false;
};
// Decodes the character starting at s[i] (i < s.size()).
inline Decoded decode_at(std::string_view s, size_t i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) return {c, 1, true};
    size_t len = 0;
    char32_t cp = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, cp = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, cp = c & 0x07;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return {};  // a continuation byte, C0, C1 or F5..FF: never a lead
    }
    size_t k = 1;
    for (; k < len && i + k < s.size(); ++k) {
        const unsigned char cc = static_cast<unsigned char>(s[i + k]);
        if (k == 1 ? (cc < lo || cc > hi) : !is_continuation(cc)) break;
        cp = (cp << 6) | (cc & 0x3F);
    }
    if (k < len) return {k_replacement, k, false};
    return {cp, len, true};
}
// All code points; each ill-formed subpart becomes one U+FFFD.
inline std::u32string decode(std::string_view s) {
    std::u32string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size();) {
        const Decoded d = decode_at(s, i);
        out.push_back(d.cp);
        i += d.len;
    }
    return out;
}
inline bool valid(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        const Decoded d = decode_at(s, i);
        if (!d.valid) return false;
        i += d.len;
    }
    return true;
}
// The text with each ill-formed subpart replaced by U+FFFD (valid text is returned unchanged).
inline std::string sanitize(std::string_view s) {
    if (valid(s)) return std::string(s);
    std::string out;
    out.reserve(s.size() + 8);
    for (size_t i = 0; i < s.size();) {
        const Decoded d = decode_at(s, i);
        if (d.valid) out.append(s.substr(i, d.len));
        else out += "\xEF\xBF\xBD";
        i += d.len;
    }
    return out;
}

// The largest character boundary <= pos (pos past the end: s.size()). Steps back over continuation bytes only.
inline size_t floor_boundary(std::string_view s, size_t pos) {
    if (pos >= s.size()) return s.size();
    while (pos > 0 && is_continuation(static_cast<unsigned char>(s[pos]))) --pos;
    return pos;
}
// The smallest character boundary >= pos: steps forward over continuation bytes.
inline size_t ceil_boundary(std::string_view s, size_t pos) {
    while (pos < s.size() && is_continuation(static_cast<unsigned char>(s[pos]))) ++pos;
    return pos;
}
// The longest prefix of at most max_bytes bytes that does not end inside a character.
inline std::string_view truncate(std::string_view s, size_t max_bytes) {
    return s.substr(0, floor_boundary(s, max_bytes));
}

}  // namespace matrix::utf8
