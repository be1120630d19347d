// Issue formatting for import reports (see import_report.h).
#include "core/formats/import_report.h"

namespace matrix::formats {

std::string ImportIssue::to_string() const {
    std::string s = file;
    if (index >= 0) s += ": record " + std::to_string(index);
    if (offset >= 0) s += " (byte " + std::to_string(offset) + ")";
    s += rejected ? ": " : ": warning: ";
    s += reason;
    return s;
}

}  // namespace matrix::formats
