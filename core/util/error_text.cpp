#include "core/util/error_text.h"

namespace matrix {

std::string one_line_error(std::string_view message) {
    if (const size_t bt = message.find("Exception raised from "); bt != std::string_view::npos) message = message.substr(0, bt);
    std::string out;
    out.reserve(message.size());
    size_t start = 0;
    while (start <= message.size()) {
        size_t end = message.find('\n', start);
        if (end == std::string_view::npos) end = message.size();
        std::string_view line = message.substr(start, end - start);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
        while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
        if (!line.empty()) {
            if (!out.empty()) out += "; ";
            out += line;
        }
        start = end + 1;
    }
    return out;
}

}  // namespace matrix
