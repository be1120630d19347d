// Reading a whole JSON / JSONL file for the benchmark loaders and run importers, with the error context the
// project asks for (file, byte offset of a syntax error), and the per-record size limit (record_limit.h).
// Benchmark files are small (GTA-1 is ~1 MB).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/util/record_limit.h"
#include "core/util/result.h"

namespace matrix::eval {

// Benchmark and run files are small (GTA-1 is ~1 MB); anything past this is not one (or is /dev/zero).
constexpr uint64_t k_max_benchmark_file_bytes = uint64_t{256} << 20;
// A regular file of at most k_max_benchmark_file_bytes; JSON nested at most k_max_json_depth levels.
Result<std::string> read_text_file(const std::string& path);
// Parses in source key order (ordered_json) so "the benchmark's order" is the file's order.
Result<nlohmann::ordered_json> read_json_file(const std::string& path);
nlohmann::json to_json(const nlohmann::ordered_json& v);
nlohmann::json to_json(nlohmann::ordered_json&& v);  // moves the strings instead of copying them

// A whole JSON file whose top level is an object (items keyed by id) or an array, read member by member so
// that each item is parsed on its own and one over `max_record_bytes` (0: no limit) is refused before it is
// parsed. Syntax and nesting errors are those read_json_file gives, for the whole file. For objects a
// repeated key keeps its last value at its first position (as parsing the whole file does).
struct JsonMember {
    std::string key;  // object: the member's key; array: empty
    size_t offset = 0, end = 0;  // the value's bytes in `text`
};
struct JsonMembers {
    std::string text;
    nlohmann::json::value_t type = nlohmann::json::value_t::null;  // object, array, or the scalar's type
    std::vector<JsonMember> members;
    std::string_view value_text(const JsonMember& m) const { return std::string_view(text).substr(m.offset, m.end - m.offset); }
    bool too_large(const JsonMember& m, uint64_t max_record_bytes) const {
        return record_over_limit(m.end - m.offset, max_record_bytes);
    }
};
Result<JsonMembers> read_json_members(const std::string& path);

// One parsed line of a JSONL file; bad lines are reported in `errors` ("file:line: reason") and skipped.
struct JsonlLine {
    int line = 0;  // 1-based
    nlohmann::ordered_json value;
};
// A line longer than `max_record_bytes` (0: no limit) is reported ("file:line (byte B): the record is ...")
// without being parsed.
Result<std::vector<JsonlLine>> read_jsonl_file(const std::string& path, std::vector<std::string>& errors,
                                               uint64_t max_record_bytes = k_default_max_record_bytes);

// Value as text: strings as they are, anything else as Python's str() would print it (see py_compat.h).
std::string text_of(const nlohmann::json& v);

}  // namespace matrix::eval
