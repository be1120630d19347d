// Provenance links between store objects: pair -> dataset -> run -> checkpoint, adapter file -> run, run -> run.
// A generic directed edge (from kind/id, to kind/id, relation) so training and evaluation can record what
// they used and produced without schema changes. Kinds: dataset | task | pair | run | checkpoint | file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/store/database.h"

namespace matrix::store {

struct ProvenanceLink {
    int64_t id = 0;
    std::string from_kind;
    int64_t from_id = 0;
    std::string to_kind;
    int64_t to_id = 0;
    std::string relation;  // e.g. "trained_on" (run -> dataset), "produced" (run -> checkpoint), "member_of"
    std::string created_at;
};

class ProvenanceRepo {
public:
    explicit ProvenanceRepo(Database& db) : m_db(db) {}
    // Adds the link (no-op when the same link exists). Returns its id.
    Result<int64_t> link(const std::string& from_kind, int64_t from_id, const std::string& to_kind, int64_t to_id,
                         const std::string& relation);
    Result<std::vector<ProvenanceLink>> from(const std::string& kind, int64_t id);  // outgoing edges
    Result<std::vector<ProvenanceLink>> to(const std::string& kind, int64_t id);    // incoming edges

private:
    Database& m_db;
};

}  // namespace matrix::store
