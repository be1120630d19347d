// Side-by-side comparison of two scored runs of the same benchmark: metrics with confidence intervals,
// per-task flips, per-group breakdowns. Confidence intervals (95%):
//  - a run's primary metric: Wilson score interval when every per-task score is 0/1, else a percentile
//    bootstrap of the mean (2000 resamples, fixed seed, so results are reproducible);
//  - the difference B - A: paired percentile bootstrap over the tasks scored in both runs (2000 resamples,
//    fixed seed), plus McNemar's exact two-sided p-value from the discordant pairs when scores are 0/1.
// A task counts as solved when its score is >= 0.5 (for 0/1 scores: correct).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/eval/run_scoring.h"

namespace matrix::eval {

struct Interval {
    double lo = 0, hi = 0;  // same unit as the metric (percent)
};

Interval wilson_interval(int successes, int n, double z = 1.959963984540054);  // as fractions in [0, 1]
Interval bootstrap_mean_interval(const std::vector<double>& values, int resamples = 2000, uint64_t seed = 20240601);
double mcnemar_exact_p(int only_a, int only_b);

struct MetricRow {
    std::string name;
    std::optional<double> a, b;         // absent when a run lacks the metric
    std::optional<double> diff;         // b - a
    std::optional<Interval> a_ci, b_ci, diff_ci;
    std::string ci_method;              // "wilson" | "bootstrap" | "" (no per-task scores behind it)
};

enum class FlipKind { only_a, only_b, both, neither, unscored };
const char* to_string(FlipKind k);  // "only_a" ...

struct TaskPair {
    std::string task_id;
    std::string group;
    std::optional<double> a, b;
    FlipKind flip = FlipKind::unscored;
    std::string not_scored_a, not_scored_b;  // why a run has no score ("needs embedding model", ...), else ""
};

struct GroupRow {
    std::string group;
    std::optional<double> a, b;  // primary metric (percent) within the group
    int n_a = 0, n_b = 0;
    int only_a = 0, only_b = 0;
};

struct Comparison {
    std::string primary_metric;
    std::vector<MetricRow> metrics;   // primary first, then the other metrics in name order
    std::vector<TaskPair> tasks;      // union of both runs' tasks, A's order first
    std::vector<GroupRow> groups;
    int only_a = 0, only_b = 0, both = 0, neither = 0, n_paired = 0;
    std::optional<double> mcnemar_p;

    nlohmann::json to_json(bool with_tasks = true) const;
    // CSV: a metrics section then a per-task section (task_id, group, score_a, score_b, flip).
    std::string to_csv() const;
};

// The two-run comparison (A is the baseline); defined with compare_many (compare_multi.h).
Comparison compare_runs(const RunScore& a, const RunScore& b);

}  // namespace matrix::eval
