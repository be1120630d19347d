// Project file: open + migrate, and the settings table (see project.h).
#include "core/store/project.h"

#include <nlohmann/json.hpp>

#include "core/store/migrations.h"

namespace matrix::store {

Result<Project> Project::open(const std::string& path, const OpenOptions& options) {
    MATRIX_TRY(Database db, Database::open(path, options));
    if (!options.read_only) {
        if (auto s = migrate(db); !s.ok()) return s.error().within("opening project " + path);
    } else if (db.user_version() != current_schema_version()) {
        return make_error("read-only project has schema version " + std::to_string(db.user_version()) +
                              ", this build needs " + std::to_string(current_schema_version()),
                          path);
    }
    return Project(std::move(db));
}

Result<std::optional<std::string>> Project::setting(const std::string& key) {
    MATRIX_TRY(Statement * st, m_db.cached("SELECT value FROM settings WHERE key=?"));
    st->bind(1, key);
    MATRIX_TRY(bool row, st->step());
    std::optional<std::string> v;
    if (row) v = st->column_text(0);
    st->reset();
    return v;
}

Status Project::set_setting(const std::string& key, const std::string& json_value) {
    if (!nlohmann::json::accept(json_value)) return make_error("setting value is not JSON", key);
    MATRIX_TRY(Statement * st, m_db.cached("INSERT INTO settings(key, value) VALUES(?,?) "
                                           "ON CONFLICT(key) DO UPDATE SET value=excluded.value"));
    st->bind_all(key, json_value);
    return st->run();
}

Result<std::vector<std::string>> Project::image_roots() {
    MATRIX_TRY(auto v, setting("image_roots"));
    std::vector<std::string> roots;
    if (!v) return roots;
    auto j = nlohmann::json::parse(*v, nullptr, false);
    if (j.is_array())
        for (auto& e : j)
            if (e.is_string()) roots.push_back(e.get<std::string>());
    return roots;
}

Status Project::set_image_roots(const std::vector<std::string>& roots) {
    return set_setting("image_roots", nlohmann::json(roots).dump());
}

}  // namespace matrix::store
