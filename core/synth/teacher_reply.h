// Reading a teacher model's answer: the JSON it was asked for (in a ```json fence, between "### start json" and
// "### end json" as the reference's templates write it, or the first balanced {...} / [...] of the text), or the
// ```python block of a file-construction answer. Every refusal says why in a short category (grouped in the
// status: "empty answer", "answer too long", "no JSON", "bad JSON", "wrong fields", "no code") and a detail.
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace matrix::synth {

struct Rejection {
    std::string reason;  // the category
    std::string detail;  // specifics (a field name, a parse error, the start of the text)
    std::string to_string() const { return detail.empty() ? reason : reason + ": " + detail; }
};

// The answer's JSON value, or the rejection. `max_chars`: longer answers are refused without parsing.
struct ParsedJson {
    std::optional<nlohmann::json> value;
    Rejection rejection;
    bool ok() const { return value.has_value(); }
};
ParsedJson extract_json(const std::string& answer, size_t max_chars);

// The first ```python (or ```py) block's code, or the rejection ("no code").
struct ParsedCode {
    std::optional<std::string> code;
    Rejection rejection;
};
ParsedCode extract_python(const std::string& answer, size_t max_chars);

// Field checks: nullopt when `j[key]` is a non-empty string (resp. "yes"/"no", a list of strings), else the
// rejection "wrong fields" naming the field and what it is.
std::optional<Rejection> require_string(const nlohmann::json& j, const std::string& key);
std::optional<Rejection> require_yes_no(const nlohmann::json& j, const std::string& key);
std::optional<Rejection> require_string_list(const nlohmann::json& j, const std::string& key);

// Lower case, every run of characters that are not letters or digits as one space, trimmed: the text two queries
// are compared by for de-duplication ("What's the  cost?" == "what s the cost").
std::string normalise_query(const std::string& text);

// The first `n` characters of a text on one line, for details.
std::string excerpt(const std::string& text, size_t n = 80);

}  // namespace matrix::synth
