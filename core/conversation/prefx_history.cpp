// Pref-X histories <-> steps (see prefx_history.h).
#include "core/conversation/prefx_history.h"

#include "core/conversation/steps.h"

namespace matrix::conversation {

std::vector<store::Step> steps_of_prefx_history(const nlohmann::json& history) {
    std::vector<store::Step> steps;
    for (size_t i = 1; i < history.size(); ++i) {
        const std::string& from = history[i]["from"].get_ref<const std::string&>();
        const std::string& value = history[i]["value"].get_ref<const std::string&>();
        if (from == "gpt") {
            steps.push_back(step_from_action(int(steps.size()), value));
        } else if (!steps.empty() && !steps.back().observation) {
            set_step_observation(steps.back(), value);
        }
    }
    return steps;
}

void append_prefx_step(nlohmann::json& history, const std::string& action, const std::string& observation_turn) {
    history.push_back({{"from", "gpt"}, {"value", action}});
    history.push_back({{"from", "human"}, {"value", observation_turn}});
}

std::vector<PrefxTurn> prefx_history_turns(std::string_view history_json) {
    std::vector<PrefxTurn> turns;
    const nlohmann::json h = nlohmann::json::parse(history_json.begin(), history_json.end(), nullptr, false);
    if (!h.is_array()) return turns;
    for (const auto& turn : h) {
        if (!turn.is_object()) continue;
        auto v = turn.find("value");
        if (v == turn.end() || !v->is_string()) continue;
        PrefxTurn t;
        if (auto f = turn.find("from"); f != turn.end() && f->is_string()) t.from = f->get<std::string>();
        t.value = v->get<std::string>();
        turns.push_back(std::move(t));
    }
    return turns;
}

}  // namespace matrix::conversation
