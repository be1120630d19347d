// Rejected-candidate selection for sampled Pref-X pairs (see prefx_selection.h).
#include "core/formats/prefx_selection.h"

#include "core/conversation/action.h"
#include "core/conversation/observation.h"
#include "core/formats/char_bleu.h"

namespace matrix::formats {

std::vector<RejectedCandidate> select_rejected(const std::vector<std::string>& actions,
                                               const std::vector<std::string>& observations, int best,
                                               const SelectionRules& rules) {
    std::vector<RejectedCandidate> out;
    if (best < 0 || best >= static_cast<int>(actions.size())) return out;
    const std::string_view chosen = conversation::strip_end_action(actions[size_t(best)]);
    int error_slots = 0;  // the reference keeps error_reject_ids[:2]: the first two error candidates
    for (size_t j = 0; j < actions.size(); ++j) {
        if (static_cast<int>(j) == best) continue;
        RejectedCandidate r;
        r.candidate = static_cast<int>(j);
        r.bleu = char_bleu(conversation::strip_end_action(actions[j]), chosen);
        r.format_error = conversation::matrix_format_error(actions[j]);
        r.error_observation = j < observations.size() && conversation::matrix_error_observation(observations[j]);
        const bool in_error_slot = (r.format_error || r.error_observation) && error_slots < rules.max_error_rejects;
        if (r.format_error || r.error_observation) ++error_slots;
        if (r.bleu < rules.bleu_threshold) {
            r.rule = "bleu";
        } else if (in_error_slot) {
            r.rule = "error";
        } else {
            continue;
        }
        out.push_back(std::move(r));
    }
    return out;
}

bool is_server_error(std::string_view o) {
    return o.find("Internal Server Error") != std::string_view::npos ||
           o.find("CUDA out of memory") != std::string_view::npos;
}

}  // namespace matrix::formats
