// Stored steps (store::Step) <-> conversation turns. A step is one assistant action (kept verbatim, with its
// thought / code split and tool calls) plus the observation turn that answered it (kept as text without the
// "[OUTPUT OF STEP k]" header, the error flag, and the verbatim turn only when it is not the canonical
// rendering). M-TRACE conversations, Pref-X histories, runs and the agent loop all become steps this way, and
// steps become turns again only through observation_turn / step_action. Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/store/trajectory_repo.h"

namespace matrix::conversation {

// A step from an assistant turn: action verbatim, thought/code split, tool calls with JSON arguments
// (a trailing <end_action> is ignored for the split).
store::Step step_from_action(int idx, const std::string& action);
// Sets the step's observation from an observation turn "[OUTPUT OF STEP k] Observation:\n..." / "Error: ...":
// the text without header, the error flag, and observation_raw when the canonical rendering differs.
void set_step_observation(store::Step& step, const std::string& turn);

// The verbatim observation turn of a step: observation_raw when set, else the canonical rendering
// render_observation(s.idx, *s.observation, s.is_error); nullopt when the step has no observation.
std::optional<std::string> observation_turn(const store::Step& s);
// The step's assistant turn: the verbatim action when stored, else render_action(thought, code).
std::string step_action(const store::Step& s);

// Adds one turn of an M-TRACE conversation (after the system and task turns) to `steps`: an "assistant" turn
// starts a step; a "user" turn is the observation of the last step, or a step of its own when that one
// already has an observation (or there is none). Returns false for any other role (not placed).
bool add_mtrace_turn(std::vector<store::Step>& steps, std::string_view from, const std::string& value);

// The M-TRACE turns the steps stand for, in order: ("assistant", action) when the step has an action, then
// ("user", observation_turn) when it has an observation. `f(const char* from, const std::string& value)`
// returns false to stop early; returns whether every turn was visited.
template <class F>
bool for_each_mtrace_turn(const std::vector<store::Step>& steps, F&& f) {
    for (const store::Step& s : steps) {
        if (s.action && !f("assistant", *s.action)) return false;
        if (auto obs = observation_turn(s); obs && !f("user", *obs)) return false;
    }
    return true;
}

}  // namespace matrix::conversation
