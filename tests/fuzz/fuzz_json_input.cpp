// libFuzzer target for core/util/json_input (the bounded JSON reader every user file goes through) and the
// record parsers that take its output: GTA items, MATRIX agent_memory.json, Pref-X records. Invariants: no crash,
// no exception out of a parser, a value that parses prints and parses back to itself, and refused nesting is
// really deeper than the limit. Build with -DMATRIX_FUZZ=ON and clang; the corpus in corpus/fuzz_json_input also
// runs as a regression test in the normal suite (tests/CMakeLists.txt).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/eval/gta_loader.h"
#include "core/eval/run_import.h"
#include "core/formats/prefx_record.h"
#include "core/util/json_input.h"

// Says which invariant broke, and on what, before the abort libFuzzer reports.
[[noreturn]] inline void fuzz_fail(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "fuzz invariant broken: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
    std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = matrix::parse_json(text);
    if (!parsed.ok()) {
        const std::string& m = parsed.error().message;
        if (m.rfind("JSON nesting deeper than", 0) == 0 &&
            matrix::json_depth_exceeded_at(text) == std::string_view::npos)
            fuzz_fail("refused nesting is not deeper than the limit", m);
        // The library's "[json.exception.parse_error.101] " prefix must not leak (errors may quote the input).
        if (m.find("[json.exception.") != std::string::npos && text.find("[json.exception.") == std::string_view::npos)
            fuzz_fail("library text in the error", m);
        return 0;
    }
    const nlohmann::json& j = *parsed;
    auto again = matrix::parse_json(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    if (!again.ok()) fuzz_fail("printed value does not parse back", again.error().message);
    try {
        (void)matrix::eval::parse_gta_item("fuzz", j, "/nonexistent");
    } catch (const nlohmann::json::exception&) {
        // parse_gta_item may throw on wrongly typed fields; load_gta turns that into a warning for the item
    }
    (void)matrix::eval::parse_agent_memory(j, "fuzz");
    (void)matrix::formats::prefx_record_to_rows(j);
    return 0;
}
