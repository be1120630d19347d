// Run ranks (see run_rank_repo.h).
#include "core/store/run_rank_repo.h"

#include <chrono>

namespace matrix::store {

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Status RunRankRepo::put(const RunRank& r) {
    MATRIX_TRY(Statement * st, m_db.cached(
                                   "INSERT OR REPLACE INTO run_ranks(run_id, rank, world_size, host, pid, state, step, "
                                   "tokens_per_s, last_heartbeat, heartbeat_every_s, error) VALUES(?,?,?,?,?,?,?,?,?,?,?)"));
    if (!(r.heartbeat_every_s > 0))
        return make_error("rank " + std::to_string(r.rank) + ": heartbeat interval must be positive", m_db.path());
    st->bind_all(r.run_id, r.rank, r.world_size, r.host, r.pid, r.state, r.step, r.tokens_per_s, r.last_heartbeat,
                 r.heartbeat_every_s, r.error);
    return st->run();
}

Status RunRankRepo::heartbeat(int64_t run_id, int rank, int64_t step, double tokens_per_s, double at) {
    MATRIX_TRY(Statement * st, m_db.cached("UPDATE run_ranks SET state='running', step=?3, tokens_per_s=?4, "
                                           "last_heartbeat=?5 WHERE run_id=?1 AND rank=?2"));
    st->bind_all(run_id, rank, step, tokens_per_s, at);
    MATRIX_CHECK(st->run());
    if (m_db.changes() == 0)
        return make_error("no rank " + std::to_string(rank) + " row for run " + std::to_string(run_id), m_db.path());
    return {};
}

Result<bool> RunRankRepo::touch(int64_t run_id, int rank, double at) {
    MATRIX_TRY(Statement * st, m_db.cached("UPDATE run_ranks SET last_heartbeat=?3 WHERE run_id=?1 AND rank=?2 "
                                           "AND state='running'"));
    st->bind_all(run_id, rank, at);
    MATRIX_CHECK(st->run());
    return m_db.changes() > 0;
}

Status RunRankRepo::finish(int64_t run_id, int rank, const std::string& state, const std::optional<int64_t>& step,
                           const std::optional<std::string>& error) {
    MATRIX_TRY(Statement * st, m_db.cached("UPDATE run_ranks SET state=?3, step=coalesce(?4, step), error=coalesce(?5, error), "
                                           "last_heartbeat=?6 WHERE run_id=?1 AND rank=?2"));
    st->bind_all(run_id, rank, state, step, error, unix_now());
    return st->run();
}

Status RunRankRepo::clear(int64_t run_id) {
    MATRIX_TRY(Statement st, m_db.prepare("DELETE FROM run_ranks WHERE run_id=?"));
    st.bind(1, run_id);
    return st.run();
}

namespace {
const char* kCols =
    "run_id, rank, world_size, host, pid, state, step, tokens_per_s, last_heartbeat, error, heartbeat_every_s";
RunRank read_rank(const Statement& st) {
    RunRank r;
    r.run_id = st.column_int64(0);
    r.rank = st.column_int(1);
    r.world_size = st.column_int(2);
    r.host = st.column_text(3);
    r.pid = st.column_int64(4);
    r.state = st.column_text(5);
    r.step = st.column_int64(6);
    r.tokens_per_s = st.column_double(7);
    r.last_heartbeat = st.column_double(8);
    r.error = st.column_optional_text(9);
    r.heartbeat_every_s = st.column_double(10);
    return r;
}
}  // namespace

Result<std::vector<RunRank>> RunRankRepo::list(int64_t run_id) {
    MATRIX_TRY(Statement st, m_db.prepare(std::string("SELECT ") + kCols + " FROM run_ranks WHERE run_id=? ORDER BY rank"));
    st.bind(1, run_id);
    std::vector<RunRank> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        out.push_back(read_rank(st));
    }
    return out;
}

Result<std::vector<RunRankStatus>> RunRankRepo::status(int64_t run_id, double now) {
    MATRIX_TRY(Statement st, m_db.prepare("SELECT status, EXISTS(SELECT 1 FROM jobs WHERE run_id=runs.id AND "
                                          "state='paused') FROM runs WHERE id=?"));
    st.bind(1, run_id);
    MATRIX_TRY(bool found, st.step());
    if (!found) return make_error("no run " + std::to_string(run_id), m_db.path());
    const bool run_running = st.column_text(0) == "running";
    const bool job_paused = st.column_int(1) != 0;
    MATRIX_TRY(auto rows, list(run_id));
    std::vector<RunRankStatus> out;
    for (auto& r : rows) {
        RunRankStatus s;
        s.seconds_since_heartbeat = now - r.last_heartbeat;
        s.shown_state = r.state;
        if (r.state == "running") {
            if (!run_running) s.shown_state = "lost";
            else if (job_paused) s.shown_state = "paused";
            else if (s.seconds_since_heartbeat > kLostAfterHeartbeats * r.heartbeat_every_s) s.shown_state = "lost";
        }
        s.row = std::move(r);
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace matrix::store
