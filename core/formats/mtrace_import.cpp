// M-TRACE import loop (see mtrace_import.h): stream -> validate/convert (mtrace_record.h) -> write rows.
#include "core/formats/mtrace_import.h"

#include <unordered_map>

#include "core/formats/import_context.h"
#include "core/formats/json_stream.h"
#include "core/formats/mtrace_record.h"
#include "core/formats/record_pipeline.h"
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

    auto fail = [&](const Error& e) -> Result<ImportReport> {
        ctx.abort();  // the pipeline (declared below) stops when this returns
        return e.within(path);
    };

    // Parsing and conversion run on a second thread, in file order, ahead of this (the writing) thread.
    RecordPipeline<Result<MtraceRows>> pipeline(
        reader, [](const nlohmann::json& v) {
            auto rows = mtrace_record_to_rows(v);
            if (rows.ok() && rows->system_prompt) rows->system_prompt_hash = std::hash<std::string>{}(*rows->system_prompt);
            return rows;
        });
    PipelineItem<Result<MtraceRows>> item;
    int64_t since_progress = 0;
    while (pipeline.next(item)) {
        if (ctx.cancelled()) {
            pipeline.stop();
            ctx.abort();
            report.cancelled = true;
            return report;
        }
        if (++since_progress >= 64) {
            since_progress = 0;
            ctx.progress(item.position, reader.size(), "records " + std::to_string(report.records));
        }
        if (item.kind == JsonItem::Kind::SyntaxError) {
            ++report.syntax_errors;
            std::string reason = "JSON syntax error: " + item.message;
            if (item.record_offset >= 0) {
                ++report.records;
                ++report.rejected;
                reason += " (record starts at byte " + std::to_string(item.record_offset) + ")";
            }
            report.issues.push_back({path, item.index, item.offset, reason, true});
            continue;
        }
        ++report.records;
        Result<MtraceRows>& converted = *item.rows;
        if (!converted.ok()) {
            ++report.rejected;
            report.issues.push_back({path, item.index, item.offset, converted.error().message, true});
            continue;
        }
        MtraceRows& rows = converted.value();
        int& seen = id_seen[rows.task.external_id];
        if (++seen > 1) rows.task.record_key += "#" + std::to_string(seen);

        if (auto s = ctx.ensure_batch(); !s.ok()) return fail(s.error());
        auto existing = tasks.find_by_key(ctx.dataset_id(), rows.task.record_key);
        if (!existing.ok()) return fail(existing.error());
        if (existing.value()) {
            ++report.already_present;
            // Images missing last time are looked for again (new image roots); found ones update the tasks.
            for (const auto& m : rows.media) {
                auto use = ctx.media(m.path, report);
                if (!use.ok()) return fail(use.error());
            }
            if (auto s = ctx.record_done(); !s.ok()) return fail(s.error());
            continue;
        }

        store::Task& task = rows.task;
        task.dataset_id = ctx.dataset_id();
        task.ordinal = ordinal++;
        if (rows.system_prompt) {
            auto sp = ctx.system_prompt_id(*rows.system_prompt, rows.system_prompt_hash);
            if (!sp.ok()) return fail(sp.error());
            task.system_prompt_id = sp.value();
        }
        std::vector<ImportContext::MediaUse> uses;
        for (const auto& m : rows.media) {
            auto use = ctx.media(m.path, report);
            if (!use.ok()) return fail(use.error());
            if (use->missing) ++task.n_missing_media;
            if (use->warning) report.issues.push_back({path, item.index, item.offset, *use->warning, false});
            uses.push_back(use.value());
        }
        task.n_steps = int(rows.trajectory.steps.size());
        task.tools = store::tools_of(rows.trajectory.steps);
        auto task_id = tasks.insert(task, /*index_fts=*/false);
        if (!task_id.ok()) return fail(task_id.error());
        for (size_t i = 0; i < rows.media.size(); ++i) {
            const auto& m = rows.media[i];
            if (auto s = media.link(task_id.value(), m.role, m.position, uses[i].id, m.label); !s.ok())
                return fail(s.error());
        }
        rows.trajectory.task_id = task_id.value();
        store::TrajectoryInsertOptions topt;
        topt.task_fts_indexed = false;
        topt.new_task_query = task.query;
        topt.refresh_task_counters = false;  // set in the task row above
        if (auto t = trajectories.insert(rows.trajectory, topt); !t.ok()) return fail(t.error());
        ++report.imported;
        if (auto s = ctx.record_done(); !s.ok()) return fail(s.error());
    }
    if (auto s = ctx.finish(); !s.ok()) return fail(s.error());
    ctx.progress(reader.size(), reader.size(), "records " + std::to_string(report.records));
    return report;
}

}  // namespace matrix::formats
