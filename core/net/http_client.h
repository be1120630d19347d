// A small blocking HTTP(S) client over libcurl for the endpoint controller and the LLM judge: one request, its
// headers and body, a connect and a total timeout, an optional streaming body callback, cancellation. Transport
// failures (refused, timeout, DNS, TLS, dropped connection) are reported apart from HTTP statuses: a 503 is a
// response, a refused connection is not.
// Thread safety: http_request() may be called from any number of threads at once; each call uses its own CURL
// easy handle (so a finished call leaves no connection open). libcurl's global state is initialised once.
#pragma once

#include <atomic>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace matrix::net {

// Why no HTTP response came back.
enum class TransportFailure {
    none,         // a response arrived (any status)
    timeout,      // connect or total timeout
    refused,      // could not connect (refused, unreachable)
    dns,          // host name did not resolve
    tls,          // TLS handshake or certificate failure
    dropped,      // connection reset, closed without a reply, partial reply
    invalid_url,  // malformed URL or a scheme other than http/https
    cancelled,    // the caller's cancel flag, or the body callback asked to stop
    other,
};
const char* transport_failure_name(TransportFailure f);  // "timeout", "refused", ...

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
    std::string method = "POST";  // GET or POST
    std::string url;              // http:// or https://
    HttpHeaders headers;          // sent as given
    std::string body;             // POST body
    int connect_timeout_ms = 10000;
    int timeout_ms = 60000;  // the whole transfer, connect included; <= 0: none
    // Called with each piece of the response body as it arrives (after the status and headers), with the
    // response status; return false to stop the transfer (TransportFailure::cancelled). The body is also
    // collected in HttpResponse::body.
    std::function<bool(int status, std::string_view chunk)> on_body;
    const std::atomic<bool>* cancel = nullptr;  // polled during the transfer
};

struct HttpResponse {
    int status = 0;
    HttpHeaders headers;  // of the final response, names as the server wrote them
    std::string body;

    // The first header with this name (case-insensitive), trimmed.
    std::optional<std::string> header(std::string_view name) const;
};

struct HttpResult {
    TransportFailure failure = TransportFailure::none;
    std::string message;  // one line when failure != none (libcurl's explanation)
    HttpResponse response;

    bool ok() const { return failure == TransportFailure::none; }  // a response arrived; check its status
};

HttpResult http_request(const HttpRequest& request);

// POST of a JSON body (Content-Type: application/json) with extra headers.
HttpResult http_post_json(const std::string& url, const std::string& body, const HttpHeaders& headers,
                          int connect_timeout_ms, int timeout_ms);

// A Retry-After header value in seconds: delta-seconds ("120") or an HTTP-date relative to `now`
// (RFC 9110 10.2.3); nullopt when unparseable. Dates in the past give 0.
std::optional<double> parse_retry_after(std::string_view value, std::time_t now);

// Percent-encodes a query parameter value (RFC 3986 unreserved characters pass through).
std::string url_encode(std::string_view s);

}  // namespace matrix::net
