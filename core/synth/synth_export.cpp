// Export of verified synthesized tasks (see synth_export.h).
#include "core/synth/synth_export.h"

#include "core/formats/json_writer.h"
#include "core/formats/mtrace_record.h"
#include "core/store/dataset_repo.h"
#include "core/store/media_repo.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"

namespace matrix::synth {

Result<formats::ExportReport> export_synth(store::Database& db, const std::string& dataset, const std::string& out_path_as_given,
                                           const std::string& verdict, bool overwrite) {
    if (verdict != "yes" && verdict != "no" && verdict != "all")
        return make_error("verdict must be yes, no or all, not '" + verdict + "'");
    store::DatasetRepo datasets(db);
    MATRIX_TRY(auto ds, datasets.find(dataset));
    if (!ds) return make_error("no dataset named '" + dataset + "'");
    MATRIX_TRY(const std::string out_path, formats::export_target(db, out_path_as_given, overwrite));
    std::string sql = "SELECT t.id FROM tasks t WHERE t.dataset_id=? AND EXISTS(SELECT 1 FROM synth_items i WHERE "
                      "i.dataset_id=t.dataset_id AND i.task_id=t.id AND i.stage='verify-trajectories')";
    if (verdict != "all") sql += " AND t.verdict='" + verdict + "'";
    sql += " ORDER BY t.ordinal, t.id";
    MATRIX_TRY(store::Statement ids, db.prepare(sql));
    ids.bind_all(ds->id);
    formats::JsonArrayWriter writer;
    MATRIX_CHECK(writer.open(out_path));
    store::TaskRepo tasks(db);
    store::MediaRepo media(db);
    store::TrajectoryRepo trajectories(db);
    formats::ExportReport report;
    for (;;) {
        MATRIX_TRY(bool row, ids.step());
        if (!row) break;
        MATRIX_TRY(auto task, tasks.get(ids.column_int64(0)));
        if (!task) continue;
        std::optional<std::string> system;
        if (task->system_prompt_id) {
            MATRIX_TRY(system, store::system_prompt_text(db, *task->system_prompt_id));
        }
        MATRIX_TRY(auto links, media.for_task(task->id));
        std::vector<formats::MediaRef> refs;
        for (auto& l : links)
            if (l.role == "image" || l.role == "attachment") refs.push_back({l.media.path, l.role, l.position, l.label});
        MATRIX_TRY(auto traj, trajectories.primary_for_task(task->id));
        static const std::vector<store::Step> kNoSteps;
        MATRIX_CHECK(writer.write(formats::mtrace_export_record(*task, system, refs, traj ? traj->steps : kNoSteps)));
        ++report.records;
    }
    MATRIX_CHECK(writer.finish());
    return report;
}

}  // namespace matrix::synth
