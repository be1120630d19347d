// See record_limit_option.h.
#include "app/cli/record_limit_option.h"

#include <charconv>
#include <iostream>

#include "core/util/record_limit.h"

namespace matrix::cli {

std::optional<uint64_t> max_record_bytes_arg(const Args& args, const std::string& command) {
    const auto text = args.get("max-record-bytes");
    if (!text) return k_default_max_record_bytes;
    uint64_t v = 0;
    const char* end = text->data() + text->size();
    auto r = std::from_chars(text->data(), end, v);
    if (text->empty() || r.ec != std::errc() || r.ptr != end) {
        std::cerr << "matrix " << command << ": --max-record-bytes must be a number of bytes (0 = no limit), not '"
                  << *text << "'\n";
        return std::nullopt;
    }
    return v;
}

}  // namespace matrix::cli
