// GAIA's official `question_scorer(model_answer, ground_truth)` (the leaderboard's scorer.py, also copied
// into MATRIX as tongagent/evaluation/gaia_scorer.py), rule for rule:
//  - ground truth parses as float()  -> strip "$", "%", "," from the answer, float() it (failure -> inf),
//    compare with ==  (so "nan" never equals "nan", and an unparsable answer equals a ground truth "inf");
//  - ground truth contains "," or ";" -> re.split("[,;]") both, same length, element-wise: float ground
//    truth elements as above, others normalize_str(remove_punct=False) equal;
//  - otherwise normalize_str both: remove every \s (Unicode), lowercase, remove string.punctuation.
#pragma once

#include <string>
#include <string_view>

namespace matrix::eval {

bool gaia_question_scorer(std::string_view model_answer, std::string_view ground_truth);

// The helpers, exposed for tests.
double gaia_normalize_number_str(std::string_view s);  // inf when float() fails
std::string gaia_normalize_str(std::string_view s, bool remove_punct = true);

}  // namespace matrix::eval
