// A scripted OpenAI-compatible teacher for `matrix synth` tests: a real HTTP server on 127.0.0.1
// (local_http_server.h) whose /v1/chat/completions answers come from the test's function, by the kind of request
// (which synthesis prompt it carries, told from its system part; "agent" otherwise). Every answered request is
// kept (kind, body, the usage it was billed) so a test can check what the CLI sent and that the project's
// accounting equals what was served. Usage is the test's function too (default: body bytes / 4 prompt tokens,
// answer bytes / 4 + 1 completion tokens). Thread safety: the handler runs on the server's threads; the
// accessors lock.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/local_http_server.h"

namespace matrix::testing {

class ScriptedTeacher {
public:
    using json = nlohmann::json;
    using Answer = std::function<std::string(const std::string& kind, const json& request)>;
    struct Usage {
        int64_t prompt_tokens = 0, completion_tokens = 0;
    };
    using Billing = std::function<Usage(const std::string& body, const std::string& answer)>;
    struct Served {
        std::string kind, body;
        json request;
        Usage usage;
    };

    explicit ScriptedTeacher(Answer answer, Billing billing = {})
        : m_answer(std::move(answer)), m_billing(std::move(billing)) {
        m_server = std::make_unique<LocalHttpServer>([this](const httplib::Request& q, httplib::Response& r) { handle(q, r); });
    }

    std::string url() const { return m_server->url("/v1"); }
    int max_in_flight() const { return m_server->max_in_flight(); }
    void set_delay_ms(int ms) { m_delay_ms = ms; }

    // The text parts of a chat message, joined.
    static std::string all_text(const json& message) {
        if (message["content"].is_string()) return message["content"].get<std::string>();
        std::string t;
        for (const auto& p : message["content"])
            if (p.value("type", "") == "text") t += p.value("text", "");
        return t;
    }

    static std::string kind_of(const json& req) {
        const std::string system = req["messages"].empty() ? "" : all_text(req["messages"][0]);
        if (system.find("You write tasks for a tool-using AI agent") != std::string::npos) return "queries";
        if (system.find("You reconstruct the scene of a task") != std::string::npos) return "file_content";
        if (system.find("You write Python that creates a file") != std::string::npos) return "file_code";
        if (system.find("You check tasks made for evaluating an AI agent") != std::string::npos) return "verify_files";
        if (system.find("You judge the quality of a trajectory") != std::string::npos) return "verify_trajectory";
        return "agent";
    }

    std::vector<Served> served(const std::string& kind = "") {
        std::lock_guard<std::mutex> lock(m_mutex);
        std::vector<Served> out;
        for (const Served& s : m_served)
            if (kind.empty() || s.kind == kind) out.push_back(s);
        return out;
    }
    Usage total() {
        std::lock_guard<std::mutex> lock(m_mutex);
        Usage u;
        for (const Served& s : m_served) {
            u.prompt_tokens += s.usage.prompt_tokens;
            u.completion_tokens += s.usage.completion_tokens;
        }
        return u;
    }
    // Request body -> times it was answered (a request paid twice shows up as 2).
    std::map<std::string, int> bodies() {
        std::lock_guard<std::mutex> lock(m_mutex);
        std::map<std::string, int> out;
        for (const Served& s : m_served) ++out[s.body];
        return out;
    }
    void clear() {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_served.clear();
    }

private:
    void handle(const httplib::Request& http, httplib::Response& res) {
        const json req = json::parse(http.body, nullptr, false);
        if (!req.is_object() || !req.contains("messages")) {
            res.status = 400;
            res.set_content(R"({"error": {"message": "not a chat request", "type": "invalid_request_error"}})",
                            "application/json");
            return;
        }
        const std::string kind = kind_of(req);
        if (m_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(m_delay_ms));
        const std::string content = m_answer(kind, req);
        Usage u;
        if (m_billing) {
            u = m_billing(http.body, content);
        } else {
            u.prompt_tokens = static_cast<int64_t>(http.body.size() / 4);
            u.completion_tokens = static_cast<int64_t>(content.size() / 4 + 1);
        }
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_served.push_back({kind, http.body, req, u});
        }
        const json choice = {{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}},
                             {"finish_reason", "stop"}};
        res.set_content(json{{"id", "c"}, {"object", "chat.completion"}, {"model", req.value("model", "")},
                             {"choices", {choice}},
                             {"usage", {{"prompt_tokens", u.prompt_tokens}, {"completion_tokens", u.completion_tokens},
                                        {"total_tokens", u.prompt_tokens + u.completion_tokens}}}}
                            .dump(),
                        "application/json");
    }

    Answer m_answer;
    Billing m_billing;
    std::atomic<int> m_delay_ms{0};
    std::mutex m_mutex;
    std::vector<Served> m_served;
    std::unique_ptr<LocalHttpServer> m_server;  // last: stopped (handlers joined) before the members above go
};

}  // namespace matrix::testing
