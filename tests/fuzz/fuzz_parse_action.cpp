// libFuzzer target for the action and observation parsers (core/conversation): any bytes must parse without crashing, hanging or throwing,
// every JSON value it produces must serialise (valid UTF-8), `code` must be the input's bytes at
// code_offset, and char_bleu must stay in [0, 1]. Built only with -DMATRIX_FUZZ=ON and clang:
//   cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
//         -DMATRIX_FUZZ=ON -DMATRIX_WITH_TORCH=OFF -DMATRIX_BUILD_TESTS=OFF -DMATRIX_BUILD_BENCH=OFF
//   ninja -C build-fuzz fuzz_parse_action && build-fuzz/tests/fuzz/fuzz_parse_action -max_total_time=60
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string_view>

#include "core/conversation/action.h"
#include "core/conversation/observation.h"
#include "core/formats/char_bleu.h"

using namespace matrix::formats;
using namespace matrix::conversation;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const ParsedAction a = parse_action(in);
    if (a.has_code) {
        if (a.code_offset == std::string::npos && !a.code.empty()) abort();
        if (!a.code.empty() && in.substr(a.code_offset, a.code.size()) != a.code) abort();
    }
    for (const ToolCall& c : a.tool_calls) (void)c.arguments.dump();  // throws on invalid UTF-8
    if (a.final_answer) (void)a.final_answer->dump();
    if (a.is_final != std::any_of(a.tool_calls.begin(), a.tool_calls.end(),
                                  [](const ToolCall& c) { return c.name == "final_answer"; }))
        abort();

    bool parses = true;
    const auto calls = extract_tool_calls(in, &parses);
    for (const ToolCall& c : calls) (void)c.arguments.dump();

    const ParsedObservation o = parse_observation(in);
    if (o.well_formed && o.step < 0) abort();

    const size_t half = size / 2;
    const double b = char_bleu(in.substr(0, half), in.substr(half));
    if (!(b >= 0.0 && b <= 1.0)) abort();
    // Identical texts of 4+ characters score exactly 1 (shorter ones less: NLTK smooths the missing orders).
    const double self = char_bleu(in, in);
    if (!(self >= 0.0 && self <= 1.0)) abort();
    if (size >= 16 && std::all_of(in.begin(), in.end(), [](char c) { return c > 0; }) && std::abs(self - 1.0) > 1e-12)
        abort();
    return 0;
}
