// Run ranks: one row per process (rank) of a training run: where it runs (host, pid), its state, the last step it
// logged, its own throughput (tokens/s of its micro-batches) and when it was last heard from. Every rank writes
// only its own row (rank 0 may also mark a peer it knows is gone as lost); SQLite's WAL takes the concurrent
// writers. A rank's heartbeat does not depend on how long its steps take: a thread of the rank's process, on its own
// connection, touches last_heartbeat every heartbeat_every_s while the process lives (core/training/
// rank_heartbeat.h), so the rule in status() is "silent for kLostAfterHeartbeats intervals", not "a slow step".
// The GUI reads them with status(), which tells a rank that stopped answering from one still working.
// Thread safety: like Database (one thread per connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/database.h"

namespace matrix::store {

// A rank's process touches its heartbeat this often (core/training/rank_heartbeat.h; MATRIX_RANK_HEARTBEAT_S
// overrides it for tests), and a running rank silent for this many of its intervals is shown as lost: one or two
// missed beats (a busy disk, a write lock held by another process) never make a rank look lost.
inline constexpr double kRankHeartbeatSeconds = 15;
inline constexpr int kLostAfterHeartbeats = 10;

struct RunRank {
    int64_t run_id = 0;
    int rank = 0;
    int world_size = 1;
    std::string host;
    int64_t pid = 0;
    std::string state = "running";  // running | finished | paused | cancelled | failed | lost
    int64_t step = 0;
    double tokens_per_s = 0;
    double last_heartbeat = 0;  // Unix seconds
    double heartbeat_every_s = kRankHeartbeatSeconds;  // how often this rank's process touches last_heartbeat
    std::optional<std::string> error;
};

// A rank as the GUI shows it: the row, and the state after the lost and paused rules (see RunRankRepo::status).
struct RunRankStatus {
    RunRank row;
    std::string shown_state;  // row.state, or "lost" / "paused" by the rules
    double seconds_since_heartbeat = 0;
};

// Seconds since the Unix epoch, now (sub-second).
double unix_now();

class RunRankRepo {
public:
    explicit RunRankRepo(Database& db) : m_db(db) {}

    // Inserts or replaces the rank's row (a rank joining, or rejoining on resume).
    Status put(const RunRank& r);
    // The rank's heartbeat: state running, its step and tokens/s, last_heartbeat = `at`.
    Status heartbeat(int64_t run_id, int rank, int64_t step, double tokens_per_s, double at);
    // The liveness beat alone: last_heartbeat = `at` if the row is still running (a final state is never touched,
    // so a beat racing the rank's end cannot bring its row back). Returns whether a row was touched.
    Result<bool> touch(int64_t run_id, int rank, double at);
    // A final state (finished, paused, cancelled, failed, lost) with its step and error (each kept when not given).
    Status finish(int64_t run_id, int rank, const std::string& state, const std::optional<int64_t>& step,
                  const std::optional<std::string>& error = std::nullopt);
    // Removes the run's rows (a resumed run starts its ranks afresh, maybe with another world size).
    Status clear(int64_t run_id);
    Result<std::vector<RunRank>> list(int64_t run_id);  // by rank

    // The rows by rank, each with the state to show. A row still "running" is shown
    //  - "paused" while a job that runs this run is paused (jobs.state, migration 10: its processes are stopped by
    //    SIGSTOP or `scontrol suspend`, so their heartbeat stops too and must not read as lost);
    //  - "lost" when its run is no longer running (the rank never reported its end) or when its heartbeat is more
    //    than kLostAfterHeartbeats x its heartbeat_every_s old at `now`.
    Result<std::vector<RunRankStatus>> status(int64_t run_id, double now);

private:
    Database& m_db;
};

}  // namespace matrix::store
