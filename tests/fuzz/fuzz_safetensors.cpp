// libFuzzer target for the safetensors reader (model weights, adapters, checkpoints, `matrix forward --inputs`):
// arbitrary bytes as a file must open or fail with an error, never crash or read outside the file; every tensor
// of a file that opens lies inside the data and no two overlap. The bytes go through a memfd, so the reader's
// real path (open + mmap) is what is fuzzed.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "core/util/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const int fd = memfd_create("fuzz_safetensors", MFD_CLOEXEC);
    if (fd < 0) return 0;
    if (size && ::write(fd, data, size) != static_cast<ssize_t>(size)) {
        ::close(fd);
        return 0;
    }
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    {
        auto file = matrix::SafetensorsFile::open(path);
        if (file.ok()) {
            std::vector<std::pair<const uint8_t*, size_t>> spans;
            for (const auto& t : (*file)->tensors()) {
                if (t.nbytes) spans.emplace_back(t.data, t.nbytes);
                volatile uint8_t sink = 0;
                for (size_t i = 0; i < t.nbytes; i += 4096) sink ^= t.data[i];  // every page is readable
                (void)sink;
            }
            std::sort(spans.begin(), spans.end());
            for (size_t i = 1; i < spans.size(); ++i)
                if (spans[i - 1].first + spans[i - 1].second > spans[i].first) std::abort();
        }
    }
    ::close(fd);
    return 0;
}
