// The chat client's call: body, cache lookup, attempts with backoff, reply parsing, cache store (see
// chat_client.h). Which failures are retried and what kind each error has is decided in one place, attempt().
#include "core/net/chat_client.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <random>
#include <thread>

#include "core/util/json_input.h"

namespace matrix::net {

using nlohmann::json;

namespace {

bool cancelled(const std::atomic<bool>* cancel) { return cancel && cancel->load(std::memory_order_relaxed); }

// Sleeps `ms`, waking early when cancelled; false when cancelled.
bool sleep_ms(int ms, const std::atomic<bool>* cancel) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    for (;;) {
        if (cancelled(cancel)) return false;
        const auto now = std::chrono::steady_clock::now();
        if (now >= until) return true;
        std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(20)));
    }
}

// One line about an error reply: the server's error.message when it sent one, else the start of the body.
std::string reply_excerpt(const std::string& body) {
    try {
        auto parsed = parse_json(body);
        const json j = parsed.ok() ? std::move(parsed).value() : json();
        if (j.is_object() && j.contains("error")) {
            const json& e = j["error"];
            if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
            if (e.is_string()) return e.get<std::string>();
        }
    } catch (const json::exception&) {
    }
    std::string s = body.substr(0, 300);
    std::replace(s.begin(), s.end(), '\n', ' ');
    std::replace(s.begin(), s.end(), '\r', ' ');
    return s;
}

class SlotGuard {
public:
    explicit SlotGuard(Semaphore& s) : m_s(s) {}
    ~SlotGuard() { m_s.release(); }
    SlotGuard(const SlotGuard&) = delete;
    SlotGuard& operator=(const SlotGuard&) = delete;

private:
    Semaphore& m_s;
};

}  // namespace

const char* error_kind_name(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::infrastructure: return "infrastructure";
        case ErrorKind::rejected: return "rejected";
        case ErrorKind::malformed: return "malformed";
        case ErrorKind::invalid: return "invalid";
        case ErrorKind::cancelled: return "cancelled";
    }
    return "infrastructure";
}

Error ChatError::to_error() const {
    std::string m = std::string("[") + error_kind_name(kind) + "] " + message;
    if (attempts > 1) m += " (" + std::to_string(attempts) + " attempts)";
    return make_error(std::move(m), context);
}

Result<ChatResponse> ChatResult::to_result() && {
    if (ok()) return std::get<0>(std::move(m_v));
    return error().to_error();
}

std::string chat_completions_url(const std::string& url, const std::string& azure_api_version) {
    std::string u = url;
    std::string query;
    if (const size_t q = u.find('?'); q != std::string::npos) {
        query = u.substr(q);
        u.erase(q);
    }
    while (!u.empty() && u.back() == '/') u.pop_back();
    const std::string suffix = "/chat/completions";
    if (u.size() < suffix.size() || u.compare(u.size() - suffix.size(), suffix.size(), suffix) != 0) u += suffix;
    if (!azure_api_version.empty() && query.find("api-version=") == std::string::npos)
        query += (query.empty() ? "?" : "&") + std::string("api-version=") + url_encode(azure_api_version);
    return u + query;
}

ChatClient::ChatClient(ChatClientConfig config)
    : m_config(std::move(config)), m_slots(m_config.max_concurrency) {
    const bool azure = m_config.auth == AuthStyle::azure;
    m_endpoint = chat_completions_url(m_config.url, azure ? m_config.azure_api_version : std::string());
    if (!m_config.api_key.empty()) {
        m_key = m_config.api_key;
    } else if (!m_config.api_key_env.empty()) {
        if (const char* v = std::getenv(m_config.api_key_env.c_str())) m_key = v;
    }
    if (m_config.url.empty()) {
        m_config_error = "no endpoint URL given";
    } else if (azure && m_key.empty()) {
        m_config_error = "Azure endpoints need a key: the environment variable " + m_config.api_key_env + " is not set";
    } else if (azure && m_config.azure_api_version.empty()) {
        m_config_error = "Azure endpoints need an api-version";
    }
}

bool ChatClient::retryable_status(int status) {
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

int ChatClient::backoff_delay_ms(const RetryPolicy& policy, int failed_attempts) {
    double d = double(std::max(0, policy.base_delay_ms)) * std::pow(2.0, std::max(0, failed_attempts - 1));
    d = std::min(d, double(std::max(0, policy.max_delay_ms)));
    if (policy.jitter > 0) {
        thread_local std::mt19937 rng{std::random_device{}()};
        std::uniform_real_distribution<double> u(-policy.jitter, policy.jitter);
        d *= 1.0 + u(rng);
    }
    return std::max(0, int(std::lround(d)));
}

ChatResult ChatClient::complete(const ChatRequest& request, const CallOptions& options) const {
    auto fail = [&](ErrorKind kind, std::string message, int attempts = 0) {
        ChatError e;
        e.kind = kind;
        e.message = std::move(message);
        e.context = m_endpoint;
        e.attempts = attempts;
        return e;
    };
    if (!m_config_error.empty()) return fail(ErrorKind::invalid, m_config_error);
    auto built = build_chat_body(request, m_config.model);
    if (!built.ok()) return fail(ErrorKind::invalid, built.error().to_string());
    json body = std::move(built.value());
    const std::string model = body["model"].get<std::string>();
    const bool stream = request.stream;
    if (stream && m_config.stream_include_usage && !body.contains("stream_options"))
        body["stream_options"] = {{"include_usage", true}};

    RequestCache* cache = options.use_cache ? m_config.cache.get() : nullptr;
    std::string key;
    if (cache) {
        key = request_cache_key(m_endpoint, canonical_request(body), options.sample_index);
        auto hit = cache->find(key);
        if (!hit.ok()) return fail(ErrorKind::infrastructure, "request cache: " + hit.error().to_string());
        if (hit.value()) {
            auto r = parse_chat_response(*hit.value());
            if (r.ok()) {  // an unreadable entry is asked again (and kept: first answer wins)
                r->from_cache = true;
                r->attempts = 0;
                if (stream && options.on_delta) {
                    for (const ChatChoice& c : r->choices) options.on_delta(c.index, c.content);
                }
                return std::move(r.value());
            }
        }
    }

    HttpRequest http;
    http.url = m_endpoint;
    http.body = body.dump();
    http.headers.emplace_back("Content-Type", "application/json");
    http.headers.emplace_back("Accept", stream ? "text/event-stream" : "application/json");
    if (m_config.auth == AuthStyle::azure) {
        http.headers.emplace_back("api-key", m_key);
    } else if (!m_key.empty()) {
        http.headers.emplace_back("Authorization", "Bearer " + m_key);
    }
    http.connect_timeout_ms = m_config.connect_timeout_ms;
    http.timeout_ms = m_config.timeout_ms;
    http.cancel = options.cancel;

    const int max_attempts = std::max(1, m_config.retry.max_attempts);
    for (int attempt = 1;; ++attempt) {
        if (cancelled(options.cancel)) return fail(ErrorKind::cancelled, "cancelled", attempt - 1);
        if (!m_slots.acquire(options.cancel)) return fail(ErrorKind::cancelled, "cancelled", attempt - 1);
        ChatStreamAssembler assembler(options.on_delta);
        Status stream_status;
        HttpResult res;
        {
            SlotGuard slot(m_slots);
            if (stream) {
                http.on_body = [&](int status, std::string_view chunk) {
                    if (status < 200 || status >= 300) return true;  // an error body: collected, not parsed
                    stream_status = assembler.feed(chunk);
                    return stream_status.ok();
                };
            }
            ++m_http_requests;
            res = http_request(http);
        }

        ChatError e = fail(ErrorKind::infrastructure, "", attempt);
        e.http_status = res.response.status;
        bool retry = false;
        if (!stream_status.ok()) {
            // An error event from the server mid-stream is its failure; a stream we cannot read is malformed.
            const std::string& m = stream_status.error().message;
            e.kind = m.rfind("server error in stream", 0) == 0 ? ErrorKind::infrastructure : ErrorKind::malformed;
            e.message = m;
            retry = e.kind == ErrorKind::infrastructure;
        } else if (!res.ok()) {
            e.transport = res.failure;
            e.message = std::string(transport_failure_name(res.failure)) + ": " + res.message;
            switch (res.failure) {
                case TransportFailure::cancelled: e.kind = ErrorKind::cancelled; break;
                case TransportFailure::invalid_url: e.kind = ErrorKind::invalid; break;
                case TransportFailure::tls: break;  // a certificate problem does not heal by asking again
                default: retry = true; break;
            }
        } else if (const int status = res.response.status; status >= 200 && status < 300) {
            const std::string& raw = res.response.body;
            Result<ChatResponse> parsed = stream && assembler.saw_events() ? assembler.finish(raw) : parse_chat_response(raw);
            if (parsed.ok()) {
                ChatResponse r = std::move(parsed.value());
                if (stream && !assembler.saw_events() && options.on_delta) {  // the server ignored "stream"
                    for (const ChatChoice& c : r.choices) options.on_delta(c.index, c.content);
                }
                r.attempts = attempt;
                if (cache) {
                    RequestCacheEntry entry{key, m_endpoint, model, canonical_request_without_images(body),
                                            stream ? r.to_json().dump() : raw};
                    if (auto s = cache->put(entry); !s.ok()) r.cache_error = s.error().to_string();
                }
                return r;
            }
            e.kind = ErrorKind::malformed;
            e.message = parsed.error().message;
        } else {
            e.message = "HTTP " + std::to_string(status) + ": " + reply_excerpt(res.response.body);
            if (retryable_status(status)) {
                retry = true;
            } else if (status < 500) {
                e.kind = ErrorKind::rejected;
            }
        }
        if (!retry || attempt >= max_attempts) return e;

        int delay = backoff_delay_ms(m_config.retry, attempt);
        if (auto ra = res.response.header("Retry-After")) {
            if (auto seconds = parse_retry_after(*ra, std::time(nullptr))) {
                delay = int(std::min(*seconds * 1000.0, double(std::max(0, m_config.retry.max_retry_after_ms))));
            }
        }
        if (options.on_retry) options.on_retry(e, attempt + 1, delay);
        if (!sleep_ms(delay, options.cancel)) return fail(ErrorKind::cancelled, "cancelled", attempt);
    }
}

}  // namespace matrix::net
