// PromptIndex: finds the task that already holds a given prompt in the other datasets of a project. A prompt is
// the system prompt, the task text and the number of images: the first user turn itself is spelled differently
// by the formats (`Picture k: <img>PATH</img>` lines in M-TRACE, `<image>` placeholders in Pref-X, attachment path
// prefixes that differ), so it is compared after parsing, as TaskRepo stores it (tasks.query, tasks.n_images). Pref-X pairs are cut from M-TRACE trajectories, so when both are imported into one
// project the pairs belong on the M-TRACE task: the browser then shows one task with its trajectory and its pairs
// instead of a "twin" task per Pref-X prompt.
// Built once per import (one scan of tasks, 8 bytes of hash per task); hits are verified against the stored text.
// Thread safety: like Database (one thread per connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/store/database.h"

namespace matrix::store {

class PromptIndex {
public:
    // Indexes every task with a prompt outside `exclude_dataset_id` (the dataset being imported).
    static Result<PromptIndex> build(Database& db, int64_t exclude_dataset_id);

    // The first task (lowest id) with this system prompt, task text and image count, if any.
    Result<std::optional<int64_t>> find(std::optional<int64_t> system_prompt_id, const std::string& query, int n_images);

    size_t size() const { return m_by_hash.size(); }

private:
    explicit PromptIndex(Database& db) : m_db(&db) {}
    static uint64_t key_hash(std::optional<int64_t> system_prompt_id, const std::string& query, int n_images);

    Database* m_db;
    std::unordered_multimap<uint64_t, int64_t> m_by_hash;  // hash -> task ids, ascending
};

}  // namespace matrix::store
