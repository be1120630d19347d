// A real HTTP server for endpoint tests (cpp-httplib), bound to 127.0.0.1 on a free port and nothing else. Every
// request (any method, any path) is recorded and handed to the test's handler; the server counts requests and
// the most that were in flight at once. stop() (also run by the destructor) stops listening, waits for the
// handlers and joins the listening thread, so no test leaves a port open or a thread running.
#pragma once

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace matrix::testing {

class LocalHttpServer {
public:
    using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

    struct Seen {
        std::string method, path, body;
        httplib::Headers headers;
        httplib::Params params;
        std::string header(const std::string& name) const {
            auto it = headers.find(name);  // httplib's Headers compare names case-insensitively
            return it == headers.end() ? std::string() : it->second;
        }
    };

    explicit LocalHttpServer(Handler handler) : m_handler(std::move(handler)) {
        m_server.new_task_queue = [] { return new httplib::ThreadPool(16); };
        m_server.set_keep_alive_timeout(1);
        auto route = [this](const httplib::Request& req, httplib::Response& res) {
            const int now = ++m_in_flight;
            int seen_max = m_max_in_flight.load();
            while (now > seen_max && !m_max_in_flight.compare_exchange_weak(seen_max, now)) {
            }
            {
                std::lock_guard<std::mutex> lock(m_mutex);
                m_requests.push_back(Seen{req.method, req.path, req.body, req.headers, req.params});
            }
            m_handler(req, res);
            --m_in_flight;
        };
        m_server.Get(".*", route);
        m_server.Post(".*", route);
        m_port = m_server.bind_to_any_port("127.0.0.1");
        m_thread = std::thread([this] { m_server.listen_after_bind(); });
        for (int i = 0; i < 500 && !m_server.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ~LocalHttpServer() { stop(); }
    LocalHttpServer(const LocalHttpServer&) = delete;
    LocalHttpServer& operator=(const LocalHttpServer&) = delete;

    void stop() {
        if (!m_thread.joinable()) return;
        m_server.stop();
        m_thread.join();
    }

    int port() const { return m_port; }
    std::string url(const std::string& path = "") const { return "http://127.0.0.1:" + std::to_string(m_port) + path; }
    int count() {
        std::lock_guard<std::mutex> lock(m_mutex);
        return int(m_requests.size());
    }
    std::vector<Seen> requests() {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_requests;
    }
    int max_in_flight() const { return m_max_in_flight.load(); }

private:
    Handler m_handler;
    httplib::Server m_server;
    int m_port = -1;
    std::thread m_thread;
    std::mutex m_mutex;
    std::vector<Seen> m_requests;
    std::atomic<int> m_in_flight{0};
    std::atomic<int> m_max_in_flight{0};
};

}  // namespace matrix::testing
