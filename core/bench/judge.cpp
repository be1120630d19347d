// OpenAI-compatible judge over plain HTTP (see judge.h).
#include "core/bench/judge.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <regex>

namespace matrix::bench {

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

namespace {

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

bool wait_fd(int fd, short events, int timeout_ms) {
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, timeout_ms) > 0;
}

}  // namespace

Result<std::string> http_post_json(const std::string& url, const std::string& body, const std::string& bearer,
                                   int timeout_ms) {
    static const std::regex url_re(R"(^http://([^/:]+)(?::(\d+))?(/.*)?$)");
    std::smatch m;
    if (!std::regex_match(url, m, url_re)) return make_error("only plain http:// endpoints are supported", url);
    const std::string host = m[1], port = m[2].matched ? m[2].str() : "80", path = m[3].matched ? m[3].str() : "/";
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
        return make_error(std::string("cannot resolve host: ") + gai_strerror(rc), url);
    }
    Fd sock;
    for (addrinfo* a = res; a; a = a->ai_next) {
        sock.fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (sock.fd < 0) continue;
        if (::connect(sock.fd, a->ai_addr, a->ai_addrlen) == 0) break;
        ::close(sock.fd);
        sock.fd = -1;
    }
    ::freeaddrinfo(res);
    if (sock.fd < 0) return make_error("cannot connect", url);
    std::string req = "POST " + path + " HTTP/1.1\r\nHost: " + host + ":" + port +
                      "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n";
    if (!bearer.empty()) req += "Authorization: Bearer " + bearer + "\r\n";
    req += "\r\n" + body;
    size_t sent = 0;
    while (sent < req.size()) {
        if (!wait_fd(sock.fd, POLLOUT, timeout_ms)) return make_error("timeout while sending", url);
        const ssize_t n = ::send(sock.fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) return make_error("send failed", url);
        sent += size_t(n);
    }
    std::string resp;
    char buf[8192];
    for (;;) {
        if (!wait_fd(sock.fd, POLLIN, timeout_ms)) return make_error("timeout while waiting for the reply", url);
        const ssize_t n = ::recv(sock.fd, buf, sizeof buf, 0);
        if (n < 0) return make_error("receive failed", url);
        if (n == 0) break;
        resp.append(buf, size_t(n));
    }
    const size_t head_end = resp.find("\r\n\r\n");
    if (head_end == std::string::npos) return make_error("malformed HTTP reply", url);
    const std::string head = resp.substr(0, head_end);
    std::string payload = resp.substr(head_end + 4);
    static const std::regex status_re(R"(^HTTP/1\.[01] (\d{3}))");
    std::smatch sm;
    if (!std::regex_search(head, sm, status_re)) return make_error("malformed HTTP status line", url);
    const int status = std::stoi(sm[1]);
    // Chunked transfer encoding (servers may use it even for small replies).
    std::string lower_head = head;
    for (auto& ch : lower_head) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    if (lower_head.find("transfer-encoding: chunked") != std::string::npos) {
        std::string out;
        size_t pos = 0;
        while (pos < payload.size()) {
            const size_t eol = payload.find("\r\n", pos);
            if (eol == std::string::npos) break;
            const size_t len = std::stoul(payload.substr(pos, eol - pos), nullptr, 16);
            if (len == 0) break;
            out += payload.substr(eol + 2, len);
            pos = eol + 2 + len + 2;
        }
        payload = out;
    }
    if (status < 200 || status >= 300) return make_error("HTTP status " + std::to_string(status), url);
    return payload;
}

Result<JudgeVerdict> parse_judge_reply(const std::string& body) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(body);
    } catch (const nlohmann::json::exception& e) {
        return make_error(std::string("judge reply is not JSON: ") + e.what());
    }
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
    const nlohmann::json req = {{"model", config.model},
                                {"temperature", 0},
                                {"messages", nlohmann::json::array({{{"role", "user"}, {"content", prompt}}})}};
    MATRIX_TRY(std::string body, http_post_json(config.endpoint, req.dump(), config.api_key, config.timeout_ms));
    return parse_judge_reply(body);
}

}  // namespace matrix::bench
