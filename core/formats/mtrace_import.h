// Imports an M-TRACE JSON file (a JSON array of trajectory records, possibly 177K records / 2 GB, possibly
// truncated) into a dataset of kind "mtrace": streamed record by record (json_stream.h), written in batches of
// ImportOptions::batch_size records per transaction, system prompts stored once per distinct text, images
// resolved against the image roots (missing = stored as missing). Records already in the dataset (same id)
// are skipped, so re-importing a file adds nothing. A bad record is reported and skipped; a cancel or a fatal
// error rolls back only the batch in progress (earlier batches and earlier data stay).
#pragma once

#include <string>

#include "core/formats/import_report.h"
#include "core/store/database.h"

namespace matrix::formats {

// Result error = the import could not run at all (file unreadable, database error); per-record problems are
// in the report's issues.
Result<ImportReport> import_mtrace(store::Database& db, const std::string& path, const ImportOptions& options);

}  // namespace matrix::formats
