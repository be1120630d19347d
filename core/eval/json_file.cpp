// Whole-file JSON / JSONL reading with file and byte-offset context (see json_file.h).
#include "core/eval/json_file.h"

#include <sstream>

#include "core/eval/py_compat.h"
#include "core/util/json_input.h"

namespace matrix::eval {

Result<std::string> read_text_file(const std::string& path) { return read_regular_file(path, k_max_benchmark_file_bytes); }

Result<nlohmann::ordered_json> read_json_file(const std::string& path) {
    return read_ordered_json_file(path, k_max_benchmark_file_bytes);
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
    MATRIX_TRY(std::string text, read_regular_file(path, k_max_benchmark_file_bytes));
    std::istringstream in(std::move(text));
    std::vector<JsonlLine> out;
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        auto value = parse_ordered_json(line);
        if (value.ok()) {
            out.push_back({n, std::move(value).value()});
        } else {
            errors.push_back(path + ":" + std::to_string(n) + ": " + value.error().message);
        }
    }
    return out;
}

std::string text_of(const nlohmann::json& v) { return py::str_of(v); }

}  // namespace matrix::eval
