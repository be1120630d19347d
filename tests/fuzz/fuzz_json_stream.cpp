// libFuzzer target for core/formats/json_stream (built with -DMATRIX_FUZZ=ON and clang; see tests/CMakeLists.txt).
// Invariants checked on arbitrary bytes: the reader terminates, indices never decrease, offsets stay inside
// the input and increase, and every delivered element is exactly what nlohmann's parser makes of the bytes
// [offset, end) (so offsets and values are both right).
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/formats/json_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text(reinterpret_cast<const char*>(data), size);
    auto reader = matrix::formats::JsonArrayReader::from_string(text);
    matrix::formats::JsonItem item;
    int64_t last_index = -1, last_end = -1;
    size_t n = 0;
    while (reader.next(item)) {
        if (++n > size + 2) std::abort();  // must terminate: at most one item per byte (+ start/end errors)
        if (item.index < last_index) std::abort();
        last_index = item.index;
        if (item.offset < 0 || item.offset > int64_t(size)) std::abort();
        if (item.kind == matrix::formats::JsonItem::Kind::Element) {
            if (item.end <= item.offset || item.end > int64_t(size) || item.offset < last_end) std::abort();
            last_end = item.end;
            auto ref = nlohmann::json::parse(text.substr(size_t(item.offset), size_t(item.end - item.offset)),
                                             nullptr, false);
            if (ref.is_discarded() || ref != item.value) std::abort();
        }
    }
    return 0;
}
