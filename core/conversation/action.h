// The agent's action: an assistant turn "Thought: ...\n\nCode:\n```py\n...\n```" (optionally ending in
// <end_action>) as it appears in M-TRACE / Pref-X / step-sampling data and as the agent writes it. Renders one
// from thought + code, and parses one (observation turns: core/conversation/observation.h).
// Tool calls are extracted from the code for any function name (known MATRIX tools are flagged), with
// keyword or positional arguments; Python literals become JSON values, anything else {"$expr": "<source>"}.
// What counts as a call: a plain-name callee anywhere in the code (also nested in expressions, arguments and
// f-string fields); NOT method/attribute calls (x.append(..), os.path.join(..)), Python builtins (print,
// len, ...), or names the same code block imports or defines (see core/conversation/python_calls.h).
// Labels are found as in the real data: "Thought:" in any case, also "**Thought:**" / "### Thought:";
// "Code:" likewise, the first one that a ```py / ```python / ``` fence follows.
// Pure functions, thread-safe, never throw; all strings put into JSON values are valid UTF-8.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/conversation/known_tools.h"

namespace matrix::conversation {

// The stop tag that ends an action in Pref-X / step-sampling data and in the agent's prompt examples.
inline constexpr std::string_view k_end_action = "<end_action>";
// The labels as render_action writes them (parse_action also reads other cases and markdown decoration).
inline constexpr std::string_view k_thought_label = "Thought:";
inline constexpr std::string_view k_code_label = "Code:";

// Where generation of an action stops: "<end_action>" and "Observation:" (the reference
// cuts after generating, we stop at them).
const std::vector<std::string>& agent_stop_strings();

// "Thought: {thought}\n\nCode:\n```py\n{code}\n```" (M-TRACE's form; no <end_action>).
std::string render_action(std::string_view thought, std::string_view code);
// Strips a trailing "<end_action>" (after trailing spaces / newlines; Pref-X / step-sampling actions carry it,
// M-TRACE's do not); returns `action` unchanged when it has none.
std::string_view strip_end_action(std::string_view action);
// The action with "<end_action>" appended unless it already ends with one (Pref-X's form).
std::string with_end_action(const std::string& action);

struct ToolCall {
    std::string name;  // function name as called ("ocr", "final_answer", "print" is NOT reported)
    // Arguments by parameter name. Positional arguments of a known tool are mapped to its parameter names
    // (ocr("a.jpg") -> {"image_path": "a.jpg"}); those of an unknown function are keyed "$0", "$1", ...
    // Values: Python literals as JSON (str, int, float, True/False/None, list/tuple -> array, dict -> object);
    // any other expression (variable, call, f-string, arithmetic) as {"$expr": "<source text>"}.
    nlohmann::json arguments = nlohmann::json::object();
    bool known = false;  // name is one of the MATRIX / GTA agent tools (see known_tools())
};

struct ParsedAction {
    std::string thought;  // text after "Thought:" up to "Code:" (trimmed); empty when absent
                          // (has_thought: a "thought:" label, any case, before the code, as MATRIX checks)
    std::string code;     // inside the ```py / ```python / ``` fence (no fence lines); empty when absent
    bool has_thought = false;
    bool has_code = false;
    bool code_parses = true;           // false when the code has unbalanced brackets/quotes (format check)
    std::vector<ToolCall> tool_calls;  // in source order
    bool is_final = false;             // calls final_answer(...)
    std::optional<nlohmann::json> final_answer;  // the first final_answer call's argument; nullopt for final_answer()

    // Added detail (additive to the fields above):
    std::string rationale;         // everything before the code label/fence, trimmed (transformers' rationale)
    std::string code_language;     // the fence's tag: "py", "python" or "" (bare ```)
    bool has_code_label = false;   // a "Code:" label (also "**Code:**", "### Code:") precedes the fence
    bool code_fence_closed = true; // false when the code runs to the end of the text without closing ```
    bool has_end_action = false;   // the text ends with <end_action>
    std::string trailing_text;     // text after the closing fence (besides <end_action>), trimmed
    std::string code_error;        // why code_parses is false ("line 3: '(' was never closed")
    size_t code_offset = std::string::npos;  // byte offset of `code` in the input (npos when absent)
    // "Code:" + fence blocks in the text. `code` is the first; MATRIX's runtime splits on the last "Code:"
    // and would run the last block, so more than one is worth flagging (a run-on generation).
    int code_blocks = 0;

    // Thought, code and a closed fence, and code that lexes: the parser's own format verdict.
    bool well_formed() const { return has_thought && has_code && code_fence_closed && code_parses; }
};

ParsedAction parse_action(std::string_view assistant_text);

// Tool calls of a bare code block (what parse_action does with the code it finds); `parses` receives the
// same verdict as ParsedAction::code_parses. For editors that check code as it is typed.
std::vector<ToolCall> extract_tool_calls(std::string_view code, bool* parses = nullptr);

// MATRIX's own Pref-X filter, exactly as its data_formating.py applies it to step-sampling candidates: a
// format error is an action without "thought:" or without "code" (case-insensitive substrings). Looser than
// ParsedAction on purpose. (Its observation filter: matrix_error_observation in observation.h.)
bool matrix_format_error(std::string_view action);

}  // namespace matrix::conversation
