// `matrix train ... --nproc N`: runs N ranks of a data-parallel run on this machine, as torchrun does: the same
// binary started N times with the torchrun environment (MASTER_ADDR=127.0.0.1, a free MASTER_PORT, RANK,
// LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE; OMP_NUM_THREADS = cores / N unless set). The launcher waits for all;
// when one rank fails (non-zero exit or a signal) it says which, gives the others a grace period to stop on their
// own (they see the failed collective and record the error), then terminates the rest. SIGINT and SIGTERM are
// passed on to every rank (Ctrl-C pauses a training run at a checkpoint).
// Threading: blocks the calling thread; installs SIGINT/SIGTERM handlers while it runs. POSIX only.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace matrix::train {

struct LaunchOptions {
    int nproc = 2;
    std::string program = "/proc/self/exe";      // what each rank runs
    std::chrono::seconds grace{60};                // after a rank fails, before the others are terminated
    std::function<void(const std::string&)> on_message;  // one line per event ("rank 1 was killed by signal 9")
};

// argv: the rank's arguments after the program name (without --nproc). Returns 0 when every rank exited 0, else 1.
int run_local_ranks(const std::vector<std::string>& args, const LaunchOptions& options);

// A free TCP port on 127.0.0.1 (bound and released), or 0.
int free_local_port();

}  // namespace matrix::train
