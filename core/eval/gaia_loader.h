// GAIA `metadata.jsonl` loader: one JSON object per line {task_id, Question, Level, "Final answer",
// file_name, "Annotator Metadata": {Steps, Tools, ...}}; attachments lie beside the file under `file_name`.
// GAIA is gated: the repository holds no GAIA data; tests use lines written in its format.
#pragma once

#include <string>

#include "core/eval/benchmark.h"
#include "core/util/result.h"

namespace matrix::eval {

// `path`: metadata.jsonl or the folder holding it. Bad lines become warnings ("file:line: reason").
Result<Benchmark> load_gaia(const std::string& path);

}  // namespace matrix::eval
