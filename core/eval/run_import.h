// Importers for runs people already have:
//  - matrix-gta: a MATRIX GTA output folder, <run>/<task id>/agent_memory.json with "final_answer",
//    "ground_truth" and either "conversations" (ChatML-like messages: system, user task, assistant actions,
//    "[OUTPUT OF STEP k] Observation:/Error:" turns) or "logs" ([{system_prompt, task}, {llm_output,
//    rationale, tool_call: {tool_name, tool_arguments: code}, observation, error?, final_answer?}, ...]);
//  - matrix-gaia: a MATRIX GAIA result database, SQLite table qa_cache(question, task_id, answer,
//    groundtruth); trajectories are taken from <db folder>/<task_id>/agent_memory.json when present;
//  - jsonl: one {"task_id", "answer", "steps"?: [{thought?, code?, tool_calls?: [{name, arguments}],
//    observation?, error?}], "error"?} per line.
// Bad records become warnings with file and line/task; the good ones are imported.
#pragma once

#include <string>

#include "core/eval/run.h"
#include "core/util/progress.h"
#include "core/util/record_limit.h"
#include "core/util/result.h"

namespace matrix::eval {

// `max_record_bytes` (0: no limit): a JSONL line or an agent_memory.json longer than this is a warning naming
// it and its size (record_limit.h), and is not parsed.
Result<ImportedRun> import_matrix_gta_run(const std::string& folder, const Progress& progress = {},
                                          uint64_t max_record_bytes = k_default_max_record_bytes);
Result<ImportedRun> import_matrix_gaia_run(const std::string& db_path, const Progress& progress = {},
                                           uint64_t max_record_bytes = k_default_max_record_bytes);
Result<ImportedRun> import_jsonl_run(const std::string& path, BenchKind benchmark, const Progress& progress = {},
                                     uint64_t max_record_bytes = k_default_max_record_bytes);

// Dispatch on a format name ("matrix-gta", "matrix-gaia", "jsonl").
Result<ImportedRun> import_run(const std::string& format, const std::string& path, BenchKind benchmark,
                               const Progress& progress = {}, uint64_t max_record_bytes = k_default_max_record_bytes);

// One agent_memory.json (either layout) -> steps, answer and ground truth; exposed for tests.
Result<TaskResult> parse_agent_memory(const nlohmann::json& memory, const std::string& task_id);

// Tool calls named in a code action: calls of known agent tools (MATRIX and GTA names), in source order,
// with literal keyword arguments when they are simple; used when no structured calls are recorded.
std::vector<RunToolCall> tool_calls_in_code(const std::string& code);

}  // namespace matrix::eval
