// Imports step-sampling output (MATRIX's step-wise exploration, spec section 3): one folder per task, each with
// a beam_search_data.json list (element 0: task, image_paths, final_answer; element i: step i with the
// candidates llm_output_j / rationale_j / tool_call_j / observation_j, best_step_idx as a STRING, rank_reason;
// possibly a last {"error": ...}). Every candidate is kept (step_candidates); the best path becomes the task's
// trajectory; each step becomes pairs chosen = best, rejected = the others, or with ImportOptions::bleu_filter
// the spec section 4 selection (char-BLEU < 0.3 against the chosen, plus at most 2 with a format error or an
// error observation). PATH may be a folder of task folders, one task folder, or one beam_search_data.json.
// Record index = the task folder's position in sorted order; re-import skips tasks already present.
#pragma once

#include <string>
#include <vector>

#include "core/formats/import_report.h"
#include "core/store/database.h"

namespace matrix::formats {

Result<ImportReport> import_beam(store::Database& db, const std::string& path, const ImportOptions& options);

// The beam_search_data.json files under `path`, sorted (what import_beam reads).
std::vector<std::string> find_beam_files(const std::string& path);

}  // namespace matrix::formats
