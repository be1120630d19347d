// Imports a Pref-X file (LLaMA-Factory ShareGPT ranking JSON array) into a dataset of kind "prefx": each record
// becomes a pair (origin "imported", status pending) whose prefix (system + images + history) is stored once
// per distinct prefix, linked to a task (one per distinct first human turn + images + system) whose
// trajectory is the longest history seen, so the workbench can show the pair at its step. Streaming,
// batched, idempotent on re-import and tolerant of bad records exactly like the M-TRACE importer.
#pragma once

#include <string>

#include "core/formats/import_report.h"
#include "core/store/database.h"

namespace matrix::formats {

Result<ImportReport> import_prefx(store::Database& db, const std::string& path, const ImportOptions& options);

}  // namespace matrix::formats
