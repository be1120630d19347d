// Two-stage import pipeline: a producer thread reads the JSON array and converts each record to rows (the
// CPU-heavy, database-free part), while the caller's thread writes rows to SQLite (the single writer). The
// bounded queue keeps record order and caps memory; the writer stops the producer on cancel or fatal error.
// Internal to core/formats. Thread safety: one consumer (the constructing thread), one producer (internal).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/formats/json_stream.h"

namespace matrix::formats {

// What the writer needs of one reader item: the item without its DOM, plus the converted rows.
template <class Rows>
struct PipelineItem {
    JsonItem::Kind kind = JsonItem::Kind::Element;
    int64_t index = 0, offset = 0, record_offset = -1;
    std::string message;    // SyntaxError
    int64_t position = 0;   // reader position after this item (progress)
    std::optional<Rows> rows;  // Element: convert(item.value)
};

template <class Rows>
class RecordPipeline {
public:
    using Convert = std::function<Rows(const nlohmann::json&)>;

    // Starts the producer at once. `capacity`: items buffered ahead of the writer.
    RecordPipeline(JsonArrayReader& reader, Convert convert, size_t capacity = 64)
        : m_reader(reader), m_convert(std::move(convert)), m_capacity(capacity) {
        m_thread = std::thread([this] { produce(); });
    }
    ~RecordPipeline() { stop(); }
    RecordPipeline(const RecordPipeline&) = delete;
    RecordPipeline& operator=(const RecordPipeline&) = delete;

    // The next item in file order; false at the end of the input.
    bool next(PipelineItem<Rows>& out) {
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
    void produce() {
        JsonItem item;
        for (;;) {
            {
                std::lock_guard<std::mutex> lock(m_mutex);
                if (m_stop) break;
            }
            if (!m_reader.next(item)) break;
            PipelineItem<Rows> p;
            p.kind = item.kind;
            p.index = item.index;
            p.offset = item.offset;
            p.record_offset = item.record_offset;
            p.message = std::move(item.message);
            p.position = m_reader.position();
            if (item.kind == JsonItem::Kind::Element) p.rows.emplace(m_convert(item.value));
            item.value = nlohmann::json();  // the DOM is freed here, off the writer's thread
            std::unique_lock<std::mutex> lock(m_mutex);
            m_not_full.wait(lock, [&] { return m_queue.size() < m_capacity || m_stop; });
            if (m_stop) break;
            m_queue.push_back(std::move(p));
            m_not_empty.notify_one();
        }
        std::lock_guard<std::mutex> lock(m_mutex);
        m_done = true;
        m_not_empty.notify_all();
    }

    JsonArrayReader& m_reader;
    Convert m_convert;
    size_t m_capacity;
    std::mutex m_mutex;
    std::condition_variable m_not_empty, m_not_full;
    std::deque<PipelineItem<Rows>> m_queue;
    bool m_stop = false, m_done = false;
    std::thread m_thread;
};

}  // namespace matrix::formats
