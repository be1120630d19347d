// RankHeartbeat: a rank's liveness beat, independent of how long its steps take. A thread with its own SQLite
// connection on the project touches the rank's run_ranks row (RunRankRepo::touch) every interval while the process
// lives, so a step of ten minutes (a big batch on CPU, DPO's reference precompute, a slow first CUDA step) never reads
// as a lost rank; a rank whose process died (kill -9, a crash, the machine) stops beating and is shown lost after
// kLostAfterHeartbeats intervals (run_rank_repo.h). A process stopped by SIGSTOP (a paused job) stops beating too;
// the GUI tells that from a lost rank by the job's state.
// Ownership and threads: the owner (the training session's thread) constructs and stops it; stop() (also run by the
// destructor) wakes the thread and joins it, so after stop() returns no beat is written. A beat never overwrites a
// final state (touch writes only a row still running).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace matrix::train {

// The interval this process's ranks beat at: MATRIX_RANK_HEARTBEAT_S (seconds, > 0; tests use a fraction of a
// second) or store::kRankHeartbeatSeconds. A malformed value is refused by the caller with this message.
struct HeartbeatInterval {
    double seconds = 0;
    std::string error;  // non-empty: MATRIX_RANK_HEARTBEAT_S is not a positive number
};
HeartbeatInterval rank_heartbeat_interval();

class RankHeartbeat {
public:
    // Starts beating for (run_id, rank) of the project at db_path every interval_s. on_warning is called (from the
    // heartbeat thread) once, the first time the connection cannot be opened or a beat cannot be written; the thread
    // keeps trying at the next interval (a lock held past busy_timeout is not a reason to stop beating).
    RankHeartbeat(std::string db_path, int64_t run_id, int rank, double interval_s,
                  std::function<void(const std::string&)> on_warning = {});
    ~RankHeartbeat();
    RankHeartbeat(const RankHeartbeat&) = delete;
    RankHeartbeat& operator=(const RankHeartbeat&) = delete;

    void stop();
    int64_t beats() const;  // rows touched so far (tests)

private:
    void run();

    const std::string m_db_path;
    const int64_t m_run_id;
    const int m_rank;
    const double m_interval_s;
    std::function<void(const std::string&)> m_on_warning;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop = false;
    int64_t m_beats = 0;
    std::thread m_thread;
};

}  // namespace matrix::train
