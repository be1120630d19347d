// Background WAL checkpoints for a bulk writer (imports). SQLite's automatic checkpoint runs inside the writer's
// COMMIT: it copies the WAL into the database file and fsyncs both, which at 177K M-TRACE records was about a
// third of the commit time and most of the writer's waiting (bench/results/store.md). This class turns the
// writer's auto-checkpoint off and checkpoints from a second connection on its own thread after every commit,
// so copying and fsync overlap the writer's next batch. Durability is unchanged (same synchronous setting,
// same WAL); only the thread that pays for the checkpoint differs.
//
// The WAL can only start again from its beginning when a transaction begins after a checkpoint copied all of
// it; a writer that commits back to back never waits for that, so the WAL would grow to the size of the whole
// import. before_transaction() therefore (1) never lets the writer get more than one commit ahead of the
// checkpoints, and (2) once the WAL exceeds a cap, waits until everything committed is checkpointed.
// Thread safety: committed() and before_transaction() are called from the writer's thread only.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/store/database.h"

namespace matrix::store {

class WalCheckpointer {
public:
    // Starts checkpointing `writer`'s file in the background. nullptr when the connection is not a WAL file
    // connection (":memory:", read-only) or the second connection cannot be opened: the writer then simply
    // keeps its automatic checkpoints.
    static std::unique_ptr<WalCheckpointer> start(Database& writer, int64_t wal_cap_bytes = int64_t(256) << 20);
    // Runs a last checkpoint of what was committed, stops the thread and restores the writer's
    // wal_autocheckpoint setting.
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

    // The writer committed: checkpoint what is in the WAL now (coalesces with a request not yet served).
    void committed();
    // The writer is about to begin a transaction: waits while two commits are not checkpointed yet, and, when
    // the WAL has outgrown the cap, until all are (so that the transaction starts the WAL from its beginning).
    void before_transaction();

    // Checkpoints run so far (tests and benchmarks).
    int64_t checkpoints() const;
    // Frames in the WAL after the last checkpoint, and how many of them it copied.
    int64_t wal_frames() const;
    int64_t backfilled_frames() const;

private:
    WalCheckpointer(Database& writer, int64_t saved_autocheckpoint, int64_t page_size, int64_t wal_cap_bytes);
    void run(std::string path);

    Database& m_writer;
    const int64_t m_saved_autocheckpoint, m_page_size, m_wal_cap_bytes;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake, m_idle;
    bool m_stop = false, m_ready = false;
    int64_t m_commits = 0;       // committed() calls
    int64_t m_checkpointed = 0;  // commits covered by the last finished checkpoint
    int64_t m_checkpoints = 0, m_wal_frames = 0, m_backfilled = 0;
    std::thread m_thread;
};

}  // namespace matrix::store
