// Unicode NFC normalisation and UTF-8 helpers for the tokenizer, without ICU (core must not depend on Qt/ICU).
// Tables come from unicode_tables.inc, generated once by gen_unicode_tables.py from python3's unicodedata
// (Unicode 14.0.0); HF `tokenizers` uses the Rust `unicode-normalization` crate, which agrees on every
// character assigned in that version. Hangul syllables are composed and decomposed algorithmically.
// Thread safety: all functions are pure and reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace matrix::tok {

// UTF-8 in the tokenizer's vector form, over core/util/utf8.h. Decodes UTF-8 into code points; each invalid or
// truncated sequence (maximal subpart) becomes one U+FFFD.
std::vector<char32_t> utf8_decode(std::string_view s);
void utf8_append(std::string& out, char32_t cp);
bool utf8_valid(std::string_view s);
std::string utf8_encode(const std::vector<char32_t>& cps);

// Replaces each maximal invalid UTF-8 subsequence with U+FFFD, like Rust's String::from_utf8_lossy
// (what HF's ByteLevel decoder does with byte sequences that are not valid UTF-8).
std::string utf8_sanitize(std::string_view s);

// Canonical combining class (0 for starters).
uint8_t canonical_combining_class(char32_t cp);

// Unicode Normalization Form C: canonical decomposition, canonical reordering, canonical composition.
// Invalid UTF-8 input is sanitised first (U+FFFD). Fast path: text whose code points are all < U+0300
// is returned unchanged.
std::string nfc(std::string_view s);
// Normalization Form D (used by tests and as a building block).
std::string nfd(std::string_view s);

// The Unicode version the tables were generated from ("14.0.0").
const char* unicode_tables_version();

}  // namespace matrix::tok
