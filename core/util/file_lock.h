// Advisory locks (flock) that say "a process is working on this": held for as long as the object lives and
// released by the kernel when the process ends in any way (kill -9 included), so a stale lock cannot outlive it.
// Used to tell a training run that is still going from one whose process died (store::mark_interrupted_runs).
// Thread safety: one FileLock per owner; probing is safe from any thread.
#pragma once

#include <string>

#include "core/util/result.h"

namespace matrix {

class FileLock {
public:
    FileLock() = default;
    FileLock(FileLock&& other) noexcept;
    FileLock& operator=(FileLock&& other) noexcept;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    ~FileLock();

    // Takes the lock at `path` (created when missing) without waiting; an error when another process (or another
    // FileLock of this one) holds it.
    static Result<FileLock> try_acquire(const std::string& path);
    bool held() const { return m_fd >= 0; }

private:
    explicit FileLock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};

// True when some process holds the lock at `path` (a missing file: false).
bool file_lock_held(const std::string& path);

}  // namespace matrix
