// Character-level BLEU between two actions, as MATRIX's step-wise exploration uses it to keep only rejected
// candidates that differ enough from the chosen one (spec section 4: BLEU < 0.3). Pure, thread-safe.
#pragma once

#include <string_view>

namespace matrix::formats {

// BLEU-4 over characters (uniform weights, brevity penalty), candidate against one reference, in [0, 1].
double char_bleu(std::string_view candidate, std::string_view reference);

}  // namespace matrix::formats
