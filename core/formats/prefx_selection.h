// Which candidates of a sampled step become rejected answers of Pref-X pairs, by MATRIX's rules
// (the reference's data_formating.py): every candidate whose character BLEU against the chosen action is below
// the threshold (0.3), plus the first two candidates (in candidate order) with a format error (no "thought:", or
// no "code", case-insensitive) or an observation containing "error". Unlike the reference the chosen candidate
// itself is never a rejected one (its int-vs-string index comparison let it into its own pool).
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace matrix::formats {

struct SelectionRules {
    double bleu_threshold = 0.3;
    int max_error_rejects = 2;
};

struct RejectedCandidate {
    int candidate = 0;      // index among the step's candidates
    double bleu = 0;        // char_bleu(candidate, chosen), both without <end_action>
    bool format_error = false;
    bool error_observation = false;
    std::string rule;       // "bleu" (below the threshold) or "error" (kept as one of the first error candidates)
};

// actions/observations: the step's candidates (same length); best: the chosen one. In candidate order.
std::vector<RejectedCandidate> select_rejected(const std::vector<std::string>& actions,
                                               const std::vector<std::string>& observations, int best,
                                               const SelectionRules& rules = {});

// An observation that shows a broken server rather than the agent's doing ("Internal Server Error", CUDA out of
// memory): MATRIX skips the whole task.
bool is_server_error(std::string_view observation);

}  // namespace matrix::formats
