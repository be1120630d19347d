// The driver's non-template parts: counting items and the reasons for refused ones (see record_import.h).
#include "core/formats/record_import.h"

#include "core/util/record_limit.h"

namespace matrix::formats {

bool count_item(const ItemInfo& item, bool has_rows, ImportReport& report) {
    if (item.syntax_error) ++report.syntax_errors;
    if (item.is_record) ++report.records;
    if (has_rows) return true;
    if (item.is_record) ++report.rejected;
    report.issues.push_back({item.file, item.index, item.offset, item.reason.empty() ? "refused" : item.reason, true});
    return false;
}

bool describe_json_item(const JsonItem& item, const std::string& file, int64_t position, uint64_t max_record_bytes,
                        ItemInfo& out) {
    out.file = file;
    out.index = item.index;
    out.offset = item.offset;
    out.position = position;
    out.is_record = true;
    out.syntax_error = false;
    out.reason.clear();
    switch (item.kind) {
        case JsonItem::Kind::Element: return true;
        case JsonItem::Kind::SyntaxError:
            out.syntax_error = true;
            out.reason = "JSON syntax error: " + item.message;
            // An error inside an element uses up its index; one between elements is no record.
            out.is_record = item.record_offset >= 0;
            if (out.is_record) out.reason += " (record starts at byte " + std::to_string(item.record_offset) + ")";
            return false;
        case JsonItem::Kind::Oversized:
            out.reason = record_over_limit_reason(uint64_t(item.end - item.offset), max_record_bytes);
            return false;
    }
    return false;
}

}  // namespace matrix::formats
