// The OpenAI-compatible /v1/chat/completions wire format: a request (messages of text and image parts, sampling
// fields, vLLM-style extra fields) as the JSON body, a reply (non-streamed JSON, or server-sent events of
// deltas) as a ChatResponse. A streamed reply assembles into the same ChatResponse as the non-streamed one.
// No I/O except reading image files; the client (chat_client.h) does the HTTP, retries and caching.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/result.h"

namespace matrix::net {

struct ContentPart {
    enum class Kind { text, image };
    Kind kind = Kind::text;
    std::string text;        // Kind::text
    std::string image_path;  // Kind::image: a local file, sent as a data URL (MIME type from its magic bytes)

    static ContentPart make_text(std::string t) { return {Kind::text, std::move(t), {}}; }
    static ContentPart make_image(std::string path) { return {Kind::image, {}, std::move(path)}; }
};

struct ChatMessage {
    std::string role;  // system | user | assistant
    std::vector<ContentPart> content;

    static ChatMessage text(std::string role, std::string t) {
        return {std::move(role), {ContentPart::make_text(std::move(t))}};
    }
};

struct ChatRequest {
    std::string model;  // empty: the client's default model
    std::vector<ChatMessage> messages;
    std::optional<int> n;
    std::optional<double> temperature;
    std::optional<double> top_p;
    std::optional<int> max_tokens;
    std::vector<std::string> stop;  // sent only when non-empty
    std::optional<int64_t> seed;
    bool stream = false;  // server-sent events; the result is the same ChatResponse
    // Merged into the body last (overriding fields of the same name): vLLM's top_k, repetition_penalty, ...
    nlohmann::json extra = nlohmann::json::object();
};

struct ChatChoice {
    int index = 0;
    std::string content;        // "" when the server sent null (e.g. a tool call)
    std::string finish_reason;  // "stop", "length", ...; "" when the server sent none
};

struct ChatUsage {
    int64_t prompt_tokens = 0;
    int64_t completion_tokens = 0;
    int64_t total_tokens = 0;
    bool present = false;  // the reply carried a usage object
};

struct ChatResponse {
    std::string id;
    std::string model;
    std::vector<ChatChoice> choices;  // by index
    ChatUsage usage;
    std::string raw;  // the reply body as received (an SSE stream for streamed calls; the cached JSON on a hit)

    // How it was obtained (set by ChatClient).
    int attempts = 0;         // HTTP requests made for it; 0 when it came from the cache
    bool from_cache = false;
    std::string cache_error;  // non-empty when storing it in the cache failed (the reply is still good)

    // The reply as a non-streamed chat.completion object (what the cache stores).
    nlohmann::json to_json() const;
};

// The JSON body for `request` ("model" = default_model when the request names none). Image files are read and
// embedded as data URLs here. Errors: unreadable or unknown images, `extra` not an object, no messages.
Result<nlohmann::json> build_chat_body(const ChatRequest& request, const std::string& default_model);

// The body without the fields that do not change the answer ("stream", "stream_options"), dumped with sorted
// keys: the identity of a request for the cache.
std::string canonical_request(const nlohmann::json& body);
// The canonical request with each image data URL replaced by "data:<mime>;sha256,<hex>" (what the cache's
// request column stores, so the project does not hold every image twice).
std::string canonical_request_without_images(const nlohmann::json& body);

// Parses a non-streamed reply. Errors name the reason: "reply is not JSON: ...", "reply has no choices", ...
Result<ChatResponse> parse_chat_response(const std::string& body);

// Assembles a server-sent-events reply ("data: {chunk}" lines, "data: [DONE]") fed in arbitrary pieces.
class ChatStreamAssembler {
public:
    using DeltaFn = std::function<void(int choice, std::string_view text)>;
    explicit ChatStreamAssembler(DeltaFn on_delta = {}) : m_on_delta(std::move(on_delta)) {}

    // Feeds received bytes; calls on_delta once per non-empty content delta. Error on a malformed data line or
    // an error event from the server.
    Status feed(std::string_view bytes);
    bool saw_events() const { return m_events > 0; }
    bool done() const { return m_done; }
    // The assembled reply (`raw` = the whole stream). Error when no choice arrived.
    Result<ChatResponse> finish(std::string raw);

private:
    Status dispatch(const std::string& data);
    DeltaFn m_on_delta;
    std::string m_line;  // an incomplete line
    int m_events = 0;
    bool m_done = false;
    ChatResponse m_response;
};

}  // namespace matrix::net
