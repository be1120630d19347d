// Preference pairs (Pref-X): a shared prefix (system prompt + images + history up to step k, stored once per
// distinct prefix; since schema 7 the history is stored as the task turn and steps, see PairPrefix), a chosen and a rejected next action each with its observation, and the curation state
// (status, rejection reason, note). Every change made through this repo is written to pair_edits in the same
// transaction (field, old, new, time), grouped per user action, so the GUI can show history and undo.
// Thread safety: like Database (one thread per connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/store/database.h"
#include "core/store/trajectory_repo.h"

namespace matrix::store {

struct PairPrefix {
    int64_t id = 0;
    std::string sha256;
    std::optional<int64_t> system_prompt_id;
    std::string images = "[]";   // JSON array of paths as written
    std::string history = "[]";  // JSON array of ShareGPT turns {"from","value"}; ends with a human turn
    // The history as stored since schema 7: the task turn (history[0].value) and one step per (gpt, human)
    // pair of turns (table pair_prefix_steps), when these give back `history` byte for byte
    // (conversation::prefx_steps_of_history_text); nullopt / empty for a history kept as text only (one the
    // steps cannot reproduce, or a project before schema 7). prefix() fills both forms; intern_prefix()
    // reads only `history` and makes the steps itself.
    std::optional<std::string> task_turn;
    std::vector<Step> steps;  // idx, action, thought, code, observation(_raw), is_error, is_final
};

struct Pair {
    int64_t id = 0;
    int64_t dataset_id = 0;
    int64_t prefix_id = 0;
    std::optional<int64_t> task_id;
    int step_index = 0;
    std::string record_key;
    int64_t ordinal = 0;
    std::string chosen_action;
    std::optional<std::string> chosen_observation;
    std::string rejected_action;
    std::optional<std::string> rejected_observation;
    std::string status = "pending";  // pending | approved | rejected
    std::optional<std::string> rejection_reason;
    std::optional<std::string> note;
    std::string origin = "imported";  // imported | sampled | hand-made
    std::optional<std::string> extra;  // JSON text
    std::string created_at, updated_at;
};

struct PairFilter {
    std::optional<int64_t> dataset_id;
    std::optional<int64_t> task_id;
    std::optional<int> step_index;
    std::optional<std::string> status;
    std::optional<std::string> origin;
};

struct PairEdit {
    int64_t id = 0;
    int64_t pair_id = 0;
    int64_t group_id = 0;  // edits of one user action (a swap changes four fields) share it
    std::string field;
    std::optional<std::string> old_value, new_value;
    std::string at;
    bool undone = false;
};

// The rejection reasons the curation pane offers as presets (so reasons can be counted); any other text is
// accepted too.
const std::vector<std::string>& rejection_reasons();

class PairRepo {
public:
    explicit PairRepo(Database& db) : m_db(db) {}

    // The prefix row for this content (hash of system prompt id + images + history), inserted when new.
    Result<int64_t> intern_prefix(const PairPrefix& p);
    Result<std::optional<PairPrefix>> prefix(int64_t id);

    // Inserts a pair (no edit history: creation is not an edit). Returns its id.
    Result<int64_t> insert(const Pair& p);
    Result<std::optional<Pair>> get(int64_t id);
    Result<std::optional<int64_t>> find_by_key(int64_t dataset_id, const std::string& record_key);
    // By dataset then ordinal. limit < 0: all.
    Result<std::vector<Pair>> list(const PairFilter& filter, int64_t offset = 0, int64_t limit = -1);
    Result<int64_t> count(const PairFilter& filter);
    // The curation queue's index: every pair of a dataset (all datasets when absent) by dataset then ordinal,
    // with only what the queue needs per row.
    struct QueueRow {
        int64_t id = 0;
        std::string status;
        int64_t task_id = 0;  // 0 when the pair has no task
        int step_index = 0;
    };
    Result<std::vector<QueueRow>> queue(const std::optional<int64_t>& dataset_id);
    // (step_index, number of pairs) of one task's pairs, by step.
    Result<std::vector<std::pair<int, int64_t>>> count_by_step(int64_t task_id);

    // Curation. Each call is one transaction and one edit group; a call that changes nothing writes nothing.
    // Setting status to "approved" or "pending" keeps the reason; set_status(id, "rejected", reason) sets both.
    Status set_status(int64_t id, const std::string& status,
                      const std::optional<std::string>& rejection_reason = std::nullopt);
    Status set_rejection_reason(int64_t id, const std::optional<std::string>& reason);
    Status set_note(int64_t id, const std::optional<std::string>& note);
    Status swap(int64_t id);  // chosen <-> rejected (actions and observations)
    Status edit_chosen(int64_t id, const std::string& action,
                       const std::optional<std::optional<std::string>>& observation = std::nullopt);
    // Generic: sets several fields at once (names as in the pairs table: status, rejection_reason, note,
    // chosen_action, chosen_observation, rejected_action, rejected_observation) as one edit group.
    Status update(int64_t id, const std::vector<std::pair<std::string, std::optional<std::string>>>& fields);

    Result<std::vector<PairEdit>> history(int64_t pair_id);  // oldest first
    // Undoes the most recent edit group not undone yet (within a dataset when given): restores the old values
    // and marks the edits undone. Returns the pair id, nullopt when there is nothing to undo.
    Result<std::optional<int64_t>> undo_last(const std::optional<int64_t>& dataset_id = std::nullopt);
    // Redoes the most recently undone group, if no newer edit was made since. Returns the pair id.
    Result<std::optional<int64_t>> redo_last(const std::optional<int64_t>& dataset_id = std::nullopt);

private:
    bool has_prefix_steps();  // the project is at schema 7 or later (table pair_prefix_steps)
    Status apply_group(int64_t id, const std::vector<std::pair<std::string, std::optional<std::string>>>& fields);
    Database& m_db;
    std::optional<bool> m_has_prefix_steps;
};

// Migration 7's back-fill: every prefix kept as history text that steps reproduce exactly gets its task turn
// and steps, and its history text is emptied (prefix() rebuilds it). Others stay as they are.
Status store_pair_histories_as_steps(Database& db);

}  // namespace matrix::store
