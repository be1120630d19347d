// Python literals as JSON: reads a token range of agent code that is a literal (str with implicit
// concatenation, int, float, True/False/None, list/tuple/set/dict of literals, unary +/- on numbers) and
// gives its JSON value; anything else (names, calls, f-strings, bytes, arithmetic) is not a literal.
// Strings are decoded with Python's escape rules and always come out as valid UTF-8.
// Pure functions, thread-safe, never throw.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/conversation/python_lexer.h"

namespace matrix::conversation::py {

// The JSON value of tokens[first, last) of src when they form exactly one literal; nullopt otherwise.
// Mapping: str -> string; int -> integer (int64, or uint64 above it; larger ints are not literals here);
// float -> number; True/False/None -> true/false/null; list, tuple and set -> array; dict with str keys ->
// object (later duplicate keys win, as in Python); a dict with any other key is not a literal here.
std::optional<nlohmann::json> literal_value(std::string_view src, const std::vector<Token>& tokens, size_t first,
                                            size_t last);

// Value of a single str literal token (escapes decoded unless raw); nullopt for bytes, f-strings and
// \N{...} escapes (which need the Unicode name table).
std::optional<std::string> decode_string(std::string_view src, const Token& t);

// Replaces each byte sequence that is not valid UTF-8 with U+FFFD, so that the text is safe to put in JSON.
std::string valid_utf8(std::string_view s);

}  // namespace matrix::conversation::py
