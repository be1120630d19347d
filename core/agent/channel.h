// One end of a sandbox channel: JSON lines over a Unix stream socket, with file descriptors received through
// SCM_RIGHTS (the runner hands the host one channel per forked candidate). Owns the fd.
// Thread safety: one thread per channel.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace matrix::agent {

class Channel {
public:
    explicit Channel(int fd) : m_fd(fd) {}
    ~Channel();
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;

    int fd() const { return m_fd; }
    Status send(const nlohmann::json& message);
    // The next message; nullopt when the deadline passed first; an error at EOF or on a malformed line.
    // Descriptors that arrive with the bytes read are appended to `fds` (closed when fds is null).
    Result<std::optional<nlohmann::json>> recv(std::chrono::steady_clock::time_point deadline,
                                               std::vector<int>* fds = nullptr);
    // Non-blocking pieces for polling several channels: is a whole line buffered; read what is there now
    // (error at EOF); take the buffered line.
    bool has_line() const;
    Status fill(std::vector<int>* fds = nullptr);
    Result<nlohmann::json> take_line();

private:
    int m_fd;
    std::string m_buf;
};

}  // namespace matrix::agent
