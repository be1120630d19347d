// Whole-file JSON / JSONL reading with file and byte-offset context (see json_file.h).
#include "core/bench/json_file.h"

#include <fstream>
#include <sstream>

#include "core/bench/py_compat.h"

namespace matrix::bench {

Result<std::string> read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error("cannot open file", path);
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return make_error("read error", path);
    return ss.str();
}

Result<nlohmann::ordered_json> read_json_file(const std::string& path) {
    MATRIX_TRY(std::string text, read_text_file(path));
    try {
        return nlohmann::ordered_json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        return make_error(std::string("JSON syntax error at byte ") + std::to_string(e.byte) + ": " + e.what(),
                          path);
    }
}

nlohmann::json to_json(const nlohmann::ordered_json& v) {
    using nlohmann::json;
    switch (v.type()) {
        case json::value_t::object: {
            json out = json::object();
            for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = to_json(it.value());
            return out;
        }
        case json::value_t::array: {
            json out = json::array();
            for (const auto& e : v) out.push_back(to_json(e));
            return out;
        }
        case json::value_t::string: return v.get<std::string>();
        case json::value_t::boolean: return v.get<bool>();
        case json::value_t::number_integer: return v.get<int64_t>();
        case json::value_t::number_unsigned: return v.get<uint64_t>();
        case json::value_t::number_float: return v.get<double>();
        default: return nullptr;
    }
}

Result<std::vector<JsonlLine>> read_jsonl_file(const std::string& path, std::vector<std::string>& errors) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error("cannot open file", path);
    std::vector<JsonlLine> out;
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        try {
            out.push_back({n, nlohmann::ordered_json::parse(line)});
        } catch (const nlohmann::json::parse_error& e) {
            errors.push_back(path + ":" + std::to_string(n) + ": JSON syntax error at column " +
                             std::to_string(e.byte) + ": " + e.what());
        }
    }
    return out;
}

std::string text_of(const nlohmann::json& v) { return py::str_of(v); }

}  // namespace matrix::bench
