// Observation turns and the runtime's error texts (see observation.h).
#include "core/conversation/observation.h"

#include <cctype>

namespace matrix::conversation {

namespace {
constexpr std::string_view k_head = "[OUTPUT OF STEP ";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
}  // namespace

std::string render_observation(int step, std::string_view text, bool is_error) {
    std::string out(k_head);
    out += std::to_string(step);
    out += is_error ? "] Error: " : "] Observation:\n";
    out += text;
    return out;
}

ParsedObservation parse_observation(std::string_view turn) {
    ParsedObservation o;
    std::string_view s = turn;
    size_t lead = 0;
    while (lead < s.size() && is_space(s[lead])) ++lead;
    if (s.substr(lead, k_head.size()) != k_head) {
        o.text = std::string(turn);
        return o;
    }
    size_t k = lead + k_head.size();
    size_t d = k;
    long step = 0;
    while (d < s.size() && std::isdigit(static_cast<unsigned char>(s[d])) && d - k < 9) step = step * 10 + (s[d++] - '0');
    if (d == k || d >= s.size() || s[d] != ']') {
        o.text = std::string(turn);
        return o;
    }
    o.step = int(step);
    k = d + 1;
    while (k < s.size() && (s[k] == ' ' || s[k] == '\t')) ++k;
    auto after_label = [&](size_t p) {
        if (p < s.size() && s[p] == '\n') return p + 1;
        if (p + 1 < s.size() && s[p] == '\r' && s[p + 1] == '\n') return p + 2;
        if (p < s.size() && s[p] == ' ') return p + 1;
        return p;
    };
    if (s.substr(k, 12) == "Observation:") {
        o.well_formed = true;
        o.text = std::string(s.substr(after_label(k + 12)));
    } else if (s.substr(k, 6) == "Error:") {
        o.well_formed = true;
        o.is_error = true;
        o.text = std::string(s.substr(after_label(k + 6)));
    } else {
        o.text = std::string(s.substr(k));
    }
    return o;
}

ParsedObservation parse_logged_observation(std::string_view s) {
    // By hand, the regex ^\[OUTPUT OF STEP (\d+)\]\s*(?:->\s*)?(Observation|Error):?[ \t]*\n? (each part
    // is followed by a different character class, so matching greedily never needs to backtrack).
    ParsedObservation o;
    if (s.substr(0, k_head.size()) != k_head) return o;
    size_t k = k_head.size(), d = k;
    long long step = 0;
    while (d < s.size() && std::isdigit(static_cast<unsigned char>(s[d]))) {
        if (step < 1000000000) step = step * 10 + (s[d] - '0');
        ++d;
    }
    if (d == k || d >= s.size() || s[d] != ']') return o;
    k = d + 1;
    while (k < s.size() && is_space(s[k])) ++k;
    if (s.substr(k, 2) == "->") {
        k += 2;
        while (k < s.size() && is_space(s[k])) ++k;
    }
    if (s.substr(k, 11) == "Observation") {
        k += 11;
    } else if (s.substr(k, 5) == "Error") {
        o.is_error = true;
        k += 5;
    } else {
        o.is_error = false;
        return o;
    }
    if (k < s.size() && s[k] == ':') ++k;
    while (k < s.size() && (s[k] == ' ' || s[k] == '\t')) ++k;
    if (k < s.size() && s[k] == '\n') ++k;
    o.step = int(step);
    o.well_formed = true;
    o.text = std::string(s.substr(k));
    return o;
}

std::string execution_error(std::string_view exception) {
    std::string out(k_execution_error_prefix);
    out += exception;
    return out;
}

std::string parsing_error(std::string_view detail) {
    std::string out(k_parsing_error_prefix);
    out += detail;
    out += ". Make sure to provide correct code";
    return out;
}

std::string code_blob_error(std::string_view reason) {
    std::string out = "\nThe code blob you used is invalid: due to the following error: ";
    out += reason;
    out += "\nThis means that the regex pattern ```(?:py|python)?\\n(.*?)\\n``` was not respected: make sure to "
           "include code with the correct pattern, for instance:\nThoughts: Your thoughts\nCode:\n```py\n"
           "# Your python code here\n```<end_action>";
    return out;
}

std::string with_retry_suffix(std::string_view message) {
    std::string out(message);
    out += k_retry_suffix;
    return out;
}

std::string render_error_turn(int step, std::string_view message) {
    return render_observation(step, with_retry_suffix(message), true);
}

bool matrix_error_observation(std::string_view observation) {
    for (size_t i = 0; i + 5 <= observation.size(); ++i) {
        bool match = true;
        for (size_t j = 0; j < 5 && match; ++j) {
            char c = observation[i + j];
            if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
            match = c == "error"[j];
        }
        if (match) return true;
    }
    return false;
}

}  // namespace matrix::conversation
