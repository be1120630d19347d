// Helpers shared by the M-TRACE, Pref-X and step-sampling converters: split the first user turn into the
// picture paths, task text and attachment paths, and turn an assistant action / observation turn into a
// store::Step (thought, code and tool calls via trajectory_parser.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/store/trajectory_repo.h"

namespace matrix::formats {

struct UserPrompt {
    int image_placeholders = 0;         // leading "<image>" tokens (Pref-X)
    std::vector<std::string> pictures;  // "Picture k: <img>PATH</img>" paths, in order
    std::string task;                   // text after "Task:" (or the whole turn), trimmed, without attachments
    std::vector<std::string> attachments;  // "Attachment: p1; p2; " paths
};

UserPrompt parse_user_prompt(std::string_view text);

// A step from an assistant turn: action verbatim, thought/code split, tool calls with JSON arguments.
store::Step step_from_action(int idx, const std::string& action);
// Sets the step's observation from an observation turn "[OUTPUT OF STEP k] Observation:\n..." / "Error: ...":
// the text without header, the error flag, and observation_raw when the canonical rendering differs.
void set_step_observation(store::Step& step, const std::string& turn);

// Strips a trailing "<end_action>" (Pref-X / step-sampling actions carry it; M-TRACE's do not).
std::string_view strip_end_action(std::string_view action);

}  // namespace matrix::formats
