// Renders and splits agent actions (see action.h). The code block is found the way MATRIX's runtime finds it
// (transformers.agents' parse_code_blob: the regex ```(?:py|python)?\n(.*?)\n``` then .strip()), but the
// "Code:" label is the first one that is followed by a fence rather than the last "Code:" in the text
// (extract_action splits on the last), so a "Code:" inside a code string cannot cut the code in two.
#include "core/conversation/action.h"

#include <cctype>

#include "core/conversation/python_calls.h"
#include "core/conversation/python_literal.h"

namespace matrix::conversation {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

std::string lower_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return out;
}

size_t find_ci(std::string_view hay, std::string_view needle, size_t from = 0) {
    return lower_ascii(hay).find(lower_ascii(needle), from);
}

// Removes markdown decoration around a label's text: "** text" after "**Thought:**", and a last line made
// only of '#' / '*' (the "### " or "**" that opens the next label).
std::string_view strip_decoration(std::string_view s) {
    s = trim(s);
    while (!s.empty() && s.front() == '*') s.remove_prefix(1);
    s = trim(s);
    for (;;) {
        const size_t nl = s.find_last_of('\n');
        const std::string_view last = nl == std::string_view::npos ? s : s.substr(nl + 1);
        if (last.empty() || last.find_first_not_of("#* \t\r") != std::string_view::npos) break;
        s = trim(s.substr(0, nl == std::string_view::npos ? 0 : nl));
    }
    return s;
}

// If an opening fence ```, ```py or ```python followed by a newline starts at pos, returns the offset of
// the code's first byte and sets the tag; npos otherwise.
size_t open_fence(std::string_view s, size_t pos, std::string& tag) {
    if (s.substr(pos, 3) != "```") return std::string_view::npos;
    size_t k = pos + 3;
    size_t t = k;
    while (t < s.size() && std::isalpha(static_cast<unsigned char>(s[t]))) ++t;
    const std::string_view word = s.substr(k, t - k);
    if (!(word.empty() || word == "py" || word == "python")) return std::string_view::npos;
    if (t < s.size() && s[t] == '\r') ++t;
    if (t >= s.size() || s[t] != '\n') return std::string_view::npos;
    tag = std::string(word);
    return t + 1;
}

nlohmann::json argument_value(const py::CallArgument& a) {
    if (a.literal) return *a.literal;
    return nlohmann::json{{"$expr", a.source}};
}

std::vector<ToolCall> tool_calls_of(const py::CallScan& scan) {
    std::vector<ToolCall> calls;
    calls.reserve(scan.calls.size());
    for (const py::Call& c : scan.calls) {
        ToolCall tc;
        tc.name = py::valid_utf8(c.name);
        const KnownTool* kt = find_known_tool(c.name);
        tc.known = kt != nullptr;
        size_t positional = 0;
        size_t double_stars = 0;
        for (const py::CallArgument& a : c.arguments) {
            if (!a.keyword.empty()) {
                tc.arguments[py::valid_utf8(a.keyword)] = argument_value(a);
            } else if (a.double_star) {
                const std::string key = double_stars++ == 0 ? "**" : "**" + std::to_string(double_stars - 1);
                tc.arguments[key] = nlohmann::json{{"$expr", a.source}};
            } else {
                std::string key = kt && positional < kt->parameters.size() ? kt->parameters[positional]
                                                                          : "$" + std::to_string(positional);
                tc.arguments[key] = a.star ? nlohmann::json{{"$expr", "*" + a.source}} : argument_value(a);
                ++positional;
            }
        }
        calls.push_back(std::move(tc));
    }
    return calls;
}

}  // namespace

const std::vector<std::string>& agent_stop_strings() {
    static const std::vector<std::string> stops = {std::string(k_end_action), "Observation:"};
    return stops;
}

std::string render_action(std::string_view thought, std::string_view code) {
    std::string out = "Thought: ";
    out += thought;
    out += "\n\nCode:\n```py\n";
    out += code;
    out += "\n```";
    return out;
}

std::string_view strip_end_action(std::string_view action) {
    std::string_view a = action;
    while (!a.empty() && (a.back() == '\n' || a.back() == ' ')) a.remove_suffix(1);
    if (a.size() >= k_end_action.size() && a.substr(a.size() - k_end_action.size()) == k_end_action)
        return a.substr(0, a.size() - k_end_action.size());
    return action;
}

std::string with_end_action(const std::string& action) {
    return strip_end_action(action).size() == action.size() ? action + std::string(k_end_action) : action;
}

std::vector<ToolCall> extract_tool_calls(std::string_view code, bool* parses) {
    const py::CallScan scan = py::scan_calls(code);
    if (parses) *parses = scan.parses;
    return tool_calls_of(scan);
}

ParsedAction parse_action(std::string_view text) {
    ParsedAction a;
    std::string_view body = text;
    while (!body.empty() && is_space(body.back())) body.remove_suffix(1);
    if (body.size() >= k_end_action.size() && body.substr(body.size() - k_end_action.size()) == k_end_action) {
        a.has_end_action = true;
        body.remove_suffix(k_end_action.size());
    }

    // The code label: the first "Code:" (any case, maybe inside "**Code:**") that a fence follows.
    size_t label = std::string_view::npos;
    size_t fence = std::string_view::npos;
    size_t code_begin = std::string_view::npos;
    const std::string lower = lower_ascii(body);
    for (size_t p = lower.find("code:"); p != std::string::npos; p = lower.find("code:", p + 1)) {
        size_t k = p + 5;
        while (k < body.size() && (body[k] == '*' || is_space(body[k]))) ++k;
        const size_t cb = open_fence(body, k, a.code_language);
        if (cb != std::string_view::npos) {
            label = p;
            fence = k;
            code_begin = cb;
            break;
        }
    }
    if (fence == std::string_view::npos) {  // no label: any fence (MATRIX then parses the whole output)
        for (size_t p = body.find("```"); p != std::string_view::npos; p = body.find("```", p + 1)) {
            const size_t cb = open_fence(body, p, a.code_language);
            if (cb != std::string_view::npos) {
                fence = p;
                code_begin = cb;
                break;
            }
        }
    }
    a.has_code_label = label != std::string_view::npos;
    if (code_begin != std::string_view::npos) a.code_blocks = 1;

    if (code_begin != std::string_view::npos) {
        a.has_code = true;
        const size_t close = body.find("\n```", code_begin);
        std::string_view raw;
        if (close != std::string_view::npos) {
            raw = body.substr(code_begin, close - code_begin);
            a.trailing_text = std::string(trim(body.substr(close + 4)));
            // Later labelled blocks (counted, not parsed).
            for (size_t p = lower.find("code:", close + 4); p != std::string::npos; p = lower.find("code:", p + 1)) {
                size_t k = p + 5;
                while (k < body.size() && (body[k] == '*' || is_space(body[k]))) ++k;
                std::string tag;
                const size_t cb = open_fence(body, k, tag);
                if (cb == std::string_view::npos) continue;
                ++a.code_blocks;
                const size_t end = body.find("\n```", cb);
                if (end == std::string_view::npos) break;
                p = end;
            }
        } else {
            a.code_fence_closed = false;
            raw = body.substr(code_begin);
        }
        size_t lead = 0;
        while (lead < raw.size() && is_space(raw[lead])) ++lead;
        a.code = std::string(trim(raw));
        a.code_offset = code_begin + lead;
    }

    const size_t head_end = label != std::string_view::npos ? label : fence != std::string_view::npos ? fence : body.size();
    const std::string_view head = body.substr(0, head_end);
    a.rationale = std::string(strip_decoration(head));
    const size_t t = find_ci(head, "thought:");
    if (t != std::string::npos) {
        a.has_thought = true;
        a.thought = std::string(strip_decoration(head.substr(t + 8)));
    }

    if (a.has_code) {
        const py::CallScan scan = py::scan_calls(a.code);
        a.tool_calls = tool_calls_of(scan);
        a.code_parses = scan.parses;
        a.code_error = scan.error;
        for (const ToolCall& c : a.tool_calls) {
            if (c.name != "final_answer") continue;
            a.is_final = true;
            if (c.arguments.contains("answer")) a.final_answer = c.arguments["answer"];
            break;
        }
    }
    return a;
}

bool matrix_format_error(std::string_view action) {
    const std::string l = lower_ascii(action);
    return l.find("thought:") == std::string::npos || l.find("code") == std::string::npos;
}

}  // namespace matrix::conversation
