// The task turn: the first user turn of a conversation. M-TRACE writes optional "Picture k: <img>PATH</img>"
// lines, then "Task: ...", then optionally "\nAttachment: p1; p2; "; Pref-X starts it with one "<image>"
// placeholder per image and writes "\n Attachment: ..." (as in M-TRACE and Pref-X records). Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace matrix::conversation {

struct UserPrompt {
    int image_placeholders = 0;         // leading "<image>" tokens (Pref-X)
    std::vector<std::string> pictures;  // "Picture k: <img>PATH</img>" paths, in order
    std::string task;                   // text after "Task:" (or the whole turn), trimmed, without attachments
    std::vector<std::string> attachments;  // "Attachment: p1; p2; " paths
};

UserPrompt parse_user_prompt(std::string_view text);

// The curation pane's short task text of a task turn: what follows the first "Task: " (the whole turn when
// there is none) up to the first "Attachment:", untrimmed (the caller trims, with its own notion of space).
std::string_view task_query_of_turn(std::string_view text);

// "Task: {task}" (a task turn without pictures or attachments).
std::string task_turn(std::string_view task);

// The task turn without its "Picture k: <img>PATH</img>" lines (for the model the vision parts already show
// those images), and without the newlines that then lead the text.
std::string strip_picture_lines(const std::string& text);

// Pref-X's task turn: one "<image>\n" per image, then the task text (as MATRIX's sampler writes it).
std::string prefx_task_turn(size_t n_images, std::string_view task_text);

}  // namespace matrix::conversation
