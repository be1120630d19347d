// See import_format.h.
#include "core/formats/import_format.h"

#include "core/formats/beam_import.h"
#include "core/formats/mtrace_import.h"
#include "core/formats/prefx_import.h"

namespace matrix::formats {

const std::vector<ImportFormat>& import_formats() {
    static const std::vector<ImportFormat> all = {ImportFormat::mtrace, ImportFormat::prefx, ImportFormat::beam};
    return all;
}

std::string import_format_name(ImportFormat f) {
    switch (f) {
        case ImportFormat::prefx: return "prefx";
        case ImportFormat::beam: return "beam";
        case ImportFormat::mtrace: break;
    }
    return "mtrace";
}

std::optional<ImportFormat> parse_import_format(const std::string& name) {
    for (ImportFormat f : import_formats())
        if (import_format_name(f) == name) return f;
    return std::nullopt;
}

Result<ImportReport> import_file(store::Database& db, ImportFormat format, const std::string& path,
                                 const ImportOptions& options) {
    switch (format) {
        case ImportFormat::prefx: return import_prefx(db, path, options);
        case ImportFormat::beam: return import_beam(db, path, options);
        case ImportFormat::mtrace: break;
    }
    return import_mtrace(db, path, options);
}

}  // namespace matrix::formats
