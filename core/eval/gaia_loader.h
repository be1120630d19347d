// GAIA `metadata.jsonl` loader: one JSON object per line {task_id, Question, Level, "Final answer",
// file_name, "Annotator Metadata": {Steps, Tools, ...}}; attachments lie beside the file under `file_name`.
// GAIA is gated: the repository holds no GAIA data; tests use lines written in its format.
#pragma once

#include <string>

#include "core/eval/benchmark.h"
#include "core/util/record_limit.h"
#include "core/util/result.h"

namespace matrix::eval {

// `path`: metadata.jsonl or the folder holding it. Bad lines become warnings ("file:line: reason").
// A line longer than `max_record_bytes` (0: no limit) is a warning naming it, its byte offset and its size,
// and is not parsed.
Result<Benchmark> load_gaia(const std::string& path, uint64_t max_record_bytes = k_default_max_record_bytes);

}  // namespace matrix::eval
