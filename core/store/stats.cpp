// Project / dataset counts and histograms (see stats.h).
#include "core/store/stats.h"

namespace matrix::store {

Result<StoreStats> compute_stats(Database& db, const std::optional<int64_t>& dataset_id) {
    StoreStats s;
    const std::string ds = dataset_id ? std::to_string(*dataset_id) : std::string();
    const std::string tw = dataset_id ? " WHERE dataset_id=" + ds : "";
    const std::string tin = dataset_id ? " WHERE task_id IN (SELECT id FROM tasks WHERE dataset_id=" + ds + ")" : "";
    MATRIX_TRY(s.datasets, db.query_int64(dataset_id ? "SELECT count(*) FROM datasets WHERE id=" + ds
                                                     : std::string("SELECT count(*) FROM datasets")));
    MATRIX_TRY(s.tasks, db.query_int64("SELECT count(*) FROM tasks" + tw));
    MATRIX_TRY(s.trajectories, db.query_int64("SELECT count(*) FROM trajectories" + tin));
    MATRIX_TRY(s.steps, db.query_int64("SELECT count(*) FROM steps WHERE trajectory_id IN (SELECT id FROM "
                                       "trajectories" + tin + ")"));
    if (dataset_id) {
        MATRIX_TRY(s.media, db.query_int64("SELECT count(DISTINCT media_id) FROM task_media" + tin));
        MATRIX_TRY(s.media_missing, db.query_int64("SELECT count(*) FROM media WHERE resolved_path IS NULL AND id IN "
                                                   "(SELECT media_id FROM task_media" + tin + ")"));
    } else {
        MATRIX_TRY(s.media, db.query_int64("SELECT count(*) FROM media"));
        MATRIX_TRY(s.media_missing, db.query_int64("SELECT count(*) FROM media WHERE resolved_path IS NULL"));
    }
    {
        MATRIX_TRY(Statement st, db.prepare("SELECT status, count(*) FROM pairs" + tw + " GROUP BY status"));
        for (;;) {
            MATRIX_TRY(bool row, st.step());
            if (!row) break;
            const std::string status = st.column_text(0);
            const int64_t n = st.column_int64(1);
            s.pairs += n;
            if (status == "pending") s.pairs_pending = n;
            if (status == "approved") s.pairs_approved = n;
            if (status == "rejected") s.pairs_rejected = n;
        }
    }
    {
        MATRIX_TRY(Statement st, db.prepare("SELECT name, count(*) FROM tool_calls" + tin + " GROUP BY name"));
        for (;;) {
            MATRIX_TRY(bool row, st.step());
            if (!row) break;
            s.tool_histogram[st.column_text(0)] = st.column_int64(1);
            s.tool_calls += st.column_int64(1);
        }
    }
    {
        MATRIX_TRY(Statement st, db.prepare("SELECT n_steps, count(*) FROM tasks" + tw + " GROUP BY n_steps"));
        for (;;) {
            MATRIX_TRY(bool row, st.step());
            if (!row) break;
            s.steps_histogram[st.column_int64(0)] = st.column_int64(1);
        }
    }
    {
        MATRIX_TRY(Statement st, db.prepare("SELECT verdict, count(*) FROM tasks" + tw + " GROUP BY verdict"));
        for (;;) {
            MATRIX_TRY(bool row, st.step());
            if (!row) break;
            s.verdict_histogram[st.column_text(0)] = st.column_int64(1);
        }
    }
    return s;
}

nlohmann::json stats_to_json(const StoreStats& s) {
    nlohmann::json steps = nlohmann::json::object();
    for (auto& [k, v] : s.steps_histogram) steps[std::to_string(k)] = v;
    return {{"datasets", s.datasets},
            {"tasks", s.tasks},
            {"trajectories", s.trajectories},
            {"steps", s.steps},
            {"tool_calls", s.tool_calls},
            {"media", {{"total", s.media}, {"missing", s.media_missing}}},
            {"pairs",
             {{"total", s.pairs},
              {"pending", s.pairs_pending},
              {"approved", s.pairs_approved},
              {"rejected", s.pairs_rejected}}},
            {"tool_histogram", s.tool_histogram},
            {"steps_histogram", steps},
            {"verdicts", s.verdict_histogram}};
}

}  // namespace matrix::store
