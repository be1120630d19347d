// M-TRACE import (see mtrace_import.h): the record_import.h loop over the file's elements, converted by
// mtrace_record.h, written as a task, its media links and its trajectory.
#include "core/formats/mtrace_import.h"

#include <unordered_map>

#include "core/formats/import_context.h"
#include "core/formats/json_stream.h"
#include "core/formats/mtrace_record.h"
#include "core/formats/record_import.h"
#include "core/store/media_repo.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"

namespace matrix::formats {

Result<ImportReport> import_mtrace(store::Database& db, const std::string& path, const ImportOptions& options) {
    MATRIX_TRY(JsonArrayReader reader, JsonArrayReader::open_file(path));
    // Resynchronise only onto objects shaped like an M-TRACE record, not onto a conversation turn.
    reader.set_record_predicate(
        [](const nlohmann::json& v) { return v.contains("conversations") && v.contains("id"); });

    ImportReport report;
    ImportContext ctx(db, options);
    MATRIX_CHECK(ctx.begin(file_stem(path), "mtrace", path));
    report.dataset_id = ctx.dataset_id();

    store::TaskRepo tasks(db);
    store::TrajectoryRepo trajectories(db);
    store::MediaRepo media(db);
    MATRIX_TRY(int64_t ordinal, tasks.next_ordinal(ctx.dataset_id()));
    std::unordered_map<std::string, int> id_seen;  // repeated ids in one file get "#2", "#3" keys

    RecordFormat<MtraceRows> format;
    // Parsing and conversion run on a second thread, in file order, ahead of this (the writing) thread.
    format.next = json_array_source<MtraceRows>(reader, path, options.max_record_bytes, [](const nlohmann::json& v) {
        auto rows = mtrace_record_to_rows(v);
        if (rows.ok() && rows->system_prompt) rows->system_prompt_hash = std::hash<std::string>{}(*rows->system_prompt);
        return rows;
    });
    format.total = reader.size();
    format.exists = [&](const ItemInfo&, MtraceRows& rows) -> Result<bool> {
        int& seen = id_seen[rows.task.external_id];
        if (++seen > 1) rows.task.record_key += "#" + std::to_string(seen);
        MATRIX_TRY(auto existing, tasks.find_by_key(ctx.dataset_id(), rows.task.record_key));
        return existing.has_value();
    };
    // Images missing last time are looked for again (new image roots); found ones update the tasks.
    format.revisit = [&](const ItemInfo&, MtraceRows& rows, ImportReport& report) -> Status {
        for (const auto& m : rows.media) MATRIX_CHECK(ctx.media(m.path, report));
        return {};
    };
    format.write = [&](const ItemInfo& item, MtraceRows& rows, ImportReport& report) -> Status {
        store::Task& task = rows.task;
        task.dataset_id = ctx.dataset_id();
        task.ordinal = ordinal++;
        if (rows.system_prompt) {
            MATRIX_TRY(task.system_prompt_id, ctx.system_prompt_id(*rows.system_prompt, rows.system_prompt_hash));
        }
        std::vector<ImportContext::MediaUse> uses;
        for (const auto& m : rows.media) {
            MATRIX_TRY(ImportContext::MediaUse use, ctx.media(m.path, report));
            if (use.missing) ++task.n_missing_media;
            if (use.warning) report.issues.push_back({item.file, item.index, item.offset, *use.warning, false});
            uses.push_back(std::move(use));
        }
        task.n_steps = int(rows.trajectory.steps.size());
        task.tools = store::tools_of(rows.trajectory.steps);
        MATRIX_TRY(int64_t task_id, tasks.insert(task, /*index_fts=*/false));
        task.prompt_text.reset();  // written; not kept while the full-text index takes the query
        for (size_t i = 0; i < rows.media.size(); ++i) {
            const auto& m = rows.media[i];
            MATRIX_CHECK(media.link(task_id, m.role, m.position, uses[i].id, m.label));
        }
        rows.trajectory.task_id = task_id;
        store::TrajectoryInsertOptions topt;
        topt.task_fts_indexed = false;
        topt.new_task_query = std::move(task.query);  // written above; only the full-text index needs it now
        topt.refresh_task_counters = false;  // set in the task row above
        MATRIX_CHECK(trajectories.insert(rows.trajectory, topt));
        return {};
    };
    return run_record_import(ctx, path, format, std::move(report));
}

}  // namespace matrix::formats
