// Sampled pairs' links and curation views (see sampled_pair_repo.h).
#include "core/store/sampled_pair_repo.h"

namespace matrix::store {

Status SampledPairRepo::insert(const SampledPairLink& l) {
    MATRIX_TRY(Statement* st, m_db.cached("INSERT INTO sampled_pairs(pair_id, run_id, step_id, candidate, chosen_candidate, "
                                          "verifier_reason, rule, bleu) VALUES(?,?,?,?,?,?,?,?)"));
    st->bind_all(l.pair_id, l.run_id, l.step_id, int64_t(l.candidate), int64_t(l.chosen_candidate), l.verifier_reason,
                 l.rule, l.bleu);
    return st->run();
}

Result<std::optional<SampledPairLink>> SampledPairRepo::get(int64_t pair_id) {
    MATRIX_TRY(Statement st, m_db.prepare("SELECT pair_id, run_id, step_id, candidate, chosen_candidate, verifier_reason, "
                                          "rule, bleu FROM sampled_pairs WHERE pair_id=?"));
    st.bind_all(pair_id);
    MATRIX_TRY(bool row, st.step());
    if (!row) return std::optional<SampledPairLink>();
    SampledPairLink l;
    l.pair_id = st.column_int64(0);
    if (!st.column_is_null(1)) l.run_id = st.column_int64(1);
    if (!st.column_is_null(2)) l.step_id = st.column_int64(2);
    l.candidate = static_cast<int>(st.column_int64(3));
    l.chosen_candidate = static_cast<int>(st.column_int64(4));
    if (!st.column_is_null(5)) l.verifier_reason = st.column_text(5);
    l.rule = st.column_text(6);
    l.bleu = st.column_double(7);
    return std::optional<SampledPairLink>(l);
}

Result<std::vector<DecisionCount>> SampledPairRepo::decision_counts(int64_t run_id) {
    MATRIX_TRY(Statement st, m_db.prepare("SELECT p.status, p.rejection_reason, count(*) FROM sampled_pairs s JOIN pairs p "
                                          "ON p.id=s.pair_id WHERE s.run_id=? GROUP BY p.status, p.rejection_reason "
                                          "ORDER BY p.status, p.rejection_reason"));
    st.bind_all(run_id);
    std::vector<DecisionCount> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        DecisionCount c;
        c.status = st.column_text(0);
        if (!st.column_is_null(1)) c.reason = st.column_text(1);
        c.count = st.column_int64(2);
        out.push_back(std::move(c));
    }
    return out;
}

Result<std::vector<int64_t>> SampledPairRepo::disagreements(const std::optional<int64_t>& run_id) {
    MATRIX_TRY(Statement st,
               m_db.prepare("SELECT p.id FROM sampled_pairs s JOIN pairs p ON p.id=s.pair_id WHERE (?1 IS NULL OR "
                            "s.run_id=?1) AND (p.status='rejected' OR EXISTS(SELECT 1 FROM pair_edits e WHERE "
                            "e.pair_id=p.id AND e.field='chosen_action' AND e.undone=0)) ORDER BY p.dataset_id, "
                            "p.ordinal, p.id"));
    st.bind_all(run_id);
    std::vector<int64_t> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        out.push_back(st.column_int64(0));
    }
    return out;
}

Result<std::vector<int64_t>> SampledPairRepo::runs_with_pairs() {
    MATRIX_TRY(Statement st, m_db.prepare("SELECT DISTINCT run_id FROM sampled_pairs WHERE run_id IS NOT NULL ORDER BY run_id DESC"));
    std::vector<int64_t> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        out.push_back(st.column_int64(0));
    }
    return out;
}

}  // namespace matrix::store
