// See record_limit.h.
#include "core/util/record_limit.h"

namespace matrix {

std::string grouped_number(uint64_t n) {
    std::string digits = std::to_string(n);
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string byte_size_text(uint64_t n) {
    constexpr uint64_t mib = uint64_t{1} << 20;
    if (n > 0 && n % mib == 0) return grouped_number(n / mib) + " MiB";
    return grouped_number(n) + (n == 1 ? " byte" : " bytes");
}

std::string record_over_limit_reason(uint64_t size, uint64_t limit) {
    return "the record is " + grouped_number(size) + " bytes, over the " + byte_size_text(limit) +
           " per-record limit (--max-record-bytes)";
}

}  // namespace matrix
