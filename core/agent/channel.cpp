// JSON-line channel over a Unix socket (see channel.h).
#include "core/agent/channel.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/util/json_input.h"

namespace matrix::agent {

Channel::~Channel() {
    if (m_fd >= 0) close(m_fd);
}

Status Channel::send(const nlohmann::json& message) {
    std::string line;
    try {
        line = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    } catch (const std::exception& e) {
        return make_error(std::string("cannot encode a sandbox message: ") + e.what());
    }
    line += '\n';
    size_t off = 0;
    while (off < line.size()) {
        const ssize_t n = ::send(m_fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return make_error(std::string("the sandbox channel is closed (") + std::strerror(errno) + ")");
        }
        off += static_cast<size_t>(n);
    }
    return {};
}

bool Channel::has_line() const { return m_buf.find('\n') != std::string::npos; }

Status Channel::fill(std::vector<int>* fds) {
    char data[65536];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 64)];
    iovec iov{data, sizeof data};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    do {
        n = recvmsg(m_fd, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const int* received = reinterpret_cast<const int*>(CMSG_DATA(c));
        for (size_t i = 0; i < count; ++i) {
            if (fds) {
                fds->push_back(received[i]);
            } else {
                close(received[i]);
            }
        }
    }
    if (n < 0) return make_error(std::string("reading from the sandbox: ") + std::strerror(errno));
    if (n == 0) return make_error("the sandbox process ended");
    m_buf.append(data, static_cast<size_t>(n));
    return {};
}

Result<nlohmann::json> Channel::take_line() {
    const size_t nl = m_buf.find('\n');
    if (nl == std::string::npos) return make_error("no complete message");
    std::string line = m_buf.substr(0, nl);
    m_buf.erase(0, nl + 1);
    auto parsed = parse_json(line);
    if (!parsed.ok()) return make_error("malformed message from the sandbox: " + parsed.error().message);
    return parsed;
}

Result<std::optional<nlohmann::json>> Channel::recv(std::chrono::steady_clock::time_point deadline,
                                                    std::vector<int>* fds) {
    while (!has_line()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::optional<nlohmann::json>();
        pollfd p{m_fd, POLLIN, 0};
        const int r = poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count() + 1, 60000)));
        if (r < 0 && errno != EINTR) return make_error(std::string("poll: ") + std::strerror(errno));
        if (r <= 0) continue;
        MATRIX_CHECK(fill(fds));
    }
    MATRIX_TRY(auto msg, take_line());
    return std::optional<nlohmann::json>(std::move(msg));
}

}  // namespace matrix::agent
