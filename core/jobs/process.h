// Processes for jobs, POSIX only (Linux /proc): a pid with its start time (so a reused pid is not taken for a job's
// process), liveness that treats a zombie as dead, a program run to completion with its output captured (sbatch,
// squeue, scancel), the tail of a log file, and how a wait status reads to a person.
// Thread safety: every function is safe to call from any thread (run_capture forks; the child only execs).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace matrix::jobs {

// /proc/PID/stat field 22 (clock ticks after boot); 0 when there is no such process.
int64_t process_start_ticks(int64_t pid);
// The process exists, is not a zombie and (when start_ticks != 0) started at that time.
bool process_alive(int64_t pid, int64_t start_ticks = 0);
// The process is stopped (SIGSTOP): state T in /proc/PID/stat.
bool process_stopped(int64_t pid);
std::string host_name();
std::string self_executable();  // /proc/self/exe
std::string shell_quote(const std::string& s);

struct Captured {
    int exit_code = -1;  // the program's exit code; 128+N when killed by signal N
    std::string out, err;
};
// Runs argv[0] (looked up in PATH) with argv, stdin from /dev/null; kills it after timeout_s. An Error only
// when it could not be run at all (not found, fork failed, timed out): its exit code is the caller's to judge.
Result<Captured> run_capture(const std::vector<std::string>& argv, int timeout_s = 60);

// The last `max_lines` lines of a text file (at most the last 64 KiB are read); "" when it cannot be read.
std::string log_tail(const std::string& path, int max_lines = 20);
// "exit code 3", "killed by signal 9 (Killed)".
std::string describe_wait_status(int status);

}  // namespace matrix::jobs
