// The import formats and the one dispatch from a format to its importer, shared by `matrix import` and the
// GUI's import job, so both accept the same names and run the same importer for each.
// Thread safety: pure, except import_file (like Database: the calling thread owns the connection).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/formats/import_report.h"
#include "core/store/database.h"

namespace matrix::formats {

enum class ImportFormat { mtrace, prefx, beam };

// All formats, in the order they are offered.
const std::vector<ImportFormat>& import_formats();
// The format's name on the command line ("mtrace", "prefx", "beam").
std::string import_format_name(ImportFormat f);
// The format of a name, nullopt when unknown.
std::optional<ImportFormat> parse_import_format(const std::string& name);
// Runs the format's importer (import_mtrace, import_prefx or import_beam) on `path`.
Result<ImportReport> import_file(store::Database& db, ImportFormat format, const std::string& path,
                                 const ImportOptions& options);

}  // namespace matrix::formats
