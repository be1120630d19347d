// GTA answer checks, as pure functions:
//  - official: GTABenchEvaluator.iscorrect of open-compass/GTA (opencompass/datasets/gta_bench.py): every
//    whitelist group must match `\b(?:a1|a2)\b` (aliases re.escape'd) case-insensitively with Python `re`
//    semantics (Unicode \b), and no blacklist alias may match. Kept quirks: aliases that start or end with a
//    non-word character ("$5", "3.5%") can only match next to a word character; an empty whitelist is
//    correct; an empty blacklist list is ignored.
//  - MATRIX: examples/gta/eval.py of mbzuai-oryx/MATRIX: every group needs one alias that is a lowercase
//    substring of str(answer).lower(); blacklist ignored; subjective (a str in the list) and image-generation
//    (None) items are skipped.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/util/result.h"

namespace matrix::eval {

// `gt`: GTA's {whitelist: [[alias...]...], blacklist: null | [[alias...]...]}. Error when gt is malformed
// (the official code would raise).
Result<bool> gta_official_is_correct(std::string_view prediction, const nlohmann::json& gt);

// The official regex for one alias group, exactly as the reference builds it (for display and tests).
std::string gta_group_pattern(const nlohmann::json& aliases);

// `gt` as MATRIX stores it in agent_memory.json ("ground_truth": the whitelist, a list of strings for
// subjective items, or null); a full {whitelist, blacklist} object is accepted and its whitelist used.
// nullopt = skipped (subjective / image generation). Error when gt has an element that is neither a str
// nor a list (the reference raises ValueError("unexpected")).
Result<std::optional<bool>> gta_matrix_is_correct(std::string_view answer, const nlohmann::json& gt);

}  // namespace matrix::eval
