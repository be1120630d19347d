// The observation turn that follows each action: "[OUTPUT OF STEP i] Observation:\n{printed}" after code ran,
// or "[OUTPUT OF STEP i] Error: {message}" when it failed (i counts assistant steps from 0), as MATRIX's
// runtime writes them into M-TRACE / Pref-X and as our agent loop writes them. Also the runtime's error texts
// (transformers.agents' ReactCodeAgent wording, checked against the real M-TRACE subset) and MATRIX's error
// filter. This is the only place that spells the header: render and parse it through these functions.
// Pure functions, thread-safe, never throw.
#pragma once

#include <string>
#include <string_view>

namespace matrix::conversation {

// "[OUTPUT OF STEP {step}] Observation:\n{text}", or for an error "[OUTPUT OF STEP {step}] Error: {text}".
// `text` is used verbatim (a runtime error turn's text already ends with k_retry_suffix).
std::string render_observation(int step, std::string_view text, bool is_error = false);

struct ParsedObservation {
    int step = -1;          // k of "[OUTPUT OF STEP k]"; -1 when the header is missing
    bool is_error = false;  // "Error:" form
    std::string text;       // the printed output / error message after the header line (verbatim)
    bool well_formed = false;
};
// Reads a turn rendered by render_observation (also "Observation: x" on the header line, CRLF, leading
// whitespace). A turn without a well-formed header gives well_formed false and the text as found.
ParsedObservation parse_observation(std::string_view observation_turn);
// The looser header that benchmark run logs hold, read as the run importer always has: the turn starts with
// "[OUTPUT OF STEP k]" (no leading space), then any whitespace, an optional "->" and whitespace,
// "Observation" or "Error", an optional ':', spaces/tabs and one optional newline; text = the rest.
// No such header: well_formed false, step -1, text empty.
ParsedObservation parse_logged_observation(std::string_view turn);

// ---- the runtime's error texts -------------------------------------------------------------------------
// Appended to every error message of an error turn.
inline constexpr std::string_view k_retry_suffix =
    "\nNow let's retry: take care not to repeat previous errors! If you have retried several times, try a "
    "completely different approach.\n";
inline constexpr std::string_view k_execution_error_prefix = "Code execution failed due to the following error:\n";
inline constexpr std::string_view k_parsing_error_prefix = "Error in code parsing: ";

// "Code execution failed due to the following error:\n{exception}" (the code raised).
std::string execution_error(std::string_view exception);
// "Error in code parsing: {detail}. Make sure to provide correct code" (no code block could be read).
std::string parsing_error(std::string_view detail);
// transformers' parse_code_blob message for a missing fence, the `detail` of parsing_error in M-TRACE:
// "\nThe code blob you used is invalid: due to the following error: {reason}\nThis means that the regex
// pattern ```(?:py|python)?\n(.*?)\n``` was not respected: make sure to include code with the correct
// pattern, for instance:\nThoughts: Your thoughts\nCode:\n```py\n# Your python code here\n```<end_action>"
// (reason: Python's "'NoneType' object has no attribute 'group'" when no block matched).
std::string code_blob_error(std::string_view reason);
// message + k_retry_suffix: the text of an error turn.
std::string with_retry_suffix(std::string_view message);
// The whole error turn as the runtime writes it: render_observation(step, with_retry_suffix(message), true).
std::string render_error_turn(int step, std::string_view message);

// MATRIX's own Pref-X filter, exactly as its data_formating.py applies it to step-sampling candidates: an
// error observation is one that contains "error" (case-insensitive).
bool matrix_error_observation(std::string_view observation);

}  // namespace matrix::conversation
