// Agent-X `data.json`-style loader: an object keyed by task id whose values are a record or a one-element
// list holding it (as the official evaluation reads `gt_data[key][0]`), or a list of records with "id".
// A record: {query, query_type, file_path | files | image, tool_metadata: {Name: meta}, reasoning_steps:
// [{step, task, tool, input, output, thought}, ..., optional {"final_answer": {...}}], final_answer}.
// Tool names are checked against the Agent-X tool metadata (tests/data/external/bench/agentx_toolmeta.json).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/eval/benchmark.h"
#include "core/util/record_limit.h"
#include "core/util/result.h"

namespace matrix::eval {

struct AgentXToolMeta {
    std::map<std::string, nlohmann::json> tools;  // name -> {name, description, inputs, outputs}
    bool has(const std::string& name) const { return tools.count(name) > 0; }
};

Result<AgentXToolMeta> load_agentx_toolmeta(const std::string& path);

// Splits a step's "tool" field ("OCR", "OCR, Calculator", ["OCR", "Calculator"]) into tool names.
std::vector<std::string> split_tool_field(const nlohmann::json& tool);

// `toolmeta` may be empty (no name check). Unknown tool names become warnings, not errors.
// A record longer than `max_record_bytes` (0: no limit) is a warning naming it, its byte offset and its size,
// and is not parsed.
Result<Benchmark> load_agentx(const std::string& path, const AgentXToolMeta& toolmeta,
                              uint64_t max_record_bytes = k_default_max_record_bytes);

}  // namespace matrix::eval
