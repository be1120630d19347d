// Two-stage import pipeline: a producer thread reads the input and converts each record to rows (the
// CPU-heavy, database-free part), while the caller's thread writes rows to SQLite (the single writer). The
// bounded queue keeps record order and caps memory; the writer stops the producer on cancel or fatal error.
// Internal to core/formats (record_import.h drives it). Thread safety: one consumer (the constructing
// thread), one producer (internal) that alone calls `produce`.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace matrix::formats {

template <class Item>
class RecordPipeline {
public:
    // Fills the item it is given and returns true, or returns false at the end of the input. Runs on the
    // producer thread.
    using Produce = std::function<bool(Item&)>;

    // Starts the producer at once. `capacity`: items buffered ahead of the writer.
    RecordPipeline(Produce produce, size_t capacity = 64) : m_produce(std::move(produce)), m_capacity(capacity) {
        m_thread = std::thread([this] { run(); });
    }
    ~RecordPipeline() { stop(); }
    RecordPipeline(const RecordPipeline&) = delete;
    RecordPipeline& operator=(const RecordPipeline&) = delete;

    // The next item in input order; false at the end of the input.
    bool next(Item& out) {
        std::unique_lock<std::mutex> lock(m_mutex);
        m_not_empty.wait(lock, [&] { return !m_queue.empty() || m_done; });
        if (m_queue.empty()) return false;
        out = std::move(m_queue.front());
        m_queue.pop_front();
        m_not_full.notify_one();
        return true;
    }

    // Stops the producer (cancel / fatal error) and waits for it.
    void stop() {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_stop = true;
        }
        m_not_full.notify_all();
        if (m_thread.joinable()) m_thread.join();
    }

private:
    void run() {
        for (;;) {
            {
                std::lock_guard<std::mutex> lock(m_mutex);
                if (m_stop) break;
            }
            Item item;
            if (!m_produce(item)) break;
            std::unique_lock<std::mutex> lock(m_mutex);
            m_not_full.wait(lock, [&] { return m_queue.size() < m_capacity || m_stop; });
            if (m_stop) break;
            m_queue.push_back(std::move(item));
            m_not_empty.notify_one();
        }
        std::lock_guard<std::mutex> lock(m_mutex);
        m_done = true;
        m_not_empty.notify_all();
    }

    Produce m_produce;
    size_t m_capacity;
    std::mutex m_mutex;
    std::condition_variable m_not_empty, m_not_full;
    std::deque<Item> m_queue;
    bool m_stop = false, m_done = false;
    std::thread m_thread;
};

}  // namespace matrix::formats
