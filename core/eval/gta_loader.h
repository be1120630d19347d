// GTA-1 `dataset.json` loader: an object keyed by item id, each {tools, files: [{type, path, url}],
// dialogs: [user, assistant{thought, tool_calls:[{function:{name, arguments}}]}, tool{name, content}, ...,
// assistant{content}], gt_answer} where gt_answer is {whitelist, blacklist} (objective), a list of strings
// (subjective) or null (image generation). Files are resolved against the dataset's folder.
#pragma once

#include <string>

#include "core/eval/benchmark.h"
#include "core/util/record_limit.h"
#include "core/util/result.h"

namespace matrix::eval {

// `path`: dataset.json or the folder holding it. Items keep the file's order.
// An item longer than `max_record_bytes` (0: no limit) is a warning naming it, its byte offset and its size,
// and is not parsed.
Result<Benchmark> load_gta(const std::string& path, uint64_t max_record_bytes = k_default_max_record_bytes);

// Parses one GTA record (the value under its id); exposed for tests and for the store round trip.
Result<BenchItem> parse_gta_item(const std::string& id, const nlohmann::json& record, const std::string& root);
Result<BenchItem> parse_gta_item(const std::string& id, nlohmann::json&& record, const std::string& root);  // keeps it as raw

}  // namespace matrix::eval
