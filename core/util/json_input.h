// Reading JSON that comes from users' files, model folders, servers and the sandbox: bounded in nesting (a
// 50,000-deep array parses, but copying or printing it recurses once per level and overflows the stack) and in
// size, with one-line errors that name the byte and the reason (never the JSON library's exception text).
// Every entry point that parses such text goes through here; JSON the workbench wrote itself may use the library
// directly. Thread safety: free functions, no shared state.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/result.h"

namespace matrix {

// Deeper nesting than any real record needs (M-TRACE's deepest is under 10); the streaming M-TRACE/Pref-X reader
// uses the same limit.
constexpr int k_max_json_depth = 512;

// The byte offset where the nesting of `text` first goes deeper than `max_depth` (brackets inside strings do not
// count), or npos.
size_t json_depth_exceeded_at(std::string_view text, int max_depth = k_max_json_depth);

// Parses `text` (a whole document): an error "JSON nesting deeper than 512 levels at byte N" or "JSON syntax
// error at byte N: <reason>"; the caller adds the file or field as context.
Result<nlohmann::json> parse_json(std::string_view text);
Result<nlohmann::ordered_json> parse_ordered_json(std::string_view text);  // keeps the file's key order

// The reason in a JSON library exception without its "[json.exception.type_error.302] " prefix, printable
// (bytes outside ASCII as \xNN): "type must be string, but is number".
std::string json_exception_reason(const nlohmann::json::exception& e);

// A whole regular file (not a directory, FIFO or device such as /dev/zero), at most `max_bytes`; the errors name
// the path.
constexpr uint64_t k_default_max_input_bytes = uint64_t{1} << 30;  // 1 GiB
Result<std::string> read_regular_file(const std::string& path, uint64_t max_bytes = k_default_max_input_bytes);

// read_regular_file + parse_json, the path as the error's context.
Result<nlohmann::json> read_json_file(const std::string& path, uint64_t max_bytes = k_default_max_input_bytes);
Result<nlohmann::ordered_json> read_ordered_json_file(const std::string& path,
                                                      uint64_t max_bytes = k_default_max_input_bytes);

}  // namespace matrix
