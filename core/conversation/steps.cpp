// Steps <-> turns (see steps.h).
#include "core/conversation/steps.h"

#include <utility>

#include "core/conversation/action.h"
#include "core/conversation/observation.h"

namespace matrix::conversation {

store::Step step_from_action(int idx, const std::string& action) {
    store::Step s;
    s.idx = idx;
    s.action = action;
    ParsedAction a = parse_action(strip_end_action(action));
    s.thought = std::move(a.thought);
    s.code = std::move(a.code);
    s.is_final = a.is_final;
    int pos = 0;
    for (auto& c : a.tool_calls) {
        store::ToolCallRow row;
        row.position = pos++;
        row.name = std::move(c.name);
        row.arguments = c.arguments.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        row.known = c.known;
        s.tool_calls.push_back(std::move(row));
    }
    return s;
}

void set_step_observation(store::Step& step, const std::string& turn) {
    ParsedObservation o = parse_observation(turn);
    if (o.well_formed) {
        step.is_error = o.is_error;
        step.observation = std::move(o.text);
    } else {
        step.observation = turn;
    }
    if (render_observation(step.idx, *step.observation, step.is_error) != turn) step.observation_raw = turn;
}

std::optional<std::string> observation_turn(const store::Step& s) {
    if (s.observation_raw) return s.observation_raw;
    if (!s.observation) return std::nullopt;
    return render_observation(s.idx, *s.observation, s.is_error);
}

std::string step_action(const store::Step& s) {
    if (s.action) return *s.action;
    return render_action(s.thought, s.code);
}

bool add_mtrace_turn(std::vector<store::Step>& steps, std::string_view from, const std::string& value) {
    if (from == "assistant") {
        steps.push_back(step_from_action(int(steps.size()), value));
    } else if (from == "user" && !steps.empty() && !steps.back().observation) {
        set_step_observation(steps.back(), value);
    } else if (from == "user") {
        store::Step s;
        s.idx = int(steps.size());
        set_step_observation(s, value);
        steps.push_back(std::move(s));
    } else {
        return false;
    }
    return true;
}

}  // namespace matrix::conversation
