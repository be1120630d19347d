// Comparison of two or more scored runs of one benchmark against a chosen baseline run: every metric side by
// side with a 95% interval per run where the metric is a mean of per-task values, the difference to the
// baseline with a paired bootstrap interval, per-task outcomes (solved by all / none / only by one run /
// gained or lost against the baseline), McNemar per run against the baseline, per-group breakdowns, and the
// tasks each run did not score with the reason (e.g. GTA subjective items: "needs embedding model").
// The statistics are those of statistics.h (Wilson for 0/1 scores, seeded percentile bootstraps otherwise);
// the two-run Comparison of statistics.h is this comparison with run 0 as the baseline, projected.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/eval/statistics.h"
#include "core/eval/run_scoring.h"

namespace matrix::eval {

// One run's value of one metric.
struct RunMetricCell {
    std::optional<double> value;       // percent; absent when the run lacks the metric
    std::optional<Interval> ci;        // 95% interval of the value (only for means of per-task values)
    std::optional<double> diff;        // value - baseline value (absent for the baseline itself)
    std::optional<Interval> diff_ci;   // paired bootstrap over the tasks both have a per-task value for
};

struct MultiMetricRow {
    std::string name;
    std::string ci_method;              // "wilson" | "bootstrap" | "" (not a mean of per-task values)
    std::vector<RunMetricCell> runs;    // in the comparison's run order
};

struct MultiTask {
    std::string task_id;
    std::string group;
    std::vector<std::optional<double>> scores;  // per run
    std::vector<std::string> not_scored;        // per run: why there is no score ("" when scored)
    // Set when every run scored the task: bit i = run i solved it (score >= 0.5).
    std::optional<uint64_t> solved;
};

// Per-task outcome classes the task grid filters by. `run` is the run index for only_run / gained / lost.
enum class OutcomeKind { all_tasks, solved_by_all, solved_by_none, only_run, gained, lost, not_scored };
struct OutcomeFilter {
    OutcomeKind kind = OutcomeKind::all_tasks;
    int run = -1;
    // gained: run solved it and the baseline did not; lost: the other way round (both must be scored).
    bool matches(const MultiTask& t, size_t baseline) const;
};

// A run against the baseline over the tasks both scored.
struct VersusBaseline {
    int gained = 0, lost = 0, both = 0, neither = 0, n_paired = 0;
    std::optional<double> mcnemar_p;  // exact, when scores are 0/1
};

struct MultiGroupRow {
    std::string group;
    std::vector<std::optional<double>> values;   // primary metric within the group (percent), per run
    std::vector<std::optional<Interval>> cis;    // per run
    std::vector<int> n;                          // scored tasks per run
    std::vector<int> gained, lost;               // per run against the baseline (0 for the baseline)
};

struct MultiComparison {
    std::vector<std::string> run_labels;
    size_t baseline = 0;
    std::string primary_metric;
    std::vector<MultiMetricRow> metrics;   // primary first, then the others in name order
    std::vector<MultiTask> tasks;          // union; run 0's order first, then each further run's new tasks
    std::vector<MultiGroupRow> groups;     // by name
    std::vector<VersusBaseline> versus;    // per run (the baseline's entry is all zero)
    int n_complete = 0;                    // tasks scored by every run
    int solved_by_all = 0, solved_by_none = 0;
    std::vector<int> solved_only_by;       // per run
    std::vector<std::vector<std::string>> notes;  // per run: what its scorer left out and why

    size_t n_runs() const { return run_labels.size(); }
    // Label of a task's outcome: "solved by all", "solved by none", "only <label>", "solved by 2 of 3",
    // "not scored (needs embedding model)" ...
    std::string outcome_label(const MultiTask& t) const;
    // Not-scored tasks per run and reason: run index -> reason -> count.
    std::vector<std::map<std::string, int>> not_scored_counts() const;

    nlohmann::json to_json(bool with_tasks = true) const;
    // CSV: a metrics section (metric, ci_method, then per run value, ci_lo, ci_hi, diff, diff_ci_lo,
    // diff_ci_hi), a blank line, a per-task section (task_id, group, a score per run, outcome), a blank
    // line, a per-group section (group, per run value and n).
    std::string to_csv() const;
};

// `labels` name the runs in output (defaults "run 1", "run 2", ...). Needs at least two runs.
Result<MultiComparison> compare_many(const std::vector<RunScore>& runs, size_t baseline = 0,
                                     std::vector<std::string> labels = {});

}  // namespace matrix::eval
