// Python 3 string and number semantics that the official benchmark scorers depend on (GTA's `re` checks,
// GAIA's float()/str.lower()/re.sub(r"\s")), reimplemented so C++ scores equal the reference code's scores.
// Strings are UTF-8; invalid bytes are read as U+FFFD (Python would already hold a decoded str).
// Pure functions, thread-safe, never throw.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace matrix::eval::py {

// UTF-8 <-> code points (core/util/utf8.h). Invalid sequences decode to U+FFFD, one per maximal ill-formed
// subpart, as Python's errors="replace" does.
std::u32string decode_utf8(std::string_view s);
std::string encode_utf8(std::u32string_view s);
// Re-encodes with invalid bytes replaced by U+FFFD (so PCRE2 in UTF mode accepts the text).
std::string sanitize_utf8(std::string_view s);

// str.isspace() (also what `re`'s \s matches in a str pattern): ASCII whitespace, \x1c-\x1f, U+0085,
// and the Unicode White_Space / Zs characters.
bool is_space(char32_t c);
// str.lower(): full lowercase mapping (U+0130 -> "i\u0307", final sigma), else the simple mapping.
std::string lower(std::string_view s);
// str.strip() without arguments.
std::string strip(std::string_view s);

// float(s): Python's float() grammar: surrounding whitespace, sign, digits with single underscores between
// them, Unicode decimal digits, '.', exponent, "inf"/"infinity"/"nan" in any case. nullopt = ValueError.
std::optional<double> to_float(std::string_view s);

// re.escape(s) of Python >= 3.7, producing a pattern PCRE2 reads the way Python's `re` reads the original.
std::string regex_escape(std::string_view s);

// re.search(pattern, text, re.IGNORECASE) with a str pattern (Unicode \w, \b, case folding), via PCRE2
// with UTF | UCP | CASELESS. Returns nullopt when the pattern does not compile.
std::optional<bool> search_ignorecase(const std::string& pattern, std::string_view text);

// `==` on the Python objects that json.loads would produce: 1 == 1.0 == True, dict key order ignored.
bool json_equal(const nlohmann::json& a, const nlohmann::json& b);

// str(x) of the Python value json.loads would produce (for answers stored as numbers, lists ...).
std::string str_of(const nlohmann::json& v);

}  // namespace matrix::eval::py
