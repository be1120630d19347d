// See training_queries.h.
#include "core/store/training_queries.h"

namespace matrix::store {

Status set_run_config(Database& db, int64_t run_id, const std::string& config_json) {
    MATRIX_TRY(auto st, db.prepare("UPDATE runs SET config = ?1 WHERE id = ?2"));
    st.bind_all(config_json, run_id);
    return st.run();
}

Result<int64_t> mark_stale_runs_paused(Database& db) {
    MATRIX_CHECK(db.exec("UPDATE runs SET status = 'paused' WHERE status = 'running' AND kind IN ('sft','dpo')"));
    return db.query_int64("SELECT changes()");
}

}  // namespace matrix::store
