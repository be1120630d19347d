// libFuzzer target for the benchmark files a user points `matrix bench load` / `bench import-run` at: GTA
// dataset.json, GAIA metadata.jsonl, Agent-X data.json and its tool metadata, and a jsonl run. The first byte
// picks the reader, the rest is the file (written to a memfd, so the readers' real open/stat path runs).
// Invariants: no crash and no exception out of a reader; an error is one line that names the file and never
// carries the JSON library's text; every loaded item survives the store's round trip (item_to_json ->
// item_from_json -> item_to_json gives the same JSON).
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/eval/agentx_loader.h"
#include "core/eval/gaia_loader.h"
#include "core/eval/gta_loader.h"
#include "core/eval/run_import.h"

// Says which invariant broke, and on what, before the abort libFuzzer reports.
[[noreturn]] inline void fuzz_fail(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "fuzz invariant broken: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
    std::abort();
}

namespace {

using namespace matrix::eval;

bool g_input_has_library_text = false;

// The JSON library's "[json.exception.type_error.302] " prefix must not reach the user; errors may quote the
// input, so an input holding that text itself is exempt.
bool leaks_library_text(const std::string& message) {
    return message.find("[json.exception.") != std::string::npos && !g_input_has_library_text;
}

void check_error(const matrix::Error& e, const std::string& path) {
    const std::string line = e.to_string();
    if (leaks_library_text(line)) fuzz_fail("library text in the error", line);
    if (line.find('\n') != std::string::npos) fuzz_fail("error spans lines", line);
    if (line.find(path) == std::string::npos) fuzz_fail("error does not name the file", line);
}

void check_benchmark(const matrix::Result<Benchmark>& b, const std::string& path) {
    if (!b.ok()) return check_error(b.error(), path);
    for (const auto& item : b->items) {
        const auto j = item_to_json(item);
        if (item_to_json(item_from_json(j)) != j) fuzz_fail("item changes in the store round trip", j.dump());
    }
    for (const auto& w : b->warnings)
        if (leaks_library_text(w)) fuzz_fail("library text in a warning", w);
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
    g_input_has_library_text =
        std::string_view(reinterpret_cast<const char*>(data), size).find("[json.exception.") != std::string_view::npos;
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
    } catch (const std::exception& e) {
        fuzz_fail("exception out of a reader", e.what());  // readers return errors; nothing may escape
    } catch (...) {
        fuzz_fail("exception out of a reader");
    }
    ::close(fd);
    return 0;
}
