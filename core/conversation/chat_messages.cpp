// Agent conversations and Pref-X histories as chat messages (see chat_messages.h).
#include "core/conversation/chat_messages.h"

#include "core/conversation/observation.h"
#include "core/conversation/steps.h"

namespace matrix::conversation {

std::vector<tok::ChatMessage> agent_messages(const AgentConversation& c) {
    std::vector<tok::ChatMessage> msgs;
    msgs.push_back(tok::ChatMessage::make("system", c.system.empty() ? tok::k_default_system_prompt : c.system));
    tok::ChatMessage user{"user", {}};
    for (int64_t n : c.image_pad_counts) user.content.push_back(tok::ContentPart::make_image(n));
    for (const std::string& p : c.image_paths) user.content.push_back(tok::ContentPart::make_image_file(p));
    user.content.push_back(tok::ContentPart::make_text(c.task));
    msgs.push_back(std::move(user));
    for (const tok::ChatMessage& t : c.turns) msgs.push_back(t);
    return msgs;
}

Status check_agent_turns(const AgentConversation& c) {
    for (size_t i = 0; i < c.turns.size(); ++i) {
        const char* want = i % 2 == 0 ? "assistant" : "user";
        if (c.turns[i].role != want)
            return make_error("agent turn " + std::to_string(i) + " has role \"" + c.turns[i].role + "\", expected " +
                              want + " (turns alternate assistant / user after the task)");
    }
    return {};
}

Result<tok::EncodedChat> encode_agent_conversation(const tok::Tokenizer& tokenizer, const AgentConversation& c) {
    MATRIX_CHECK(check_agent_turns(c));
    tok::ChatTemplateOptions opt;
    opt.add_generation_prompt = c.add_generation_prompt;
    return tok::encode_chat(tokenizer, agent_messages(c), opt);
}

std::vector<tok::ChatMessage> step_turns(const std::vector<store::Step>& steps, size_t first) {
    std::vector<tok::ChatMessage> turns;
    for (size_t i = first; i < steps.size(); ++i) {
        turns.push_back(tok::ChatMessage::make("assistant", step_action(steps[i])));
        if (i + 1 >= steps.size()) break;
        std::optional<std::string> obs = observation_turn(steps[i]);
        turns.push_back(tok::ChatMessage::make("user", obs ? std::move(*obs) : render_observation(int(i), "")));
    }
    return turns;
}

std::vector<tok::ChatMessage> prefx_history_messages(const std::string& system, const nlohmann::json& history,
                                                     size_t drop_pairs, const std::vector<int64_t>& pads) {
    return prefx_turn_messages(system, prefx_turns_of_json(history), drop_pairs, pads);
}

std::vector<tok::ChatMessage> prefx_turn_messages(const std::string& system, const std::vector<PrefxTurn>& turns,
                                                  size_t drop_pairs, const std::vector<int64_t>& pads) {
    std::vector<tok::ChatMessage> msgs;
    if (!system.empty()) msgs.push_back(tok::ChatMessage::make("system", system));
    size_t image = 0;
    for (size_t i = 0; i < turns.size(); ++i) {
        if (i >= 1 && i < 1 + 2 * drop_pairs) continue;  // oldest (gpt, human) pairs dropped
        const std::string& from = turns[i].from;
        const std::string& value = turns[i].value;
        tok::ChatMessage m;
        m.role = (from == "gpt" || from == "assistant") ? "assistant" : (from == "system" ? "system" : "user");
        // "<image>" placeholders become image parts in place (LLaMA-Factory's mm_plugin).
        size_t pos = 0;
        const std::string ph = "<image>";
        while (true) {
            size_t at = value.find(ph, pos);
            if (at == std::string::npos) break;
            if (at > pos) m.content.push_back(tok::ContentPart::make_text(value.substr(pos, at - pos)));
            if (image < pads.size()) m.content.push_back(tok::ContentPart::make_image(pads[image++]));
            pos = at + ph.size();
        }
        if (pos < value.size() || m.content.empty()) m.content.push_back(tok::ContentPart::make_text(value.substr(pos)));
        msgs.push_back(std::move(m));
    }
    return msgs;
}

}  // namespace matrix::conversation
