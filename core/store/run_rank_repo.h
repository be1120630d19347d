// Run ranks: one row per process (rank) of a training run: where it runs (host, pid), its state, the last step it
// logged, its own throughput (tokens/s of its micro-batches) and when it was last heard from. Every rank writes
// only its own row (rank 0 may also mark a peer it knows is gone as lost); SQLite's WAL takes the concurrent
// writers. The GUI reads them with status(), which tells a rank that stopped answering from one still working.
// Thread safety: like Database (one thread per connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/database.h"

namespace matrix::store {

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
    std::optional<std::string> error;
};

// A rank as the GUI shows it: the row, and the state after the lost rule (see RunRankRepo::status).
struct RunRankStatus {
    RunRank row;
    std::string shown_state;  // row.state, or "lost" by the rule
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
    // A final state (finished, paused, cancelled, failed, lost) with its step and error (each kept when not given).
    Status finish(int64_t run_id, int rank, const std::string& state, const std::optional<int64_t>& step,
                  const std::optional<std::string>& error = std::nullopt);
    // Removes the run's rows (a resumed run starts its ranks afresh, maybe with another world size).
    Status clear(int64_t run_id);
    Result<std::vector<RunRank>> list(int64_t run_id);  // by rank

    // The rows by rank, each with the state to show: a row still "running" is shown "lost" when its run is no
    // longer running (the rank never reported its end) or when its heartbeat is more than lost_after_s old at
    // `now`.
    Result<std::vector<RunRankStatus>> status(int64_t run_id, double now, double lost_after_s);

private:
    Database& m_db;
};

}  // namespace matrix::store
