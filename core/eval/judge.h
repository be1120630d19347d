// The LLM-judge interface for Agent-X's judge-scored metrics (grounding, tool precision, tool accuracy,
// faithfulness, context, factual precision, semantic accuracy, goal accuracy). A judge is an
// OpenAI-compatible chat-completions endpoint; without one the metrics are "not configured" and no score is
// ever produced. Requests go through net::ChatClient (http:// or https://, libcurl). Blocking calls: run them off
// the UI thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace matrix::eval {

struct JudgeConfig {
    std::string endpoint;  // "http(s)://host:port/v1/chat/completions"; empty = not configured
    std::string model;
    std::string api_key;   // sent as a Bearer token when non-empty
    int timeout_ms = 60000;
    int max_attempts = 1;  // HTTP requests per verdict: > 1 retries 429, 5xx and timeouts with backoff

    bool configured() const { return !endpoint.empty() && !model.empty(); }
    // From MATRIX_JUDGE_URL, MATRIX_JUDGE_MODEL, MATRIX_JUDGE_API_KEY (all optional).
    static JudgeConfig from_environment();
};

// The Agent-X judge metric names, in the order the paper reports them.
const std::vector<std::string>& agentx_judge_metrics();

struct JudgeVerdict {
    double score = 0;   // in [0, 1]
    std::string raw;    // the judge's reply
};

// Asks the judge to score one metric of one task. Error "judge not configured" when it is not; errors for
// unreachable endpoints, HTTP failures and replies without a number in [0, 1].
Result<JudgeVerdict> judge_score(const JudgeConfig& config, const std::string& metric, const std::string& query,
                                 const std::string& gold, const std::string& prediction);

// Extracts choices[0].message.content from a chat-completions reply and the first number in it.
Result<JudgeVerdict> parse_judge_reply(const std::string& body);

}  // namespace matrix::eval
