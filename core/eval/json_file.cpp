// Whole-file JSON / JSONL reading with file and byte-offset context (see json_file.h).
#include "core/eval/json_file.h"

#include <string_view>

#include "core/eval/py_compat.h"
#include "core/util/json_input.h"

#include <unordered_map>

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

nlohmann::json to_json(nlohmann::ordered_json&& v) {
    using nlohmann::json;
    switch (v.type()) {
        case json::value_t::object: {
            json out = json::object();
            for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = to_json(std::move(it.value()));
            return out;
        }
        case json::value_t::array: {
            json out = json::array();
            for (auto& e : v) out.push_back(to_json(std::move(e)));
            return out;
        }
        case json::value_t::string: return std::move(v.get_ref<std::string&>());
        default: return to_json(static_cast<const nlohmann::ordered_json&>(v));
    }
}

namespace {

// Validates a whole document without building it, with the errors parse_json gives.
class NullSax : public nlohmann::json_sax<nlohmann::json> {
public:
    std::string error;
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception& e) override {
        if (const auto* pe = dynamic_cast<const nlohmann::json::parse_error*>(&e))
            error = "JSON syntax error at byte " + std::to_string(pe->byte) + ": " + json_exception_reason(e);
        else
            error = "JSON error: " + json_exception_reason(e);
        return false;
    }
};

size_t skip_ws(std::string_view t, size_t p) {
    while (p < t.size() && (t[p] == ' ' || t[p] == '\n' || t[p] == '\r' || t[p] == '\t')) ++p;
    return p;
}

// Past the end of the (valid) value at t[p].
size_t skip_value(std::string_view t, size_t p) {
    int64_t depth = 0;
    bool in_string = false;
    for (; p < t.size(); ++p) {
        const char c = t[p];
        if (in_string) {
            if (c == '\\') ++p;
            else if (c == '"') {
                in_string = false;
                if (depth == 0) return p + 1;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if (c == '}' || c == ']') {
            if (depth == 0) return p;  // the end of a scalar before its container closes
            if (--depth == 0) return p + 1;
        } else if (depth == 0 && (c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
            return p;
        }
    }
    return p;
}

}  // namespace

Result<JsonMembers> read_json_members(const std::string& path) {
    JsonMembers out;
    MATRIX_TRY(out.text, read_regular_file(path, k_max_benchmark_file_bytes));
    const std::string_view t = out.text;
    if (const size_t at = json_depth_exceeded_at(t); at != std::string_view::npos)
        return make_error("JSON nesting deeper than " + std::to_string(k_max_json_depth) + " levels at byte " + std::to_string(at), path);
    NullSax sax;
    try {
        if (!nlohmann::json::sax_parse(t.begin(), t.end(), &sax)) return make_error(sax.error, path);
    } catch (const nlohmann::json::exception& e) {
        return make_error("JSON error: " + json_exception_reason(e), path);
    }
    size_t p = skip_ws(t, 0);
    if (p + 3 <= t.size() && t.substr(p, 3) == "\xEF\xBB\xBF") p = skip_ws(t, p + 3);  // nlohmann skips a BOM
    if (p >= t.size()) return make_error("empty document", path);
    if (t[p] != '{' && t[p] != '[') {
        MATRIX_TRY(auto scalar, parse_json(t));
        out.type = scalar.type();
        return out;
    }
    const bool object = t[p] == '{';
    out.type = object ? nlohmann::json::value_t::object : nlohmann::json::value_t::array;
    const char close = object ? '}' : ']';
    std::unordered_map<std::string, size_t> first_at;
    p = skip_ws(t, p + 1);
    while (p < t.size() && t[p] != close) {
        JsonMember m;
        if (object) {
            const size_t key_end = skip_value(t, p);
            MATRIX_TRY(auto key, parse_json(t.substr(p, key_end - p)));
            m.key = key.get<std::string>();
            p = skip_ws(t, key_end) + 1;  // ':'
            p = skip_ws(t, p);
        }
        m.offset = p;
        m.end = skip_value(t, p);
        p = skip_ws(t, m.end);
        if (p < t.size() && t[p] == ',') p = skip_ws(t, p + 1);
        if (object) {
            auto [it, fresh] = first_at.emplace(m.key, out.members.size());
            if (!fresh) {
                out.members[it->second].offset = m.offset;
                out.members[it->second].end = m.end;
                continue;
            }
        }
        out.members.push_back(std::move(m));
    }
    return out;
}

Result<std::vector<JsonlLine>> read_jsonl_file(const std::string& path, std::vector<std::string>& errors,
                                               uint64_t max_record_bytes) {
    MATRIX_TRY(const std::string text, read_regular_file(path, k_max_benchmark_file_bytes));
    std::vector<JsonlLine> out;
    int n = 0;
    for (size_t start = 0; start < text.size();) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string_view line(text.data() + start, end - start);
        const size_t offset = start;
        start = end + 1;
        ++n;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
        if (record_over_limit(line.size(), max_record_bytes)) {
            errors.push_back(path + ":" + std::to_string(n) + " (byte " + std::to_string(offset) +
                             "): " + record_over_limit_reason(line.size(), max_record_bytes));
            continue;
        }
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
