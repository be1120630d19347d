// A project = one SQLite file holding datasets, tasks, trajectories, pairs and runs. Project::open creates the
// file when absent and applies the schema migrations (migrations.h), so every caller sees the current schema.
// Thread safety: a Project owns one connection: use it from one thread; open another Project on the same path
// in each worker thread (WAL mode lets them read while one of them writes).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/store/database.h"

namespace matrix::store {

class Project {
public:
    // Opens (creating when absent unless options.create is false) and migrates. ":memory:" works for tests.
    static Result<Project> open(const std::string& path, const OpenOptions& options = {});

    Project(Project&&) noexcept = default;
    Project& operator=(Project&&) noexcept = default;

    Database& db() { return m_db; }
    const std::string& path() const { return m_db.path(); }

    // Project settings (key -> JSON text). Known keys: "image_roots" (JSON array of directories).
    Result<std::optional<std::string>> setting(const std::string& key);
    Status set_setting(const std::string& key, const std::string& json_value);
    Result<std::vector<std::string>> image_roots();
    Status set_image_roots(const std::vector<std::string>& roots);

private:
    explicit Project(Database db) : m_db(std::move(db)) {}
    Database m_db;
};

}  // namespace matrix::store
