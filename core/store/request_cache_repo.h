// The project's request cache (table request_cache, migration 6): chat endpoint replies by request key, so an
// interrupted evaluation or sampling job that runs again gets the same answers without new HTTP calls. It
// implements net::RequestCache for ChatClient.
// Thread safety: a ChatClient calls it from several threads; every call holds the repo's mutex. A repo made by
// open() owns its own connection to the project file (WAL: the other connections keep working); one made over
// a borrowed Database requires that nothing else uses that Database while the client runs.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/net/request_cache.h"
#include "core/store/database.h"
#include "core/store/project.h"

namespace matrix::store {

struct RequestCacheRow {
    std::string key, endpoint, model, request, response, created_at;
};

class RequestCacheRepo : public net::RequestCache {
public:
    // Over a connection the caller keeps open (tests, single-threaded tools).
    explicit RequestCacheRepo(Database& db) : m_db(&db) {}
    // Over a new connection to the project file (created and migrated like Project::open).
    static Result<std::unique_ptr<RequestCacheRepo>> open(const std::string& project_path);

    Result<std::optional<std::string>> find(const std::string& key) override;
    Status put(const net::RequestCacheEntry& entry) override;

    Result<std::optional<RequestCacheRow>> get(const std::string& key);
    Result<int64_t> count();
    // Deletes every entry (or those of one endpoint when given): to ask the endpoint again.
    Result<int64_t> clear(const std::string& endpoint = {});

private:
    explicit RequestCacheRepo(std::unique_ptr<Project> owned) : m_owned(std::move(owned)), m_db(&m_owned->db()) {}
    std::unique_ptr<Project> m_owned;
    Database* m_db;
    std::mutex m_mutex;
};

}  // namespace matrix::store
