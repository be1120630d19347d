// Reading a whole JSON / JSONL file for the benchmark loaders and run importers, with the error context the
// project asks for (file, byte offset of a syntax error). Benchmark files are small (GTA-1 is ~1 MB).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace matrix::eval {

// Benchmark and run files are small (GTA-1 is ~1 MB); anything past this is not one (or is /dev/zero).
constexpr uint64_t k_max_benchmark_file_bytes = uint64_t{256} << 20;
// A regular file of at most k_max_benchmark_file_bytes; JSON nested at most k_max_json_depth levels.
Result<std::string> read_text_file(const std::string& path);
// Parses in source key order (ordered_json) so "the benchmark's order" is the file's order.
Result<nlohmann::ordered_json> read_json_file(const std::string& path);
nlohmann::json to_json(const nlohmann::ordered_json& v);

// One parsed line of a JSONL file; bad lines are reported in `errors` ("file:line: reason") and skipped.
struct JsonlLine {
    int line = 0;  // 1-based
    nlohmann::ordered_json value;
};
Result<std::vector<JsonlLine>> read_jsonl_file(const std::string& path, std::vector<std::string>& errors);

// Value as text: strings as they are, anything else as Python's str() would print it (see py_compat.h).
std::string text_of(const nlohmann::json& v);

}  // namespace matrix::eval
