// Text helpers shared by the comparison reports (statistics.cpp, compare_multi.cpp): optional values as JSON
// (null when absent) and CSV cells (RFC 4180 quoting, 10 significant digits). Internal to core/eval.
#pragma once

#include <optional>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/eval/statistics.h"

namespace matrix::eval::report {

inline nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }
inline nlohmann::json opt(const std::optional<Interval>& v) {
    return v ? nlohmann::json::array({v->lo, v->hi}) : nlohmann::json();
}

inline std::string csv_num(const std::optional<double>& v) {
    if (!v) return "";
    std::ostringstream s;
    s.precision(10);
    s << *v;
    return s.str();
}

inline std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"') out += "\"\"";
        else out.push_back(ch);
    }
    return out + "\"";
}

}  // namespace matrix::eval::report
