// Tasks: the browsing unit of the workbench. Paged, filtered, sorted queries for the task browser (never load
// all rows: ask for a page with offset/limit and a count), single-task reads, and the insert used by importers.
// Thread safety: like Database (one thread per connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/database.h"

namespace matrix::store {

// One row of the task browser.
struct TaskSummary {
    int64_t id = 0;
    int64_t dataset_id = 0;
    std::string external_id;
    int64_t ordinal = 0;
    std::string query;
    std::string verdict;  // yes | no | unknown
    int n_steps = 0;
    int n_images = 0;
    int n_missing_media = 0;
    std::string tools;  // distinct tool names, space separated
    int pairs_pending = 0, pairs_approved = 0, pairs_rejected = 0;
};

// A whole task row.
struct Task {
    int64_t id = 0;
    int64_t dataset_id = 0;
    std::string record_key;
    std::string external_id;
    int64_t ordinal = 0;
    std::string query;
    std::optional<std::string> prompt_text;   // first user turn verbatim
    std::optional<std::string> answer;
    std::optional<std::string> ground_truth;  // JSON text
    std::string verdict = "unknown";
    std::optional<std::string> verifier_text;
    std::optional<std::string> source, level, category;
    std::optional<int64_t> system_prompt_id;
    int n_steps = 0, n_images = 0, n_missing_media = 0;
    std::string tools;
    std::optional<std::string> extra;  // JSON text
};

enum class TaskSort { Id, Ordinal, Query, Steps, Verdict, Images, MissingMedia, PairsPending, Relevance };

struct TaskFilter {
    std::optional<int64_t> dataset_id;
    std::string tool;                      // tasks whose steps call this tool ("" = any)
    std::optional<std::string> verdict;    // yes | no | unknown
    std::optional<int> min_steps, max_steps;
    std::optional<bool> has_missing_media;  // true: at least one linked file missing; false: none missing
    std::optional<bool> has_images;
    std::optional<std::string> pair_status;  // tasks having at least one pair with this status
    // Tasks having pairs in this dataset (a Pref-X / step-sampling dataset whose pairs may sit on the tasks of
    // another dataset, see ImportOptions::link_existing_tasks); combined with pair_status, a pair of that status.
    std::optional<int64_t> pairs_dataset_id;
    std::string text;                        // full-text search (words, all must match; word* = prefix)
    // Only these tasks (a drill-down from a count elsewhere, e.g. the synthesis pipeline); empty optional: any.
    std::optional<std::vector<int64_t>> task_ids;
};

struct TaskPageRequest {
    TaskSort sort = TaskSort::Ordinal;  // Relevance only makes sense with filter.text (falls back to Id)
    bool descending = false;
    int64_t offset = 0;
    int64_t limit = 100;
    // Sorted pages (not id / ordinal / relevance): work allowed to the ordered index scan, in thousands of
    // SQLite VM instructions, before falling back to sorting every match. -1: the default (a few ms, scaled
    // with the offset); 0: skip the scan. Only tests and benchmarks set it: both plans give the same rows.
    int64_t scan_budget = -1;
};

class TaskRepo {
public:
    explicit TaskRepo(Database& db) : m_db(db) {}

    Result<std::vector<TaskSummary>> page(const TaskFilter& filter, const TaskPageRequest& request);
    Result<int64_t> count(const TaskFilter& filter);
    Result<std::optional<Task>> get(int64_t id);
    Result<std::optional<int64_t>> find_by_key(int64_t dataset_id, const std::string& record_key);
    Result<std::optional<int64_t>> find_by_external_id(int64_t dataset_id, const std::string& external_id);
    Result<std::optional<std::string>> system_prompt(int64_t task_id);
    // Tasks of the pair datasets (Pref-X, beam) with the same query text as task `task_id` (its twins: a pair
    // dataset imported with --no-link, or before the M-TRACE data), by id, at most `limit`. The pair datasets'
    // tasks are few and the (dataset_id, ordinal) index keeps this off a scan of every task.
    Result<std::vector<int64_t>> pair_dataset_twins(int64_t task_id, const std::string& query, int limit = 20);
    // Next free ordinal in a dataset (max + 1).
    Result<int64_t> next_ordinal(int64_t dataset_id);

    // Inserts a task. The counters (n_images, n_missing_media, n_steps, tools) are taken from `t` as given:
    // trajectory_repo sets n_steps/tools when a primary trajectory is added, refresh_counters recomputes all
    // of them from the rows. With index_fts, the task's
    // full-text row is written (query only until a trajectory is added: trajectory_repo updates it).
    Result<int64_t> insert(const Task& t, bool index_fts = true);
    Status set_verdict(int64_t id, const std::string& verdict);
    // Recomputes n_steps / tools (primary trajectory) and n_images / n_missing_media (media links).
    Status refresh_counters(int64_t id);

private:
    // The browser rows of these tasks, in the order given (ids that do not exist are left out).
    Result<std::vector<TaskSummary>> summaries(const std::vector<int64_t>& ids);

    Database& m_db;
};

// The system_prompts row for this text (inserted once per distinct text, by SHA-256).
Result<int64_t> intern_system_prompt(Database& db, const std::string& text);
Result<std::optional<std::string>> system_prompt_text(Database& db, int64_t id);

}  // namespace matrix::store
