// Character-level BLEU between two actions, as MATRIX's step-wise exploration uses it to keep only rejected
// candidates that differ enough from the chosen one (spec section 4: BLEU < 0.3). Pure, thread-safe.
#pragma once

#include <string_view>

namespace matrix::formats {

// BLEU-4 over characters (uniform weights, brevity penalty), candidate against one reference, in [0, 1].
// Equals NLTK's sentence_bleu([reference], candidate, smoothing_function=SmoothingFunction().method1) on
// Python strings (characters = Unicode code points; epsilon 0.1 for n-gram orders without a match; 0 when
// no character matches). MATRIX calls it with reference = chosen action, candidate = rejected one:
// char_bleu(rejected, chosen) < 0.3 keeps the rejected candidate. Texts under 4 characters score < 1 even
// when identical, as in NLTK.
double char_bleu(std::string_view candidate, std::string_view reference);

}  // namespace matrix::formats
