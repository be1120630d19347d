// Background WAL checkpoints for a bulk writer (see wal_checkpointer.h).
#include "core/store/wal_checkpointer.h"

#include <sqlite3.h>

namespace matrix::store {

std::unique_ptr<WalCheckpointer> WalCheckpointer::start(Database& writer, int64_t wal_cap_bytes) {
    if (writer.path().empty() || writer.path() == ":memory:") return nullptr;
    auto mode = writer.query_text("PRAGMA journal_mode");
    if (!mode.ok() || !mode.value() || *mode.value() != "wal") return nullptr;
    auto saved = writer.query_int64("PRAGMA wal_autocheckpoint");
    auto page_size = writer.query_int64("PRAGMA page_size");
    if (!saved.ok() || !page_size.ok()) return nullptr;
    std::unique_ptr<WalCheckpointer> c(new WalCheckpointer(writer, saved.value(), page_size.value(), wal_cap_bytes));
    {
        std::unique_lock<std::mutex> lock(c->m_mutex);
        c->m_idle.wait(lock, [&] { return c->m_ready; });
        if (c->m_stop) return nullptr;  // the thread could not open its connection (joined by the destructor)
    }
    if (!writer.exec("PRAGMA wal_autocheckpoint=0").ok()) return nullptr;
    return c;
}

WalCheckpointer::WalCheckpointer(Database& writer, int64_t saved_autocheckpoint, int64_t page_size,
                                 int64_t wal_cap_bytes)
    : m_writer(writer),
      m_saved_autocheckpoint(saved_autocheckpoint),
      m_page_size(page_size),
      m_wal_cap_bytes(wal_cap_bytes) {
    m_thread = std::thread([this, path = writer.path()] { run(path); });
}

WalCheckpointer::~WalCheckpointer() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) m_thread.join();
    (void)m_writer.exec("PRAGMA wal_autocheckpoint=" + std::to_string(m_saved_autocheckpoint));
}

void WalCheckpointer::committed() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        ++m_commits;
    }
    m_wake.notify_one();
}

void WalCheckpointer::before_transaction() {
    std::unique_lock<std::mutex> lock(m_mutex);
    m_idle.wait(lock, [&] { return m_commits - m_checkpointed <= 1 || m_stop; });
    if (m_wal_frames * m_page_size > m_wal_cap_bytes)
        m_idle.wait(lock, [&] { return m_checkpointed == m_commits || m_stop; });
}

int64_t WalCheckpointer::checkpoints() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_checkpoints;
}
int64_t WalCheckpointer::wal_frames() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_wal_frames;
}
int64_t WalCheckpointer::backfilled_frames() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_backfilled;
}

void WalCheckpointer::run(std::string path) {
    OpenOptions options;
    options.create = false;
    auto db = Database::open(path, options);
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_ready = true;
        if (!db.ok()) m_stop = true;
    }
    m_idle.notify_all();
    if (!db.ok()) return;
    for (;;) {
        bool last = false;
        int64_t covers = 0;  // the commits this checkpoint will copy
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_wake.wait(lock, [&] { return m_commits > m_checkpointed || m_stop; });
            last = m_stop;
            if (m_commits == m_checkpointed) break;
            covers = m_commits;
        }
        // PASSIVE: never waits for the writer or for readers; it copies what no reader still needs. A busy
        // result (another connection checkpointing) only means this round is skipped.
        int log = 0, done = 0;
        sqlite3_wal_checkpoint_v2(db->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_checkpointed = covers;
            ++m_checkpoints;
            if (log >= 0) {
                m_wal_frames = log;
                m_backfilled = done;
            }
        }
        m_idle.notify_all();
        if (last) break;
    }
}

}  // namespace matrix::store
