// libcurl behind http_request() (see http_client.h): one easy handle per call, statuses and headers collected by
// callbacks, CURLcode mapped to TransportFailure.
#include "core/net/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

namespace matrix::net {

namespace {

void ensure_curl_global() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
}

struct Transfer {
    CURL* curl = nullptr;
    const HttpRequest* request = nullptr;
    HttpResponse* response = nullptr;
    bool stopped_by_callback = false;
};

size_t on_write(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t bytes = size * n;
    t->response->body.append(data, bytes);
    if (t->request->on_body) {
        long status = 0;
        curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
        if (!t->request->on_body(int(status), std::string_view(data, bytes))) {
            t->stopped_by_callback = true;
            return 0;  // makes libcurl stop with CURLE_WRITE_ERROR
        }
    }
    return bytes;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t bytes = size * n;
    const std::string_view line = trim(std::string_view(data, bytes));
    if (line.rfind("HTTP/", 0) == 0) {
        t->response->headers.clear();  // a new response (after 100 Continue): keep only the final one's headers
    } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
        t->response->headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                          std::string(trim(line.substr(colon + 1))));
    }
    return bytes;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    const bool cancel = t->request->cancel && t->request->cancel->load(std::memory_order_relaxed);
    return cancel ? 1 : 0;
}

TransportFailure classify(CURLcode code, bool stopped_by_callback) {
    switch (code) {
        case CURLE_OK: return TransportFailure::none;
        case CURLE_OPERATION_TIMEDOUT: return TransportFailure::timeout;
        case CURLE_COULDNT_CONNECT: return TransportFailure::refused;
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY: return TransportFailure::dns;
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS: return TransportFailure::tls;
        case CURLE_GOT_NOTHING:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM: return TransportFailure::dropped;
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT: return TransportFailure::invalid_url;
        case CURLE_ABORTED_BY_CALLBACK: return TransportFailure::cancelled;
        case CURLE_WRITE_ERROR: return stopped_by_callback ? TransportFailure::cancelled : TransportFailure::other;
        default: return TransportFailure::other;
    }
}

struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

const char* transport_failure_name(TransportFailure f) {
    switch (f) {
        case TransportFailure::none: return "none";
        case TransportFailure::timeout: return "timeout";
        case TransportFailure::refused: return "refused";
        case TransportFailure::dns: return "dns";
        case TransportFailure::tls: return "tls";
        case TransportFailure::dropped: return "dropped";
        case TransportFailure::invalid_url: return "invalid_url";
        case TransportFailure::cancelled: return "cancelled";
        case TransportFailure::other: return "other";
    }
    return "other";
}

std::optional<std::string> HttpResponse::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (iequals(k, name)) return v;
    }
    return std::nullopt;
}

HttpResult http_request(const HttpRequest& request) {
    ensure_curl_global();
    HttpResult result;
    const std::string_view url = request.url;
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
        result.failure = TransportFailure::invalid_url;
        result.message = "only http:// and https:// URLs are supported";
        return result;
    }
    std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
    if (!curl) {
        result.failure = TransportFailure::other;
        result.message = "cannot create a libcurl handle";
        return result;
    }
    CURL* c = curl.get();
    Transfer t{c, &request, &result.response, false};
    char errbuf[CURL_ERROR_SIZE] = {0};

    curl_slist* raw_list = nullptr;
    for (const auto& [k, v] : request.headers) raw_list = curl_slist_append(raw_list, (k + ": " + v).c_str());
    // No "Expect: 100-continue" for large bodies: servers that do not answer it would cost a second each call.
    raw_list = curl_slist_append(raw_list, "Expect:");
    std::unique_ptr<curl_slist, SlistDeleter> header_list(raw_list);

    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, long(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, long(std::max(1, request.connect_timeout_ms)));
    if (request.timeout_ms > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, long(request.timeout_ms));
    if (request.method == "POST") {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.size()));
    } else if (request.method == "GET") {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    if (request.cancel) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    }

    const CURLcode code = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    result.response.status = int(status);
    result.failure = classify(code, t.stopped_by_callback);
    if (result.failure != TransportFailure::none) {
        if (result.failure == TransportFailure::cancelled) {
            result.message = "cancelled";
        } else {
            result.message = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(code));
        }
    }
    return result;
}

HttpResult http_post_json(const std::string& url, const std::string& body, const HttpHeaders& headers,
                          int connect_timeout_ms, int timeout_ms) {
    HttpRequest r;
    r.url = url;
    r.body = body;
    r.headers = headers;
    r.headers.emplace_back("Content-Type", "application/json");
    r.connect_timeout_ms = connect_timeout_ms;
    r.timeout_ms = timeout_ms;
    return http_request(r);
}

std::optional<double> parse_retry_after(std::string_view value, std::time_t now) {
    value = trim(value);
    if (value.empty()) return std::nullopt;
    if (std::all_of(value.begin(), value.end(), [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); })) {
        if (value.size() > 9) return 1e9;  // absurdly large: the caller's cap applies
        return double(std::stol(std::string(value)));
    }
    const std::time_t when = curl_getdate(std::string(value).c_str(), nullptr);
    if (when == -1) return std::nullopt;
    return when <= now ? 0.0 : double(when - now);
}

std::string url_encode(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char ch : s) {
        if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
            out += char(ch);
        } else {
            out += '%';
            out += hex[ch >> 4];
            out += hex[ch & 15];
        }
    }
    return out;
}

}  // namespace matrix::net
