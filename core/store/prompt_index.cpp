// See prompt_index.h.
#include "core/store/prompt_index.h"

#include <functional>

namespace matrix::store {

uint64_t PromptIndex::key_hash(std::optional<int64_t> system_prompt_id, const std::string& query, int n_images) {
    uint64_t h = std::hash<std::string>{}(query);
    for (int64_t v : {system_prompt_id.value_or(-1), int64_t(n_images)})
        h ^= std::hash<int64_t>{}(v) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h;
}

Result<PromptIndex> PromptIndex::build(Database& db, int64_t exclude_dataset_id) {
    PromptIndex index(db);
    MATRIX_TRY(Statement st, db.prepare("SELECT id, system_prompt_id, query, n_images FROM tasks "
                                        "WHERE dataset_id <> ? AND query <> '' ORDER BY id"));
    st.bind_all(exclude_dataset_id);
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        std::optional<int64_t> system;
        if (!st.column_is_null(1)) system = st.column_int64(1);
        index.m_by_hash.emplace(key_hash(system, st.column_text(2), st.column_int(3)), st.column_int64(0));
    }
    return index;
}

Result<std::optional<int64_t>> PromptIndex::find(std::optional<int64_t> system_prompt_id, const std::string& query,
                                                 int n_images) {
    auto [begin, end] = m_by_hash.equal_range(key_hash(system_prompt_id, query, n_images));
    if (begin == end) return std::optional<int64_t>();
    // Verify against the stored text (a hash collision must not attach pairs to a stranger's task); the lowest id wins.
    MATRIX_TRY(Statement * st, m_db->cached("SELECT 1 FROM tasks WHERE id = ? AND query = ? AND n_images = ? AND "
                                            "system_prompt_id IS ?"));
    std::optional<int64_t> best;
    for (auto it = begin; it != end; ++it) {
        if (best && it->second > *best) continue;
        st->bind_all(it->second, query, n_images, system_prompt_id);
        MATRIX_TRY(bool same, st->step());
        st->reset();
        if (same) best = it->second;
    }
    return best;
}

}  // namespace matrix::store
