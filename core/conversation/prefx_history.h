// Pref-X histories: the shared prefix of a preference pair as LLaMA-Factory's ShareGPT turns
// [{"from": "human", "value": task turn}, {"from": "gpt", "value": action<end_action>},
//  {"from": "human", "value": "[OUTPUT OF STEP 0] Observation:\n..."}, ...] (the Pref-X file format), to and from
// stored steps. Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/store/pair_repo.h"
#include "core/store/trajectory_repo.h"

namespace matrix::conversation {

// The steps a history describes (turn 0, the task, is skipped): gpt turns are actions, the human turn after
// each its observation (further human turns before the next action are ignored). Turns must be objects with
// string "from" and "value" (as prefx_record_to_rows checks).
std::vector<store::Step> steps_of_prefx_history(const nlohmann::json& history);

// Appends one step to a history: {"from": "gpt", "value": action} then {"from": "human", "value": observation}.
// `action` as the pair stores it (with <end_action>), `observation_turn` already rendered (render_observation).
void append_prefx_step(nlohmann::json& history, const std::string& action, const std::string& observation_turn);

// A history's turns for display: every object turn with a string "value", in order ("from" is "" when absent
// or not a string). Not JSON, or not an array: no turns.
struct PrefxTurn {
    std::string from, value;
};
std::vector<PrefxTurn> prefx_history_turns(std::string_view history_json);
// Every turn of a parsed history with "from" / "value" defaulting to "human" / "" (how training reads them).
std::vector<PrefxTurn> prefx_turns_of_json(const nlohmann::json& history);
// The turns of a history stored as steps: (human, task turn), then per step (gpt, action) and, when the step has
// an observation, (human, observation_turn).
std::vector<PrefxTurn> prefx_turns_of_steps(const std::string& task_turn, const std::vector<store::Step>& steps);
// A stored prefix's turns: from its steps when it has them, else prefx_history_turns(history).
std::vector<PrefxTurn> prefx_turns(const store::PairPrefix& prefix);

// History text <-> steps, as the store keeps them (PairPrefix): the JSON text of prefx_turns_of_steps as
// nlohmann's compact dump writes it ([{"from":...,"value":...},...], the form importers store).
std::string prefx_history_text(const std::string& task_turn, const std::vector<store::Step>& steps);
struct PrefxSteps {
    std::string task_turn;
    std::vector<store::Step> steps;
};
// The task turn and steps of a stored history text when prefx_history_text gives back exactly that text;
// nullopt otherwise (not JSON, turns that are not {"from","value"} strings, extra keys, a first turn not from
// "human", two human turns in a row, other spacing ...).
std::optional<PrefxSteps> prefx_steps_of_history_text(std::string_view history_json);

}  // namespace matrix::conversation
