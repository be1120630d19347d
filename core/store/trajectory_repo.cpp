// Trajectory, step, tool-call and candidate rows (see trajectory_repo.h).
#include "core/store/trajectory_repo.h"

#include <set>

#include "core/store/fts.h"
#include "core/store/task_repo.h"

namespace matrix::store {

std::string tools_of(const std::vector<Step>& steps) {
    std::set<std::string> names;
    for (const auto& s : steps)
        for (const auto& c : s.tool_calls) names.insert(c.name);
    std::string joined;
    for (const auto& n : names) joined += (joined.empty() ? "" : " ") + n;
    return joined;
}

// Writes steps with their tool calls and candidates; collects the tool names called.
static Status insert_steps(Database& db, int64_t traj_id, int64_t task_id, const std::vector<Step>& steps,
                           std::set<std::string>& tools);

Result<int64_t> TrajectoryRepo::insert(const Trajectory& t, const TrajectoryInsertOptions& options) {
    int64_t previous_primary = 0;
    if (!options.new_task_query) {
        MATRIX_TRY(int64_t p, primary_trajectory_id(m_db, t.task_id));
        previous_primary = p;
    }
    const bool becomes_primary = previous_primary == 0 && !t.run_id;
    std::optional<FtsDoc> old_doc;
    if (becomes_primary && options.task_fts_indexed) {
        MATRIX_TRY(FtsDoc d, fts_doc_for_task(m_db, t.task_id));
        old_doc = std::move(d);
    }

    MATRIX_TRY(Statement * ins, m_db.cached("INSERT INTO trajectories(task_id, source, run_id, final_answer, n_steps, "
                                            "extra) VALUES(?,?,?,?,?,?)"));
    ins->bind_all(t.task_id, t.source, t.run_id, t.final_answer, int64_t(t.steps.size()), t.extra);
    MATRIX_CHECK(ins->run());
    const int64_t traj_id = m_db.last_insert_rowid();

    std::set<std::string> tools;
    MATRIX_CHECK(insert_steps(m_db, traj_id, t.task_id, t.steps, tools));

    if (becomes_primary) {
        if (options.refresh_task_counters) {
            std::string joined;
            for (const auto& n : tools) joined += (joined.empty() ? "" : " ") + n;
            MATRIX_TRY(Statement * up, m_db.cached("UPDATE tasks SET n_steps=?, tools=? WHERE id=?"));
            up->bind_all(int64_t(t.steps.size()), joined, t.task_id);
            MATRIX_CHECK(up->run());
        }
        FtsDoc doc;
        if (old_doc) {
            doc.query = old_doc->query;
            MATRIX_CHECK(fts_delete(m_db, t.task_id, *old_doc));
        } else if (options.new_task_query) {
            doc.query = *options.new_task_query;
        } else {
            MATRIX_TRY(auto q, m_db.cached("SELECT query FROM tasks WHERE id=?"));
            q->bind(1, t.task_id);
            MATRIX_TRY(bool row, q->step());
            if (row) doc.query = q->column_text(0);
            q->reset();
        }
        for (const auto& s : t.steps) doc.add_step(s.thought, s.code, s.observation ? *s.observation : std::string());
        MATRIX_CHECK(fts_insert(m_db, t.task_id, doc));
    }
    return traj_id;
}

Status TrajectoryRepo::append_steps(int64_t trajectory_id, const std::vector<Step>& steps) {
    MATRIX_TRY(auto traj, get(trajectory_id, false));
    if (!traj) return make_error("no trajectory " + std::to_string(trajectory_id));
    MATRIX_TRY(int64_t primary, primary_trajectory_id(m_db, traj->task_id));
    const bool is_primary = primary == trajectory_id;
    std::optional<FtsDoc> old_doc;
    if (is_primary) {
        MATRIX_TRY(FtsDoc d, fts_doc_for_task(m_db, traj->task_id));
        old_doc = std::move(d);
    }
    std::set<std::string> tools;
    MATRIX_CHECK(insert_steps(m_db, trajectory_id, traj->task_id, steps, tools));
    MATRIX_TRY(Statement * up, m_db.cached("UPDATE trajectories SET n_steps=(SELECT count(*) FROM steps WHERE "
                                           "trajectory_id=?1) WHERE id=?1"));
    up->bind(1, trajectory_id);
    MATRIX_CHECK(up->run());
    if (is_primary) {
        MATRIX_CHECK(fts_delete(m_db, traj->task_id, *old_doc));
        MATRIX_CHECK(TaskRepo(m_db).refresh_counters(traj->task_id));
        MATRIX_TRY(FtsDoc doc, fts_doc_for_task(m_db, traj->task_id));
        MATRIX_CHECK(fts_insert(m_db, traj->task_id, doc));
    }
    return {};
}

static Status insert_steps(Database& db, int64_t traj_id, int64_t task_id, const std::vector<Step>& steps,
                           std::set<std::string>& tools) {
    MATRIX_TRY(Statement * step_ins,
               db.cached("INSERT INTO steps(trajectory_id, idx, action, thought, code, observation, "
                           "observation_raw, is_error, is_final, extra) VALUES(?,?,?,?,?,?,?,?,?,?)"));
    MATRIX_TRY(Statement * call_ins, db.cached("INSERT INTO tool_calls(step_id, task_id, position, name, "
                                                 "arguments, known) VALUES(?,?,?,?,?,?)"));
    MATRIX_TRY(Statement * cand_ins, db.cached("INSERT INTO step_candidates(step_id, position, action, rationale, "
                                                 "tool_call, observation, is_best) VALUES(?,?,?,?,?,?,?)"));
    for (const auto& s : steps) {
        step_ins->bind_all(traj_id, int64_t(s.idx), nullptr, nullptr, nullptr, nullptr, s.observation_raw, s.is_error,
                           s.is_final, s.extra);
        step_ins->bind_static(3, s.action).bind_static(4, s.thought).bind_static(5, s.code).bind_static(6, s.observation);
        MATRIX_CHECK(step_ins->run());  // resets the statement before `s` can go away
        const int64_t step_id = db.last_insert_rowid();
        for (const auto& c : s.tool_calls) {
            call_ins->bind_all(step_id, task_id, int64_t(c.position), c.name, c.arguments, c.known);
            MATRIX_CHECK(call_ins->run());
            tools.insert(c.name);
        }
        for (const auto& c : s.candidates) {
            cand_ins->bind_all(step_id, int64_t(c.position), c.action, c.rationale, c.tool_call, c.observation,
                               c.is_best);
            MATRIX_CHECK(cand_ins->run());
        }
    }
    return {};
}

namespace {
const char* kTrajCols = "id, task_id, source, run_id, final_answer, n_steps, extra";
Trajectory read_traj(const Statement& st) {
    Trajectory t;
    t.id = st.column_int64(0);
    t.task_id = st.column_int64(1);
    t.source = st.column_text(2);
    t.run_id = st.column_optional_int64(3);
    t.final_answer = st.column_optional_text(4);
    t.n_steps = st.column_int(5);
    t.extra = st.column_optional_text(6);
    return t;
}
}  // namespace

namespace {
// Every row of a bound trajectory query (kTrajCols), in the query's order; the statement is reset.
Result<std::vector<Trajectory>> read_all(Statement& st) {
    std::vector<Trajectory> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        out.push_back(read_traj(st));
    }
    st.reset();
    return out;
}
}  // namespace

Result<std::vector<Trajectory>> TrajectoryRepo::list_for_task(int64_t task_id) {
    MATRIX_TRY(Statement * st, m_db.cached(std::string("SELECT ") + kTrajCols +
                                           " FROM trajectories WHERE task_id=? ORDER BY run_id IS NOT NULL, id"));
    st->bind(1, task_id);
    return read_all(*st);
}

Result<std::vector<Trajectory>> TrajectoryRepo::list_for_run(int64_t run_id) {
    MATRIX_TRY(Statement * st, m_db.cached(std::string("SELECT ") + kTrajCols + " FROM trajectories WHERE run_id=? ORDER BY id"));
    st->bind(1, run_id);
    return read_all(*st);
}

Status TrajectoryRepo::set_outcome(int64_t id, const std::optional<std::string>& final_answer,
                                   const std::string& extra_json) {
    MATRIX_TRY(Statement * st, m_db.cached("UPDATE trajectories SET final_answer=?, extra=? WHERE id=?"));
    if (final_answer) {
        st->bind(1, *final_answer);
    } else {
        st->bind_null(1);
    }
    st->bind(2, extra_json);
    st->bind(3, id);
    return st->run();
}

Result<std::optional<Trajectory>> TrajectoryRepo::get(int64_t id, bool with_steps) {
    Trajectory t;
    {
        MATRIX_TRY(Statement * st, m_db.cached(std::string("SELECT ") + kTrajCols + " FROM trajectories WHERE id=?"));
        st->bind(1, id);
        MATRIX_TRY(bool row, st->step());
        if (!row) {
            st->reset();
            return std::optional<Trajectory>();
        }
        t = read_traj(*st);
        st->reset();
    }
    if (!with_steps) return std::optional<Trajectory>(std::move(t));
    MATRIX_TRY(Statement steps, m_db.prepare("SELECT id, idx, action, thought, code, observation, observation_raw, "
                                             "is_error, is_final, extra FROM steps WHERE trajectory_id=? ORDER BY idx"));
    steps.bind(1, id);
    for (;;) {
        MATRIX_TRY(bool row, steps.step());
        if (!row) break;
        Step s;
        s.id = steps.column_int64(0);
        s.idx = steps.column_int(1);
        s.action = steps.column_optional_text(2);
        s.thought = steps.column_text(3);
        s.code = steps.column_text(4);
        s.observation = steps.column_optional_text(5);
        s.observation_raw = steps.column_optional_text(6);
        s.is_error = steps.column_int(7) != 0;
        s.is_final = steps.column_int(8) != 0;
        s.extra = steps.column_optional_text(9);
        t.steps.push_back(std::move(s));
    }
    MATRIX_TRY(Statement calls, m_db.prepare("SELECT id, position, name, arguments, known FROM tool_calls WHERE "
                                             "step_id=? ORDER BY position"));
    MATRIX_TRY(Statement cands, m_db.prepare("SELECT id, position, action, rationale, tool_call, observation, is_best "
                                             "FROM step_candidates WHERE step_id=? ORDER BY position"));
    for (auto& s : t.steps) {
        calls.bind(1, s.id);
        for (;;) {
            MATRIX_TRY(bool row, calls.step());
            if (!row) break;
            ToolCallRow c;
            c.id = calls.column_int64(0);
            c.position = calls.column_int(1);
            c.name = calls.column_text(2);
            c.arguments = calls.column_text(3);
            c.known = calls.column_int(4) != 0;
            s.tool_calls.push_back(std::move(c));
        }
        calls.reset();
        cands.bind(1, s.id);
        for (;;) {
            MATRIX_TRY(bool row, cands.step());
            if (!row) break;
            StepCandidate c;
            c.id = cands.column_int64(0);
            c.position = cands.column_int(1);
            c.action = cands.column_text(2);
            c.rationale = cands.column_optional_text(3);
            c.tool_call = cands.column_optional_text(4);
            c.observation = cands.column_optional_text(5);
            c.is_best = cands.column_int(6) != 0;
            s.candidates.push_back(std::move(c));
        }
        cands.reset();
    }
    return std::optional<Trajectory>(std::move(t));
}

Result<std::optional<Trajectory>> TrajectoryRepo::primary_for_task(int64_t task_id) {
    MATRIX_TRY(int64_t id, primary_trajectory_id(m_db, task_id));
    if (id == 0) return std::optional<Trajectory>();
    return get(id, true);
}

}  // namespace matrix::store
