// The OpenAI chat-completions protocol as `matrix serve` speaks it: a POST /v1/chat/completions body parsed and
// validated into a ChatCompletionRequest, and the JSON the server answers with (a completion, stream chunks, the
// model list, errors in OpenAI's {"error": {message, type, param, code}} shape with their HTTP status).
// Field names and defaults follow OpenAI's API reference (and vLLM where OpenAI has none: top_k,
// repetition_penalty, return_token_ids). Torch-free and HTTP-free, so it is tested on its own.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace matrix::serve {

// An error answer: HTTP status plus OpenAI's error object.
struct ApiError {
    int status = 400;
    std::string type = "invalid_request_error";  // "invalid_request_error", "authentication_error", "server_error"
    std::string message;
    std::string param;  // "" -> null
    std::string code;   // "" -> null; e.g. "model_not_found", "context_length_exceeded", "invalid_api_key"
};
std::string error_body(const ApiError& error);  // {"error": {...}}

struct MessagePart {
    bool is_image = false;
    std::string text;       // text part
    std::string image_url;  // image part: "data:image/png;base64,..." or "file:///..."
};

struct ChatMessageIn {
    std::string role;
    std::vector<MessagePart> parts;
};

struct ChatCompletionRequest {
    std::string model;  // "" when the request names none (the server's base model then)
    std::vector<ChatMessageIn> messages;
    double temperature = 1.0;  // 0: greedy
    double top_p = 1.0;
    int64_t top_k = 0;  // 0 or -1: off
    double repetition_penalty = 1.0;
    std::optional<int64_t> max_tokens;  // max_tokens or max_completion_tokens; default: what the context leaves
    std::vector<std::string> stop;
    int64_t n = 1;
    std::optional<uint64_t> seed;
    bool stream = false;
    bool include_usage = false;     // stream_options.include_usage
    bool return_token_ids = false;  // vLLM's extension: prompt_token_ids and choices[].token_ids in the answer
    bool greedy() const { return temperature == 0.0; }
};

// Either the request or the error to answer with (status 400 for every parse or range problem).
struct ParsedRequest {
    std::optional<ChatCompletionRequest> request;
    ApiError error;
};
ParsedRequest parse_chat_completion(std::string_view body, int64_t max_n = 128);

// ---- answers ----
struct ChoiceOut {
    std::string text;
    std::string finish_reason;  // "stop", "length"
    std::vector<int64_t> token_ids;
};
struct UsageOut {
    int64_t prompt_tokens = 0;
    int64_t completion_tokens = 0;
};
struct ResponseMeta {
    std::string id;  // "chatcmpl-..."
    int64_t created = 0;
    std::string model;
};

// chat.completion; prompt_ids (with return_token_ids) adds prompt_token_ids and each choice's token_ids.
std::string completion_body(const ResponseMeta& meta, const std::vector<ChoiceOut>& choices, const UsageOut& usage,
                            const std::vector<int64_t>* prompt_ids = nullptr);
// One chat.completion.chunk with one choice: the role (first chunk), a content delta, or the finish reason
// (delta {}); token_ids only when given (return_token_ids).
struct ChunkDelta {
    int64_t index = 0;
    std::optional<std::string> role;
    std::optional<std::string> content;
    std::optional<std::string> finish_reason;
    const std::vector<int64_t>* token_ids = nullptr;
};
std::string chunk_body(const ResponseMeta& meta, const ChunkDelta& delta);
// The final usage chunk of stream_options.include_usage: "choices": [] and "usage".
std::string usage_chunk_body(const ResponseMeta& meta, const UsageOut& usage);
// GET /v1/models.
std::string models_body(const std::vector<std::string>& ids, int64_t created);
// A server-sent event carrying `data` ("data: <data>\n\n").
std::string sse_event(std::string_view data);

}  // namespace matrix::serve
