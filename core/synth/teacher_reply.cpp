// Reading teacher answers (see teacher_reply.h).
#include "core/synth/teacher_reply.h"

#include <cctype>

namespace matrix::synth {

namespace {

bool blank(const std::string& s) {
    for (char c : s)
        if (!std::isspace(static_cast<unsigned char>(c))) return false;
    return true;
}

// The text between `open` and the next `close` after it, when both are present.
std::optional<std::string> between(const std::string& s, const std::string& open, const std::string& close) {
    const size_t a = s.find(open);
    if (a == std::string::npos) return std::nullopt;
    const size_t from = a + open.size();
    const size_t b = s.find(close, from);
    if (b == std::string::npos) return std::nullopt;
    return s.substr(from, b - from);
}

// The balanced {...} or [...] opening at `start` (strings and escapes respected), when it closes.
std::optional<std::string> balanced_at(const std::string& s, size_t start) {
    std::vector<char> stack;
    bool in_string = false, escaped = false;
    for (size_t i = start; i < s.size(); ++i) {
        const char c = s[i];
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        else if (c == '{' || c == '[') stack.push_back(c == '{' ? '}' : ']');
        else if (c == '}' || c == ']') {
            if (stack.empty() || stack.back() != c) return std::nullopt;
            stack.pop_back();
            if (stack.empty()) return s.substr(start, i - start + 1);
        }
    }
    return std::nullopt;
}

Rejection wrong(const std::string& key, const std::string& what) { return {"wrong fields", "'" + key + "' " + what}; }

}  // namespace

std::string excerpt(const std::string& text, size_t n) {
    std::string out;
    for (char c : text) {
        if (out.size() >= n) return out + "...";
        out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
    }
    return out;
}

ParsedJson extract_json(const std::string& answer, size_t max_chars) {
    ParsedJson r;
    if (blank(answer)) {
        r.rejection = {"empty answer", ""};
        return r;
    }
    if (answer.size() > max_chars) {
        r.rejection = {"answer too long", std::to_string(answer.size()) + " characters, limit " + std::to_string(max_chars)};
        return r;
    }
    std::vector<std::string> candidates;
    if (auto f = between(answer, "```json", "```")) candidates.push_back(*f);
    if (auto f = between(answer, "### start json", "### end json")) candidates.push_back(*f);
    if (auto f = between(answer, "### json start", "### json end")) candidates.push_back(*f);
    // Then each balanced {...} / [...] in the text, from its first opening bracket on (at most 64 tried).
    size_t tried = 0;
    for (size_t at = answer.find_first_of("{["); at != std::string::npos && tried < 64;
         at = answer.find_first_of("{[", at + 1), ++tried)
        if (auto f = balanced_at(answer, at)) candidates.push_back(*f);
    if (candidates.empty()) {
        r.rejection = {"no JSON", excerpt(answer)};
        return r;
    }
    std::string first_error;
    for (const std::string& c : candidates) {
        auto v = nlohmann::json::parse(c, nullptr, false);
        if (!v.is_discarded()) {
            r.value = std::move(v);
            return r;
        }
        if (first_error.empty()) first_error = excerpt(c);
    }
    r.rejection = {"bad JSON", first_error};
    return r;
}

ParsedCode extract_python(const std::string& answer, size_t max_chars) {
    ParsedCode r;
    if (blank(answer)) {
        r.rejection = {"empty answer", ""};
        return r;
    }
    if (answer.size() > max_chars) {
        r.rejection = {"answer too long", std::to_string(answer.size()) + " characters, limit " + std::to_string(max_chars)};
        return r;
    }
    for (const char* open : {"```python\n", "```py\n", "```python\r\n", "```Python\n"}) {
        if (auto code = between(answer, open, "```"); code && !blank(*code)) {
            r.code = *code;
            return r;
        }
    }
    r.rejection = {"no code", excerpt(answer)};
    return r;
}

std::optional<Rejection> require_string(const nlohmann::json& j, const std::string& key) {
    if (!j.is_object()) return Rejection{"wrong fields", std::string("expected an object, got ") + j.type_name()};
    auto it = j.find(key);
    if (it == j.end()) return wrong(key, "is missing");
    if (!it->is_string()) return wrong(key, std::string("is a ") + it->type_name() + ", not a string");
    if (blank(it->get<std::string>())) return wrong(key, "is empty");
    return std::nullopt;
}

std::optional<Rejection> require_yes_no(const nlohmann::json& j, const std::string& key) {
    if (auto r = require_string(j, key)) return r;
    const std::string v = normalise_query(j[key].get<std::string>());
    if (v != "yes" && v != "no") return wrong(key, "is \"" + excerpt(j[key].get<std::string>(), 20) + "\", not yes or no");
    return std::nullopt;
}

std::optional<Rejection> require_string_list(const nlohmann::json& j, const std::string& key) {
    if (!j.is_object()) return Rejection{"wrong fields", std::string("expected an object, got ") + j.type_name()};
    auto it = j.find(key);
    if (it == j.end()) return wrong(key, "is missing");
    if (!it->is_array()) return wrong(key, std::string("is a ") + it->type_name() + ", not a list");
    for (const auto& e : *it)
        if (!e.is_string()) return wrong(key, "holds a " + std::string(e.type_name()) + ", not only strings");
    return std::nullopt;
}

std::string normalise_query(const std::string& text) {
    std::string out;
    bool space = false;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c >= 0x80) {
            if (space && !out.empty()) out += ' ';
            space = false;
            out += static_cast<char>(std::tolower(c));
        } else {
            space = true;
        }
    }
    return out;
}

}  // namespace matrix::synth
