// See cpu_allocator.h: glibc's mmap/trim thresholds raised for CPU training.
#include "core/training/cpu_allocator.h"

#include <cstdlib>
#include <mutex>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace matrix::train {

std::string keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
    static std::once_flag once;
    static std::string done;
    std::call_once(once, [] {
        const char* opt_out = std::getenv("MATRIX_MALLOC_DEFAULT");
        if (opt_out && std::string(opt_out) == "1") return;
        // 1 GiB: above any per-step buffer of a CPU run (a 4K-token step of the tiny model peaks at ~1.4 GiB in all);
        // blocks above it are rare and still go to mmap. The trim threshold keeps freed top-of-heap memory too.
        constexpr int kThreshold = 1 << 30;
        const bool ok = mallopt(M_MMAP_THRESHOLD, kThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, kThreshold) == 1;
        if (ok) done = "glibc malloc: mmap and trim thresholds 1 GiB (freed buffers reused; MATRIX_MALLOC_DEFAULT=1 turns this off)";
    });
    return done;
#else
    return {};
#endif
}

}  // namespace matrix::train
