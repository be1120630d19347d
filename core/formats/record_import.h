// The one import loop behind the M-TRACE, Pref-X and step-sampling importers. A format gives a source of
// items (read + convert, on a producer thread, no database) and a writer (find the record already in the
// dataset, write its rows); the driver owns the rest, once for all formats: the per-record policy (a bad
// record is reported with file, record index, byte offset and reason, and the import goes on), the
// counts of the report, the batch transactions, re-import skipping, progress and cancellation, and the
// per-record size limit's reason (ImportOptions::max_record_bytes). Internal to core/formats.
// Thread safety: `RecordFormat::next` runs on the pipeline's producer thread, everything else on the caller's.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/formats/import_context.h"
#include "core/formats/import_report.h"
#include "core/formats/json_stream.h"
#include "core/formats/record_pipeline.h"

namespace matrix::formats {

// Where an item is and what it counts as (the non-template part of SourceItem).
struct ItemInfo {
    std::string file;          // the file an issue about it names
    int64_t index = -1;        // record index in the file (-1: not tied to a record)
    int64_t offset = -1;       // byte offset (-1: unknown)
    bool is_record = true;     // counts in ImportReport::records (false: a syntax error between records)
    bool syntax_error = false; // counts in ImportReport::syntax_errors
    int64_t position = 0;      // progress: units done (bytes, tasks) when the writer reaches it
    std::string reason;        // without rows: why it was refused
};

// One unit a source delivers, in input order: a record with its rows, or (no rows) a refused record or a
// syntax error between records.
template <class Rows>
struct SourceItem : ItemInfo {
    std::optional<Rows> rows;
};

// What a format gives the driver.
template <class Rows>
struct RecordFormat {
    // Producer thread: fills the next item, false at the end of the input.
    std::function<bool(SourceItem<Rows>&)> next;
    int64_t total = 0;              // progress total, in the units of SourceItem::position
    std::string unit = "records";   // progress text: "<unit> <records so far>"
    int progress_every = 64;        // items between progress reports
    // Writer (caller's thread), inside the batch transaction. `exists`: the record is already in the dataset
    // (it is skipped and counted as already present, after `revisit` when set); `write`: its rows.
    std::function<Result<bool>(const ItemInfo&, Rows&)> exists;
    std::function<Status(const ItemInfo&, Rows&, ImportReport&)> revisit;
    std::function<Status(const ItemInfo&, Rows&, ImportReport&)> write;
};

// Counts an item in the report; one without rows becomes a rejected issue (its reason). Returns has_rows.
bool count_item(const ItemInfo& item, bool has_rows, ImportReport& report);

// Fills `out` (all but rows) from a reader item of `file`: syntax errors and oversized records get their
// reason here. True when the item is an element to convert.
bool describe_json_item(const JsonItem& item, const std::string& file, int64_t position, uint64_t max_record_bytes,
                        ItemInfo& out);

// A source over a JSON array file: each element converted by `convert` (producer thread). The reader must
// outlive the import.
template <class Rows, class Convert>
std::function<bool(SourceItem<Rows>&)> json_array_source(JsonArrayReader& reader, std::string file, uint64_t max_record_bytes,
                                                         Convert convert) {
    reader.set_max_record_bytes(max_record_bytes);
    return [&reader, file = std::move(file), max_record_bytes, convert = std::move(convert),
            item = JsonItem{}](SourceItem<Rows>& out) mutable {
        if (!reader.next(item)) return false;
        if (describe_json_item(item, file, reader.position(), max_record_bytes, out)) {
            Result<Rows> rows = convert(item.value);
            if (rows.ok()) out.rows.emplace(std::move(rows).value());
            else out.reason = rows.error().message;
        }
        item.value = nlohmann::json();  // the DOM is freed here, off the writer's thread
        return true;
    };
}

// The loop: items in order -> count / refuse / skip if present / write, in batches, with progress and
// cancellation. `report` comes with its dataset id. A cancel rolls back the open batch and returns the report
// with `cancelled`; a database error rolls it back and is returned within `path`.
template <class Rows>
Result<ImportReport> run_record_import(ImportContext& ctx, const std::string& path, RecordFormat<Rows>& format,
                                       ImportReport report) {
    auto fail = [&](const Error& e) -> Result<ImportReport> {
        ctx.abort();  // the pipeline (declared below) stops when this returns
        return e.within(path);
    };
    RecordPipeline<SourceItem<Rows>> pipeline(format.next);
    SourceItem<Rows> item;
    int64_t since_progress = 0;
    while (pipeline.next(item)) {
        if (ctx.cancelled()) {
            pipeline.stop();
            ctx.abort();
            report.cancelled = true;
            return report;
        }
        if (++since_progress >= format.progress_every) {
            since_progress = 0;
            ctx.progress(item.position, format.total, format.unit + " " + std::to_string(report.records));
        }
        if (!count_item(item, item.rows.has_value(), report)) continue;
        Rows& rows = *item.rows;
        if (auto s = ctx.ensure_batch(); !s.ok()) return fail(s.error());
        auto existing = format.exists(item, rows);
        if (!existing.ok()) return fail(existing.error());
        if (existing.value()) {
            ++report.already_present;
            if (format.revisit)
                if (auto s = format.revisit(item, rows, report); !s.ok()) return fail(s.error());
        } else {
            if (auto s = format.write(item, rows, report); !s.ok()) return fail(s.error());
            ++report.imported;
        }
        if (auto s = ctx.record_done(); !s.ok()) return fail(s.error());
    }
    if (auto s = ctx.finish(); !s.ok()) return fail(s.error());
    ctx.progress(format.total, format.total, format.unit + " " + std::to_string(report.records));
    return report;
}

}  // namespace matrix::formats
