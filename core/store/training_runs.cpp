// The training panel's queries (see training_runs.h).
#include "core/store/training_runs.h"

#include "core/store/dataset_repo.h"

namespace matrix::store {

Result<std::vector<TrainingRunRow>> list_training_runs(Database& db) {
    RunRepo runs(db);
    MATRIX_TRY(auto all, runs.list());
    MATRIX_TRY(Statement last, db.prepare("SELECT step, value FROM run_metrics WHERE run_id=? AND name='loss' "
                                          "ORDER BY step DESC LIMIT 1"));
    std::vector<TrainingRunRow> out;
    for (auto& r : all) {
        if (r.kind != "sft" && r.kind != "dpo") continue;
        TrainingRunRow row;
        last.bind(1, r.id);
        MATRIX_TRY(bool found, last.step());
        if (found) {
            row.last_step = last.column_int64(0);
            row.last_loss = last.column_double(1);
        }
        last.reset();
        row.run = std::move(r);
        out.push_back(std::move(row));
    }
    return out;
}

Result<std::map<std::string, std::vector<MetricPoint>>> run_curves(Database& db, int64_t run_id,
                                                                  const std::vector<std::string>& names) {
    RunRepo runs(db);
    std::map<std::string, std::vector<MetricPoint>> out;
    for (const auto& name : names) {
        MATRIX_TRY(auto series, runs.metric_series(run_id, name));
        out[name] = std::move(series);
    }
    return out;
}

Result<std::vector<std::string>> dataset_names(Database& db) {
    MATRIX_TRY(auto all, DatasetRepo(db).list());
    std::vector<std::string> out;
    for (const auto& d : all) out.push_back(d.name);
    return out;
}

}  // namespace matrix::store
