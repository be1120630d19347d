// An OpenAI-compatible /v1/chat/completions client: the endpoint controller of the agent runtime and the LLM
// judge use it. Keys come from the environment (Bearer, or Azure's api-key header + api-version), transient
// failures (429, 500, 502, 503, 504, timeouts, refused connections) are retried with exponential backoff that
// honours Retry-After, at most max_concurrency requests of one client are in flight, and an optional request
// cache answers a request it has seen without an HTTP call.
// Errors carry a kind: ErrorKind::infrastructure means "the endpoint could not answer"; callers must never turn
// it into data (an agent step is retried or the task is marked invalid), unlike a reply the endpoint did give.
// Thread safety: complete() may be called from many threads at once on one client; the client must outlive
// the calls. Keys are never written to errors or logs.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "core/net/chat_request.h"
#include "core/net/http_client.h"
#include "core/net/request_cache.h"
#include "core/net/semaphore.h"
#include "core/util/result.h"

namespace matrix::net {

enum class ErrorKind {
    infrastructure,  // no answer: 429/5xx after the retries, timeouts, refused connections, DNS, TLS, stream broke
    rejected,        // the endpoint refused the request: a 4xx other than 429 (bad request, auth, unknown model)
    malformed,       // a 2xx reply that is not a chat completion (not JSON, no choices, broken stream)
    invalid,         // the request could not be made: no model, unreadable image, bad URL, missing key
    cancelled,       // the caller's cancel flag
};
const char* error_kind_name(ErrorKind kind);  // "infrastructure", "rejected", ...

struct ChatError {
    ErrorKind kind = ErrorKind::infrastructure;
    std::string message;  // one line: "HTTP 503: <reply excerpt>", "timeout: <libcurl's text>", "reply is not JSON: ..."
    std::string context;  // the endpoint URL
    int http_status = 0;  // the last HTTP status; 0 when no response came back
    TransportFailure transport = TransportFailure::none;  // why no response came back, if so
    int attempts = 0;     // HTTP requests made

    bool infrastructure() const { return kind == ErrorKind::infrastructure; }
    // As a plain Error: "<context>: [<kind>] <message> (<attempts> attempts)".
    Error to_error() const;
};

// A ChatResponse or a ChatError.
class [[nodiscard]] ChatResult {
public:
    ChatResult(ChatResponse r) : m_v(std::move(r)) {}
    ChatResult(ChatError e) : m_v(std::move(e)) {}
    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }
    ChatResponse& value() & { return std::get<0>(m_v); }
    const ChatResponse& value() const& { return std::get<0>(m_v); }
    ChatResponse&& value() && { return std::get<0>(std::move(m_v)); }
    ChatResponse* operator->() { return &value(); }
    const ChatResponse* operator->() const { return &value(); }
    const ChatError& error() const { return std::get<1>(m_v); }
    // For callers that only pass errors on (MATRIX_TRY); the kind survives in the message text only.
    Result<ChatResponse> to_result() &&;

private:
    std::variant<ChatResponse, ChatError> m_v;
};

enum class AuthStyle {
    bearer,  // "Authorization: Bearer <key>"; no header when the key is empty (a local vLLM server)
    azure,   // "api-key: <key>" header and ?api-version=<azure_api_version>; the key is required
};

struct RetryPolicy {
    int max_attempts = 5;         // HTTP requests per call, the first included (1 = no retries)
    int base_delay_ms = 1000;     // wait after the k-th failed attempt: base * 2^(k-1), capped at max_delay_ms,
    int max_delay_ms = 30000;     // then scaled by a random factor in [1 - jitter, 1 + jitter]
    double jitter = 0.2;
    int max_retry_after_ms = 120000;  // a server's Retry-After (seconds or HTTP-date) replaces the backoff, capped
};

struct ChatClientConfig {
    // "http(s)://host/v1" ("/chat/completions" is appended) or the full ".../chat/completions" URL (Azure:
    // "https://NAME.openai.azure.com/openai/deployments/DEPLOYMENT/chat/completions").
    std::string url;
    std::string model;  // used when a request names none
    AuthStyle auth = AuthStyle::bearer;
    std::string api_key_env = "OPENAI_API_KEY";  // read once when the client is made
    std::string api_key;  // given directly (e.g. the judge's); takes precedence over api_key_env
    std::string azure_api_version;  // AuthStyle::azure: required, e.g. "2024-06-01"
    int connect_timeout_ms = 10000;
    int timeout_ms = 300000;  // per HTTP request, the whole reply (a stream included)
    RetryPolicy retry;
    int max_concurrency = 4;  // requests of this client in flight at once, over all threads
    std::shared_ptr<RequestCache> cache;  // optional; see CallOptions::use_cache
    bool stream_include_usage = true;     // streamed requests ask for usage (stream_options.include_usage)
};

struct CallOptions {
    int sample_index = 0;   // the cache's salt: the k-th sampled answer of one request is cached on its own
    bool use_cache = true;  // with ChatClientConfig::cache: look up first, store successful replies
    // Streamed requests: each content delta as it arrives (choice index, text). A reply from the cache (or a
    // server that ignored "stream") gives one call per choice with its whole content. After a failed attempt
    // the deltas start again from the beginning: on_retry is called first.
    std::function<void(int choice, std::string_view text)> on_delta;
    // Before each retry: the error of the failed attempt, the attempt about to be made, the wait before it.
    std::function<void(const ChatError& error, int next_attempt, int delay_ms)> on_retry;
    const std::atomic<bool>* cancel = nullptr;  // polled during transfers, waits and backoff
};

class ChatClient {
public:
    explicit ChatClient(ChatClientConfig config);
    ChatClient(const ChatClient&) = delete;
    ChatClient& operator=(const ChatClient&) = delete;

    ChatResult complete(const ChatRequest& request, const CallOptions& options = {}) const;

    const ChatClientConfig& config() const { return m_config; }
    const std::string& endpoint() const { return m_endpoint; }  // where requests go (holds no key)
    int64_t http_requests() const { return m_http_requests.load(); }  // made so far by this client

    // The wait before attempt `failed_attempts + 1` without Retry-After (jitter applied): exposed for tests.
    static int backoff_delay_ms(const RetryPolicy& policy, int failed_attempts);
    // Whether an HTTP status is retried (429, 500, 502, 503, 504).
    static bool retryable_status(int status);

private:
    ChatClientConfig m_config;
    std::string m_endpoint;
    std::string m_key;  // never logged
    std::string m_config_error;  // set when the configuration is unusable (reported by complete())
    mutable Semaphore m_slots;
    mutable std::atomic<int64_t> m_http_requests{0};
};

// The chat-completions URL for a configured base URL (appends "/chat/completions" unless present, adds the
// Azure api-version when given).
std::string chat_completions_url(const std::string& url, const std::string& azure_api_version = {});

}  // namespace matrix::net
