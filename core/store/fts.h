// Full-text search over tasks: one FTS5 row per task (rowid = task id) with columns query, thoughts, code,
// observations taken from the task and its primary trajectory. The FTS table is contentless (the text already
// lives in tasks/steps), so a row can only be removed with the exact values it was indexed with: every change
// to a task's query or its primary trajectory's steps goes through fts_remove_task / fts_index_task (the repos
// do this; nothing else writes task_fts).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/store/database.h"

namespace matrix::store {

// The indexed text of one task. Thoughts / code / observations of the steps are joined with '\n' in step order.
struct FtsDoc {
    std::string query, thoughts, code, observations;
    void add_step(std::string_view thought, std::string_view code_text, std::string_view observation);
};

// The document for a task as the database holds it now (task query + primary trajectory's steps).
Result<FtsDoc> fts_doc_for_task(Database& db, int64_t task_id);
// The primary trajectory of a task: its first trajectory not produced by a run (lowest id); 0 when none.
Result<int64_t> primary_trajectory_id(Database& db, int64_t task_id);

Status fts_insert(Database& db, int64_t task_id, const FtsDoc& doc);
Status fts_delete(Database& db, int64_t task_id, const FtsDoc& indexed_doc);
// Re-reads the task and (re)indexes it; `old_doc` is what it was indexed with (nullptr: not indexed yet).
Status fts_reindex_task(Database& db, int64_t task_id, const FtsDoc* old_doc);
// Removes a task's row, reading the indexed values from the current database state.
Status fts_remove_task(Database& db, int64_t task_id);
// Drops and rebuilds the whole index from tasks/steps (migration back-fill, repair).
Status fts_rebuild(Database& db);

// Turns what a user typed into an FTS5 query: each word becomes a quoted term (so punctuation and FTS syntax
// characters are literal), all terms must match; a trailing '*' on a word keeps prefix matching.
// Returns "" for input without any word.
std::string fts_query_from_text(std::string_view text);

}  // namespace matrix::store
