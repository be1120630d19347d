// libFuzzer target for the benchmark files a user points `matrix bench load` / `bench import-run` at: GTA
// dataset.json, GAIA metadata.jsonl, Agent-X data.json and its tool metadata, and a jsonl run. The first byte
// picks the reader, the rest is the file (written to a memfd, so the readers' real open/stat path runs).
// Invariants: no crash and no exception out of a reader; an error is one line that names the file and never
// carries the JSON library's text; every loaded item survives the store's round trip (item_to_json ->
// item_from_json -> item_to_json gives the same JSON).
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/eval/agentx_loader.h"
#include "core/eval/gaia_loader.h"
#include "core/eval/gta_loader.h"
#include "core/eval/run_import.h"

namespace {

using namespace matrix::eval;

void check_error(const matrix::Error& e, const std::string& path) {
    const std::string line = e.to_string();
    if (line.find("json.exception") != std::string::npos) std::abort();
    if (line.find('\n') != std::string::npos) std::abort();
    if (line.find(path) == std::string::npos) std::abort();
}

void check_benchmark(const matrix::Result<Benchmark>& b, const std::string& path) {
    if (!b.ok()) return check_error(b.error(), path);
    for (const auto& item : b->items) {
        const auto j = item_to_json(item);
        if (item_to_json(item_from_json(j)) != j) std::abort();
    }
    for (const auto& w : b->warnings)
        if (w.find("json.exception") != std::string::npos) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const int fd = memfd_create("fuzz_bench_files", MFD_CLOEXEC);
    if (fd < 0) return 0;
    if (size > 1 && ::write(fd, data + 1, size - 1) != static_cast<ssize_t>(size - 1)) {
        ::close(fd);
        return 0;
    }
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    try {
        switch (data[0] % 6) {
            case 0: check_benchmark(load_gta(path), path); break;
            case 1: check_benchmark(load_gaia(path), path); break;
            case 2: check_benchmark(load_agentx(path, AgentXToolMeta{}), path); break;
            case 3: {
                auto meta = load_agentx_toolmeta(path);
                if (!meta.ok()) check_error(meta.error(), path);
                break;
            }
            case 4:
            case 5: {
                auto run = import_jsonl_run(path, data[0] % 6 == 4 ? BenchKind::gta : BenchKind::agentx);
                if (!run.ok()) check_error(run.error(), path);
                break;
            }
        }
    } catch (...) {
        std::abort();  // readers return errors; nothing may escape
    }
    ::close(fd);
    return 0;
}
