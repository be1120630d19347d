// RankHeartbeat (see rank_heartbeat.h).
#include "core/training/rank_heartbeat.h"

#include <chrono>
#include <cmath>
#include <cstdlib>

#include "core/store/database.h"
#include "core/store/run_rank_repo.h"

namespace matrix::train {

HeartbeatInterval rank_heartbeat_interval() {
    HeartbeatInterval out{store::kRankHeartbeatSeconds, {}};
    const char* v = std::getenv("MATRIX_RANK_HEARTBEAT_S");
    if (!v || !*v) return out;
    char* end = nullptr;
    const double s = std::strtod(v, &end);
    if (end == v || *end != '\0' || !std::isfinite(s) || s <= 0) {
        out.error = std::string("MATRIX_RANK_HEARTBEAT_S must be a positive number of seconds, not '") + v + "'";
        return out;
    }
    out.seconds = s;
    return out;
}

RankHeartbeat::RankHeartbeat(std::string db_path, int64_t run_id, int rank, double interval_s,
                             std::function<void(const std::string&)> on_warning)
    : m_db_path(std::move(db_path)), m_run_id(run_id), m_rank(rank), m_interval_s(interval_s),
      m_on_warning(std::move(on_warning)) {
    m_thread = std::thread([this] { run(); });
}

RankHeartbeat::~RankHeartbeat() { stop(); }

void RankHeartbeat::stop() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

int64_t RankHeartbeat::beats() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_beats;
}

void RankHeartbeat::run() {
    bool warned = false;
    auto warn = [&](const std::string& what) {
        if (warned || !m_on_warning) return;
        warned = true;
        m_on_warning("rank " + std::to_string(m_rank) + "'s heartbeat: " + what +
                     " (the heartbeat keeps trying; the GUI may show the rank as lost meanwhile)");
    };
    // A short busy timeout: a beat that waits for a write lock longer than an interval is late anyway, and stop()
    // must not wait for it long.
    store::OpenOptions options;
    options.create = false;
    options.busy_timeout_ms = static_cast<int>(std::min(2000.0, std::max(50.0, m_interval_s * 500)));
    store::Database db;
    auto next = std::chrono::steady_clock::now();
    for (;;) {
        next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(m_interval_s));
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            if (m_wake.wait_until(lock, next, [this] { return m_stop; })) return;
        }
        // After a stall (the process was stopped, the machine suspended) the next beat is one interval from now,
        // not a burst of the missed ones.
        const auto now = std::chrono::steady_clock::now();
        if (next < now) next = now;
        if (!db.is_open()) {
            auto opened = store::Database::open(m_db_path, options);
            if (!opened.ok()) {
                warn("cannot open the project: " + opened.error().to_string());
                continue;
            }
            db = std::move(opened).value();
        }
        auto touched = store::RunRankRepo(db).touch(m_run_id, m_rank, store::unix_now());
        if (!touched.ok()) {
            warn("cannot record it: " + touched.error().to_string());
            continue;
        }
        if (!*touched) return;  // the row is no longer running (its end was recorded, or the run was resumed afresh)
        std::lock_guard<std::mutex> lock(m_mutex);
        ++m_beats;
    }
}

}  // namespace matrix::train
