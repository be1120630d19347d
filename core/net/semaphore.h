// A counting semaphore (C++17 has none): bounds how many requests of one ChatClient are in flight at once.
// Thread safety: all members may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace matrix::net {

class Semaphore {
public:
    explicit Semaphore(int count) : m_count(count < 1 ? 1 : count) {}
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;

    // Waits for a free slot; false (no slot taken) when `cancel` becomes true while waiting.
    bool acquire(const std::atomic<bool>* cancel = nullptr) {
        std::unique_lock<std::mutex> lock(m_mutex);
        while (m_count == 0) {
            if (cancel && cancel->load(std::memory_order_relaxed)) return false;
            m_cv.wait_for(lock, std::chrono::milliseconds(50));
        }
        --m_count;
        return true;
    }
    void release() {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            ++m_count;
        }
        m_cv.notify_one();
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    int m_count;
};

}  // namespace matrix::net
