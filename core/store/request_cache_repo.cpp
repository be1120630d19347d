// request_cache rows (see request_cache_repo.h).
#include "core/store/request_cache_repo.h"

namespace matrix::store {

Result<std::unique_ptr<RequestCacheRepo>> RequestCacheRepo::open(const std::string& project_path) {
    auto project = Project::open(project_path);
    if (!project.ok()) return project.error().within("request cache");
    return std::unique_ptr<RequestCacheRepo>(
        new RequestCacheRepo(std::make_unique<Project>(std::move(project.value()))));
}

Result<std::optional<std::string>> RequestCacheRepo::find(const std::string& key) {
    std::lock_guard<std::mutex> lock(m_mutex);
    MATRIX_TRY(Statement * st, m_db->cached("SELECT response FROM request_cache WHERE key=?"));
    st->bind(1, key);
    auto row = st->step();
    if (!row.ok()) {
        st->reset();
        return row.error();
    }
    std::optional<std::string> out;
    if (row.value()) out = st->column_text(0);
    st->reset();
    return out;
}

Status RequestCacheRepo::put(const net::RequestCacheEntry& e) {
    std::lock_guard<std::mutex> lock(m_mutex);
    MATRIX_TRY(Statement * st, m_db->cached("INSERT OR IGNORE INTO request_cache(key, endpoint, model, request, response, "
                                            "created_at) VALUES(?, ?, ?, ?, ?, ?)"));
    st->bind_all(e.key, e.endpoint, e.model, e.request, e.response, now_iso8601());
    return st->run();
}

Result<std::optional<RequestCacheRow>> RequestCacheRepo::get(const std::string& key) {
    std::lock_guard<std::mutex> lock(m_mutex);
    MATRIX_TRY(Statement st, m_db->prepare("SELECT key, endpoint, model, request, response, created_at FROM "
                                           "request_cache WHERE key=?"));
    st.bind(1, key);
    MATRIX_TRY(bool row, st.step());
    if (!row) return std::optional<RequestCacheRow>();
    return std::optional<RequestCacheRow>(RequestCacheRow{st.column_text(0), st.column_text(1), st.column_text(2),
                                                          st.column_text(3), st.column_text(4), st.column_text(5)});
}

Result<int64_t> RequestCacheRepo::count() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_db->query_int64("SELECT count(*) FROM request_cache");
}

Result<int64_t> RequestCacheRepo::clear(const std::string& endpoint) {
    std::lock_guard<std::mutex> lock(m_mutex);
    MATRIX_TRY(Statement st, m_db->prepare(endpoint.empty() ? "DELETE FROM request_cache"
                                                            : "DELETE FROM request_cache WHERE endpoint=?"));
    if (!endpoint.empty()) st.bind(1, endpoint);
    MATRIX_CHECK(st.run());
    return m_db->changes();
}

}  // namespace matrix::store
