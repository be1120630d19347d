// libFuzzer target for the tokenizer: arbitrary bytes (invalid UTF-8, combining marks, special-token
// fragments) must never crash encode/decode, and the byte-level round trip must hold:
// decode(encode(s)) == nfc(s) (with invalid UTF-8 replaced by U+FFFD), with and without special tokens.
// Build: cmake -DMATRIX_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ ... && ninja fuzz_tokenizer
// Run:   MATRIX_FUZZ_TOKENIZER=path/to/tokenizer.json ./tests/fuzz/fuzz_tokenizer [corpus dir]
//        (default tokenizer: the fixture in tests/data/external/fixtures/qwen2vl-tiny, via MATRIX_SHARED_DIR)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/tokenizer/tokenizer.h"

#ifndef MATRIX_SHARED_DIR
#define MATRIX_SHARED_DIR "tests/data/external"
#endif
#include "core/tokenizer/unicode_normalize.h"

namespace {
const matrix::tok::Tokenizer& tokenizer() {
    static const matrix::tok::Tokenizer t = [] {
        const char* env = std::getenv("MATRIX_FUZZ_TOKENIZER");
        std::string path = env ? env : std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny/tiny-qwen2vl";
        auto r = matrix::tok::Tokenizer::load(path);
        if (!r) {
            std::fprintf(stderr, "fuzz_tokenizer: %s\n", r.error().to_string().c_str());
            std::abort();
        }
        return *r;
    }();
    return t;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string s(reinterpret_cast<const char*>(data), size);
    const auto& tok = tokenizer();
    std::string want = matrix::tok::nfc(s);
    if (matrix::tok::nfc(want) != want) std::abort();  // NFC is idempotent
    for (bool special : {true, false}) {
        auto ids = tok.encode(s, special);
        for (int32_t id : ids)
            if (id < 0 || id >= tok.vocab_size()) std::abort();
        if (tok.decode(ids) != want) std::abort();
    }
    return 0;
}
