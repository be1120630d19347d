// Pref-X histories <-> steps (see prefx_history.h).
#include "core/conversation/prefx_history.h"

#include "core/conversation/steps.h"

#include <utility>

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

std::vector<PrefxTurn> prefx_turns_of_json(const nlohmann::json& history) {
    std::vector<PrefxTurn> turns;
    for (size_t i = 0; i < history.size(); ++i) {
        const auto& turn = history[i];
        turns.push_back({turn.value("from", "human"), turn.value("value", "")});
    }
    return turns;
}

std::vector<PrefxTurn> prefx_turns_of_steps(const std::string& task_turn, const std::vector<store::Step>& steps) {
    std::vector<PrefxTurn> turns;
    turns.reserve(1 + 2 * steps.size());
    turns.push_back({"human", task_turn});
    for (const store::Step& s : steps) {
        turns.push_back({"gpt", step_action(s)});
        if (auto obs = observation_turn(s)) turns.push_back({"human", std::move(*obs)});
    }
    return turns;
}

std::vector<PrefxTurn> prefx_turns(const store::PairPrefix& prefix) {
    if (prefix.task_turn) return prefx_turns_of_steps(*prefix.task_turn, prefix.steps);
    return prefx_history_turns(prefix.history);
}

std::string prefx_history_text(const std::string& task_turn, const std::vector<store::Step>& steps) {
    nlohmann::json h = nlohmann::json::array();
    for (PrefxTurn& t : prefx_turns_of_steps(task_turn, steps))
        h.push_back({{"from", std::move(t.from)}, {"value", std::move(t.value)}});
    return h.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<PrefxSteps> prefx_steps_of_history_text(std::string_view history_json) {
    const nlohmann::json h = nlohmann::json::parse(history_json.begin(), history_json.end(), nullptr, false);
    if (!h.is_array() || h.empty()) return std::nullopt;
    for (const auto& t : h) {
        if (!t.is_object() || t.size() != 2) return std::nullopt;
        auto f = t.find("from"), v = t.find("value");
        if (f == t.end() || v == t.end() || !f->is_string() || !v->is_string()) return std::nullopt;
    }
    if (h[0]["from"] != "human") return std::nullopt;
    PrefxSteps ps;
    ps.task_turn = h[0]["value"].get<std::string>();
    ps.steps = steps_of_prefx_history(h);
    if (prefx_history_text(ps.task_turn, ps.steps) != history_json) return std::nullopt;
    return ps;
}

}  // namespace matrix::conversation
