// Datasets: a named collection of tasks and/or pairs of one kind (an M-TRACE file, a Pref-X file, step-sampling
// folders, a benchmark, the demo). Every task and pair belongs to exactly one dataset.
// Thread safety: like Database (one thread per connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/database.h"

namespace matrix::store {

struct Dataset {
    int64_t id = 0;
    std::string name;
    std::string kind;  // mtrace | prefx | beam | gta | gaia | agentx | demo | adhoc (typed-in agent tasks)
    std::string source_path;
    std::vector<std::string> image_roots;
    std::string description;
    std::string meta = "{}";  // JSON text
    std::string created_at;
};

struct DatasetCounts {
    int64_t tasks = 0, trajectories = 0, pairs = 0, pairs_pending = 0, pairs_approved = 0, pairs_rejected = 0;
};

class DatasetRepo {
public:
    explicit DatasetRepo(Database& db) : m_db(db) {}

    // Inserts; fails when the name exists. Returns the new id.
    Result<int64_t> create(const Dataset& d);
    // The dataset with this name, created with `kind` when absent. Error when it exists with another kind.
    Result<Dataset> find_or_create(const std::string& name, const std::string& kind,
                                   const std::string& source_path = {});
    Result<std::optional<Dataset>> find(const std::string& name);
    Result<std::optional<Dataset>> get(int64_t id);
    Result<std::vector<Dataset>> list();  // by id
    Result<DatasetCounts> counts(int64_t id);
    Status set_image_roots(int64_t id, const std::vector<std::string>& roots);
    Status set_meta(int64_t id, const std::string& meta_json);
    // Deletes the dataset with its tasks, trajectories, pairs (and their full-text rows), in one transaction.
    Status remove(int64_t id);

private:
    Database& m_db;
};

bool is_valid_dataset_kind(const std::string& kind);

}  // namespace matrix::store
