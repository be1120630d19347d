// jobs rows (see job_repo.h).
#include "core/jobs/job_repo.h"

#include <nlohmann/json.hpp>

#include "core/jobs/process.h"

namespace matrix::jobs {

namespace {

const char* kColumns =
    "id, kind, argv, cwd, backend, host, pid, pid_start, log_path, state, exit_code, reason, cancel_requested, "
    "slurm_job_id, slurm_options, run_id, created_at, started_at, finished_at, updated_at";

Result<Job> read_row(store::Statement& st) {
    Job j;
    j.id = st.column_int64(0);
    j.kind = st.column_text(1);
    try {
        auto a = nlohmann::json::parse(st.column_text(2));
        for (const auto& x : a) j.argv.push_back(x.get<std::string>());
    } catch (const std::exception& e) {
        return make_error(std::string("argv is not a JSON array of strings: ") + e.what(), "job " + std::to_string(j.id));
    }
    j.cwd = st.column_text(3);
    j.backend = st.column_text(4);
    j.host = st.column_text(5);
    j.pid = st.column_optional_int64(6).value_or(0);
    j.pid_start = st.column_optional_int64(7).value_or(0);
    j.log_path = st.column_text(8);
    j.state = st.column_text(9);
    if (auto c = st.column_optional_int64(10)) j.exit_code = int(*c);
    j.reason = st.column_text(11);
    j.cancel_requested = st.column_int64(12) != 0;
    j.slurm_job_id = st.column_text(13);
    auto so = SlurmOptions::from_json(st.column_text(14));
    if (!so.ok()) return so.error().within("job " + std::to_string(j.id));
    j.slurm = *so;
    j.run_id = st.column_optional_int64(15);
    j.created_at = st.column_text(16);
    j.started_at = st.column_text(17);
    j.finished_at = st.column_text(18);
    j.updated_at = st.column_text(19);
    return j;
}

}  // namespace

std::string SlurmOptions::to_json() const {
    return nlohmann::json{{"nodes", nodes},         {"gpus_per_node", gpus_per_node}, {"cpus_per_task", cpus_per_task},
                          {"time", time},           {"partition", partition},         {"account", account}}
        .dump();
}

Result<SlurmOptions> SlurmOptions::from_json(const std::string& text) {
    SlurmOptions o;
    try {
        auto j = nlohmann::json::parse(text.empty() ? "{}" : text);
        o.nodes = j.value("nodes", 1);
        o.gpus_per_node = j.value("gpus_per_node", 0);
        o.cpus_per_task = j.value("cpus_per_task", 0);
        o.time = j.value("time", std::string());
        o.partition = j.value("partition", std::string());
        o.account = j.value("account", std::string());
    } catch (const std::exception& e) {
        return make_error(std::string("bad slurm_options JSON: ") + e.what());
    }
    return o;
}

std::string Job::command_line() const {
    std::string out = "matrix";
    for (const auto& a : argv) out += " " + shell_quote(a);
    return out;
}

bool is_final_state(const std::string& state) {
    return state == "finished" || state == "failed" || state == "cancelled";
}

Result<int64_t> JobRepo::create(const Job& job) {
    if (job.kind != "train" && job.kind != "eval" && job.kind != "sample" && job.kind != "synth")
        return make_error("job kind must be train, eval, sample or synth, not '" + job.kind + "'");
    if (job.argv.empty()) return make_error("a job needs its matrix arguments");
    MATRIX_TRY(store::Statement st,
               m_db.prepare("INSERT INTO jobs(kind, argv, cwd, backend, log_path, state, slurm_options, updated_at) "
                            "VALUES(?, ?, ?, ?, ?, ?, ?, ?)"));
    st.bind_all(job.kind, nlohmann::json(job.argv).dump(), job.cwd, job.backend, job.log_path, job.state,
                job.slurm.to_json(), store::now_iso8601());
    MATRIX_CHECK(st.run());
    return m_db.last_insert_rowid();
}

Result<std::optional<Job>> JobRepo::get(int64_t id) {
    MATRIX_TRY(store::Statement st, m_db.prepare(std::string("SELECT ") + kColumns + " FROM jobs WHERE id=?"));
    st.bind(1, id);
    MATRIX_TRY(bool row, st.step());
    if (!row) return std::optional<Job>();
    MATRIX_TRY(Job j, read_row(st));
    return std::optional<Job>(std::move(j));
}

Result<std::vector<Job>> JobRepo::list(bool unfinished_only) {
    std::string sql = std::string("SELECT ") + kColumns + " FROM jobs";
    if (unfinished_only) sql += " WHERE state='queued' OR state='running' OR state='paused'";
    sql += " ORDER BY id DESC";
    MATRIX_TRY(store::Statement st, m_db.prepare(sql));
    std::vector<Job> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        MATRIX_TRY(Job j, read_row(st));
        out.push_back(std::move(j));
    }
    return out;
}

Status JobRepo::set_started(int64_t id, const std::string& host, int64_t pid, int64_t pid_start) {
    MATRIX_TRY(store::Statement st,
               m_db.prepare("UPDATE jobs SET state='running', host=?, pid=?, pid_start=?, "
                            "started_at=coalesce(started_at, ?), updated_at=? WHERE id=?"));
    const std::string now = store::now_iso8601();
    st.bind_all(host, pid, pid_start, now, now, id);
    return st.run();
}

Status JobRepo::set_state(int64_t id, const std::string& state, std::optional<int> exit_code,
                          const std::string& reason) {
    const bool final = is_final_state(state);
    MATRIX_TRY(store::Statement st,
               m_db.prepare("UPDATE jobs SET state=?, exit_code=coalesce(?, exit_code), "
                            "reason=CASE WHEN ?='' THEN reason ELSE ? END, "
                            "finished_at=CASE WHEN ? THEN ? ELSE finished_at END, updated_at=? WHERE id=?"));
    const std::string now = store::now_iso8601();
    st.bind(1, state);
    if (exit_code) st.bind(2, int64_t(*exit_code)); else st.bind_null(2);
    st.bind(3, reason);
    st.bind(4, reason);
    st.bind(5, final);
    st.bind(6, now);
    st.bind(7, now);
    st.bind(8, id);
    MATRIX_CHECK(st.run());
    if (m_db.changes() == 0) return make_error("no job " + std::to_string(id));
    return {};
}

Result<bool> JobRepo::finish_if_unfinished(int64_t id, const std::string& state, std::optional<int> exit_code,
                                           const std::string& reason) {
    store::Transaction tx(m_db);
    MATRIX_CHECK(tx.begin_status());
    MATRIX_TRY(auto job, get(id));
    if (!job) return make_error("no job " + std::to_string(id));
    if (job->is_final()) return false;
    MATRIX_CHECK(set_state(id, state, exit_code, reason));
    MATRIX_CHECK(tx.commit());
    return true;
}

Status JobRepo::set_cancel_requested(int64_t id) {
    MATRIX_TRY(store::Statement st, m_db.prepare("UPDATE jobs SET cancel_requested=1, updated_at=? WHERE id=?"));
    st.bind_all(store::now_iso8601(), id);
    return st.run();
}

Status JobRepo::set_run(int64_t id, int64_t run_id) {
    MATRIX_TRY(store::Statement st, m_db.prepare("UPDATE jobs SET run_id=?, updated_at=? WHERE id=?"));
    st.bind_all(run_id, store::now_iso8601(), id);
    return st.run();
}

Status JobRepo::set_slurm_job_id(int64_t id, const std::string& slurm_job_id) {
    MATRIX_TRY(store::Statement st, m_db.prepare("UPDATE jobs SET slurm_job_id=?, updated_at=? WHERE id=?"));
    st.bind_all(slurm_job_id, store::now_iso8601(), id);
    return st.run();
}

Status JobRepo::set_log_path(int64_t id, const std::string& path) {
    MATRIX_TRY(store::Statement st, m_db.prepare("UPDATE jobs SET log_path=?, updated_at=? WHERE id=?"));
    st.bind_all(path, store::now_iso8601(), id);
    return st.run();
}

}  // namespace matrix::jobs
