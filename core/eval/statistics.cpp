// Statistics for comparing scored runs (Wilson and bootstrap intervals, McNemar) and the two-run comparison
// built on them: metrics with CIs, flips, groups (see statistics.h).
#include "core/eval/statistics.h"
#include "core/eval/report_text.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <sstream>

namespace matrix::eval {

Interval wilson_interval(int k, int n, double z) {
    if (n <= 0) return {0, 0};
    const double p = double(k) / n, z2 = z * z;
    const double denom = 1 + z2 / n;
    const double centre = (p + z2 / (2.0 * n)) / denom;
    const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / denom;
    return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

namespace {
using report::csv_field;
using report::csv_num;
using report::opt;

double percentile(std::vector<double>& v, double q) {  // linear interpolation, v sorted
    if (v.empty()) return 0;
    const double pos = q * double(v.size() - 1);
    const size_t lo = size_t(std::floor(pos)), hi = size_t(std::ceil(pos));
    return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

}  // namespace

Interval bootstrap_mean_interval(const std::vector<double>& values, int resamples, uint64_t seed) {
    if (values.empty()) return {0, 0};
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<size_t> pick(0, values.size() - 1);
    std::vector<double> means;
    means.reserve(size_t(resamples));
    for (int r = 0; r < resamples; ++r) {
        double s = 0;
        for (size_t i = 0; i < values.size(); ++i) s += values[pick(rng)];
        means.push_back(s / double(values.size()));
    }
    std::sort(means.begin(), means.end());
    return {percentile(means, 0.025), percentile(means, 0.975)};
}

double mcnemar_exact_p(int b, int c) {
    const int n = b + c;
    if (n == 0) return 1.0;
    const int k = std::min(b, c);
    // 2 * P(X <= k), X ~ Binomial(n, 1/2), in log space for large n.
    double sum = 0;
    for (int i = 0; i <= k; ++i) {
        sum += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) - n * std::log(2.0));
    }
    return std::min(1.0, 2 * sum);
}

const char* to_string(FlipKind k) {
    switch (k) {
        case FlipKind::only_a: return "only_a";
        case FlipKind::only_b: return "only_b";
        case FlipKind::both: return "both";
        case FlipKind::neither: return "neither";
        case FlipKind::unscored: return "unscored";
    }
    return "unscored";
}

// compare_runs is defined in compare_multi.cpp (the two-run projection of compare_many).

nlohmann::json Comparison::to_json(bool with_tasks) const {
    using nlohmann::json;
    json j;
    j["primary_metric"] = primary_metric;
    json m = json::array();
    for (const auto& r : metrics) {
        m.push_back({{"name", r.name}, {"a", opt(r.a)}, {"b", opt(r.b)}, {"diff", opt(r.diff)},
                     {"a_ci", opt(r.a_ci)}, {"b_ci", opt(r.b_ci)}, {"diff_ci", opt(r.diff_ci)},
                     {"ci_method", r.ci_method}});
    }
    j["metrics"] = m;
    j["flips"] = {{"only_a", only_a}, {"only_b", only_b}, {"both", both}, {"neither", neither},
                  {"paired", n_paired}, {"mcnemar_p", opt(mcnemar_p)}};
    json flip_ids = {{"only_a", json::array()}, {"only_b", json::array()}};
    for (const auto& t : tasks) {
        if (t.flip == FlipKind::only_a) flip_ids["only_a"].push_back(t.task_id);
        if (t.flip == FlipKind::only_b) flip_ids["only_b"].push_back(t.task_id);
    }
    j["flip_tasks"] = flip_ids;
    json g = json::array();
    for (const auto& r : groups) {
        g.push_back({{"group", r.group}, {"a", opt(r.a)}, {"b", opt(r.b)}, {"n_a", r.n_a}, {"n_b", r.n_b},
                     {"only_a", r.only_a}, {"only_b", r.only_b}});
    }
    j["groups"] = g;
    // Tasks a run did not score, by reason (GTA subjective / image generation: "needs embedding model").
    json ns = {{"a", json::object()}, {"b", json::object()}};
    for (const auto& p : tasks) {
        if (!p.a && !p.not_scored_a.empty() && p.not_scored_a != "not in this run") {
            ns["a"][p.not_scored_a] = ns["a"].value(p.not_scored_a, 0) + 1;
        }
        if (!p.b && !p.not_scored_b.empty() && p.not_scored_b != "not in this run") {
            ns["b"][p.not_scored_b] = ns["b"].value(p.not_scored_b, 0) + 1;
        }
    }
    j["not_scored"] = ns;
    if (with_tasks) {
        json t = json::array();
        for (const auto& p : tasks) {
            json row = {{"task_id", p.task_id}, {"group", p.group}, {"a", opt(p.a)}, {"b", opt(p.b)},
                        {"flip", to_string(p.flip)}};
            if (!p.a) row["not_scored_a"] = p.not_scored_a;
            if (!p.b) row["not_scored_b"] = p.not_scored_b;
            t.push_back(row);
        }
        j["tasks"] = t;
    }
    return j;
}

std::string Comparison::to_csv() const {
    std::ostringstream out;
    out << "metric,a,b,diff,a_ci_lo,a_ci_hi,b_ci_lo,b_ci_hi,diff_ci_lo,diff_ci_hi,ci_method\n";
    for (const auto& r : metrics) {
        auto lo = [](const std::optional<Interval>& i) { return i ? csv_num(i->lo) : std::string(); };
        auto hi = [](const std::optional<Interval>& i) { return i ? csv_num(i->hi) : std::string(); };
        out << csv_field(r.name) << ',' << csv_num(r.a) << ',' << csv_num(r.b) << ',' << csv_num(r.diff) << ','
            << lo(r.a_ci) << ',' << hi(r.a_ci) << ',' << lo(r.b_ci) << ',' << hi(r.b_ci) << ',' << lo(r.diff_ci)
            << ',' << hi(r.diff_ci) << ',' << r.ci_method << '\n';
    }
    out << "\ntask_id,group,score_a,score_b,flip\n";
    for (const auto& t : tasks) {
        out << csv_field(t.task_id) << ',' << csv_field(t.group) << ',' << csv_num(t.a) << ',' << csv_num(t.b) << ','
            << to_string(t.flip) << '\n';
    }
    return out.str();
}

}  // namespace matrix::eval
