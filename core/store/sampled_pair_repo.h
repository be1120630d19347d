// Links of sampled Pref-X pairs (schema 8, table sampled_pairs): the sampling run, the step record the pair was
// cut from (its candidates in step_candidates), the rejected and chosen candidates, the verifier's reason and the
// rule that kept the rejected candidate; and the curation views over them: the "verifier vs you" queue (pairs
// whose user decision disagrees with the verifier: rejected, or chosen/rejected swapped or the chosen edited) and
// per-run counts of decisions by reason.
// Thread safety: like Database (one thread per connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/database.h"

namespace matrix::store {

struct SampledPairLink {
    int64_t pair_id = 0;
    std::optional<int64_t> run_id, step_id;
    int candidate = 0;         // the rejected candidate's position in the step
    int chosen_candidate = 0;  // the verifier's choice
    std::optional<std::string> verifier_reason;
    std::string rule;          // "bleu" | "error"
    double bleu = 0;
};

// One row of a run's decision counts: status (pending, approved, rejected) and rejection reason (nullopt: none).
struct DecisionCount {
    std::string status;
    std::optional<std::string> reason;
    int64_t count = 0;
};

class SampledPairRepo {
public:
    explicit SampledPairRepo(Database& db) : m_db(db) {}
    Status insert(const SampledPairLink& link);
    Result<std::optional<SampledPairLink>> get(int64_t pair_id);
    // Decisions on the run's pairs, by status then reason (NULL reasons first).
    Result<std::vector<DecisionCount>> decision_counts(int64_t run_id);
    // The "verifier vs you" queue: sampled pairs (of one run, or all) that the user rejected, or whose chosen
    // action the user changed (a swap or an edit not undone), by pair ordinal.
    Result<std::vector<int64_t>> disagreements(const std::optional<int64_t>& run_id = std::nullopt);
    // Sampling runs that have pairs, newest first.
    Result<std::vector<int64_t>> runs_with_pairs();

private:
    Database& m_db;
};

}  // namespace matrix::store
