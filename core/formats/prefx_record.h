// One Pref-X record (LLaMA-Factory ShareGPT ranking: images, system, conversations, chosen, rejected, with
// the extra `observation` keys) <-> store rows: a shared prefix (system + images + history), the chosen and
// rejected actions with observations, and the task/step the pair belongs to (from the first human turn and
// the number of assistant turns in the history). A record the rows cannot reproduce exactly (extra keys,
// a "from" other than "gpt" ...) is additionally kept whole in the pair's extra {"raw": ...}.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/conversation/user_prompt.h"
#include "core/store/pair_repo.h"
#include "core/util/result.h"

namespace matrix::formats {

struct PrefxRows {
    std::optional<std::string> system_prompt;
    std::vector<std::string> images;
    nlohmann::json history = nlohmann::json::array();  // the conversations array
    std::string first_human;                          // history[0].value ("" when none)
    conversation::UserPrompt prompt;                  // parsed first_human
    int step_index = 0;                               // assistant turns in the history
    std::string chosen_action, rejected_action;
    std::optional<std::string> chosen_observation, rejected_observation;
    bool lossless = true;
    std::optional<std::string> extra;  // {"raw": record} when !lossless
};

Result<PrefxRows> prefx_record_to_rows(const nlohmann::json& record);

// The record as the rows describe it; `system_prompt` nullopt writes "".
nlohmann::ordered_json prefx_rows_to_record(const std::optional<std::string>& system_prompt,
                                            const nlohmann::json& images, const nlohmann::json& history,
                                            const store::Pair& pair);
// The record to export: the raw record (with the pair's current actions/observations patched in) when the
// pair has one, else the rebuilt record.
nlohmann::ordered_json prefx_export_record(const std::optional<std::string>& system_prompt, const nlohmann::json& images,
                                           const nlohmann::json& history, const store::Pair& pair);

}  // namespace matrix::formats
