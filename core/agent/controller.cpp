// Controller helpers and the scripted controller (see controller.h).
#include "core/agent/controller.h"

namespace matrix::agent {

namespace {
constexpr const char* k_infrastructure = "infrastructure";
}

Error infrastructure_error(const std::string& message) { return Error{message, k_infrastructure}; }

bool is_infrastructure_error(const Error& error) {
    return error.context == k_infrastructure || error.context.rfind(std::string(k_infrastructure) + ":", 0) == 0;
}

std::string cut_at_stop(const std::string& text, const std::vector<std::string>& stop) {
    size_t cut = std::string::npos;
    for (const std::string& s : stop) {
        if (s.empty()) continue;
        const size_t at = text.find(s);
        if (at != std::string::npos && (cut == std::string::npos || at < cut)) cut = at;
    }
    return cut == std::string::npos ? text : text.substr(0, cut);
}

Result<std::vector<Candidate>> ScriptedController::generate(const std::vector<tok::ChatMessage>& messages,
                                                            const GenerationSettings& settings,
                                                            const std::atomic<bool>* cancel) {
    m_calls.push_back(messages);
    int n = 0;
    for (const SamplingGroup& g : settings.groups) n += g.n;
    std::vector<Candidate> out;
    for (int i = 0; i < n; ++i) {
        if (m_next >= m_replies.size()) {
            if (!m_repeat_last || m_replies.empty()) return make_error("the scripted controller has no reply left");
            m_next = m_replies.size() - 1;
        }
        const std::string& reply = m_replies[m_next++];
        if (reply.rfind("!infra:", 0) == 0) return infrastructure_error(reply.substr(7));
        const std::string cut = cut_at_stop(reply, settings.stop);
        out.push_back({cut, cut.size() < reply.size() ? "stop" : "eos", -1});
    }
    return out;
}

}  // namespace matrix::agent
