// OpenAI-compatible judge over net::ChatClient (see judge.h).
#include "core/eval/judge.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/net/chat_client.h"
#include "core/util/json_input.h"

namespace matrix::eval {

JudgeConfig JudgeConfig::from_environment() {
    JudgeConfig c;
    if (const char* v = std::getenv("MATRIX_JUDGE_URL")) c.endpoint = v;
    if (const char* v = std::getenv("MATRIX_JUDGE_MODEL")) c.model = v;
    if (const char* v = std::getenv("MATRIX_JUDGE_API_KEY")) c.api_key = v;
    return c;
}

const std::vector<std::string>& agentx_judge_metrics() {
    static const std::vector<std::string> m = {"grounding",      "tool_precision",    "tool_accuracy",
                                               "faithfulness",   "context",           "factual_precision",
                                               "semantic_accuracy", "goal_accuracy"};
    return m;
}

Result<JudgeVerdict> parse_judge_reply(const std::string& body) {
    auto parsed = parse_json(body);
    if (!parsed.ok()) return make_error("judge reply is not JSON: " + parsed.error().message);
    const nlohmann::json j = std::move(parsed).value();
    if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].empty() ||
        !j["choices"][0].contains("message") || !j["choices"][0]["message"].contains("content") ||
        !j["choices"][0]["message"]["content"].is_string()) {
        return make_error("judge reply has no choices[0].message.content");
    }
    JudgeVerdict v;
    v.raw = j["choices"][0]["message"]["content"].get<std::string>();
    static const std::regex num_re(R"((\d+(?:\.\d+)?))");
    std::smatch m;
    if (!std::regex_search(v.raw, m, num_re)) return make_error("judge reply holds no score: " + v.raw);
    v.score = std::stod(m[1]);
    if (v.score < 0 || v.score > 1) return make_error("judge score outside [0, 1]: " + m[1].str());
    return v;
}

Result<JudgeVerdict> judge_score(const JudgeConfig& config, const std::string& metric, const std::string& query,
                                 const std::string& gold, const std::string& prediction) {
    if (!config.configured()) return make_error("judge not configured");
    const std::string prompt =
        "You are evaluating an AI agent's answer for the metric '" + metric +
        "'. Compare the agent's reasoning steps and answer with the reference. Reply with a single number "
        "between 0 and 1 (1 = fully satisfies the metric), nothing else.\n\nQuery:\n" + query +
        "\n\nReference:\n" + gold + "\n\nAgent:\n" + prediction;
    net::ChatClientConfig client_config;
    client_config.url = config.endpoint;
    client_config.model = config.model;
    client_config.api_key = config.api_key;
    client_config.api_key_env.clear();  // only the key the judge was given
    client_config.timeout_ms = config.timeout_ms;
    client_config.connect_timeout_ms = config.timeout_ms > 0 ? std::min(config.timeout_ms, 10000) : 10000;
    client_config.retry.max_attempts = config.max_attempts;
    client_config.max_concurrency = 1;
    const net::ChatClient client(client_config);
    net::ChatRequest request;
    request.temperature = 0.0;
    request.messages.push_back(net::ChatMessage::text("user", prompt));
    const net::ChatResult reply = client.complete(request);
    if (reply.ok()) return parse_judge_reply(reply->raw);
    // The judge's own wording for failures (cmd_bench prints the first one).
    const net::ChatError& e = reply.error();
    switch (e.transport) {
        case net::TransportFailure::refused: return make_error("cannot connect", config.endpoint);
        case net::TransportFailure::dns: return make_error("cannot resolve host: " + e.message, config.endpoint);
        case net::TransportFailure::timeout: return make_error("timeout while waiting for the reply", config.endpoint);
        default: break;
    }
    if (e.http_status != 0 && (e.http_status < 200 || e.http_status >= 300))
        return make_error("HTTP status " + std::to_string(e.http_status), config.endpoint);
    if (e.kind == net::ErrorKind::malformed) return make_error("judge " + e.message);
    return make_error(e.message, config.endpoint);
}

}  // namespace matrix::eval
