// Run comparison: metrics with CIs, flips, groups (see compare.h for the statistics used).
#include "core/bench/compare.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <sstream>

namespace matrix::bench {

Interval wilson_interval(int k, int n, double z) {
    if (n <= 0) return {0, 0};
    const double p = double(k) / n, z2 = z * z;
    const double denom = 1 + z2 / n;
    const double centre = (p + z2 / (2.0 * n)) / denom;
    const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / denom;
    return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

namespace {

double percentile(std::vector<double>& v, double q) {  // linear interpolation, v sorted
    if (v.empty()) return 0;
    const double pos = q * double(v.size() - 1);
    const size_t lo = size_t(std::floor(pos)), hi = size_t(std::ceil(pos));
    return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

bool all_binary(const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [](double x) { return x == 0.0 || x == 1.0; });
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

Comparison compare_runs(const RunScore& a, const RunScore& b) {
    Comparison c;
    c.primary_metric = a.primary_metric;

    // Tasks: union, A's order first.
    std::map<std::string, size_t> index;
    for (const auto& t : a.tasks) {
        index[t.task_id] = c.tasks.size();
        c.tasks.push_back({t.task_id, t.group, t.score, std::nullopt, FlipKind::unscored});
    }
    for (const auto& t : b.tasks) {
        auto it = index.find(t.task_id);
        if (it == index.end()) {
            index[t.task_id] = c.tasks.size();
            c.tasks.push_back({t.task_id, t.group, std::nullopt, t.score, FlipKind::unscored});
        } else {
            c.tasks[it->second].b = t.score;
            if (c.tasks[it->second].group.empty()) c.tasks[it->second].group = t.group;
        }
    }
    std::vector<double> paired_a, paired_b;
    for (auto& t : c.tasks) {
        if (!t.a || !t.b) continue;
        const bool sa = *t.a >= 0.5, sb = *t.b >= 0.5;
        t.flip = sa && sb ? FlipKind::both : sa ? FlipKind::only_a : sb ? FlipKind::only_b : FlipKind::neither;
        ++c.n_paired;
        paired_a.push_back(*t.a);
        paired_b.push_back(*t.b);
        switch (t.flip) {
            case FlipKind::both: ++c.both; break;
            case FlipKind::only_a: ++c.only_a; break;
            case FlipKind::only_b: ++c.only_b; break;
            default: ++c.neither;
        }
    }

    // Primary metric from per-task scores, with intervals.
    auto scores_of = [](const RunScore& r) {
        std::vector<double> v;
        for (const auto& t : r.tasks) {
            if (t.score) v.push_back(*t.score);
        }
        return v;
    };
    const std::vector<double> sa = scores_of(a), sb = scores_of(b);
    const bool binary = all_binary(sa) && all_binary(sb);
    auto ci = [&](const std::vector<double>& v) -> std::optional<Interval> {
        if (v.empty()) return std::nullopt;
        if (binary) {
            int k = 0;
            for (double x : v) k += x == 1.0;
            const Interval w = wilson_interval(k, int(v.size()));
            return Interval{w.lo * 100, w.hi * 100};
        }
        const Interval iv = bootstrap_mean_interval(v);
        return Interval{iv.lo * 100, iv.hi * 100};
    };
    MetricRow primary;
    primary.name = c.primary_metric;
    primary.ci_method = binary ? "wilson" : "bootstrap";
    auto metric_or_mean = [&](const RunScore& r, const std::vector<double>& v) -> std::optional<double> {
        auto it = r.metrics.find(r.primary_metric);
        if (it != r.metrics.end()) return it->second;
        if (v.empty()) return std::nullopt;
        double s = 0;
        for (double x : v) s += x;
        return s / double(v.size()) * 100;
    };
    primary.a = metric_or_mean(a, sa);
    primary.b = metric_or_mean(b, sb);
    primary.a_ci = ci(sa);
    primary.b_ci = ci(sb);
    if (primary.a && primary.b) primary.diff = *primary.b - *primary.a;
    if (!paired_a.empty()) {
        std::vector<double> d(paired_a.size());
        for (size_t i = 0; i < d.size(); ++i) d[i] = paired_b[i] - paired_a[i];
        const Interval iv = bootstrap_mean_interval(d);
        primary.diff_ci = Interval{iv.lo * 100, iv.hi * 100};
    }
    c.metrics.push_back(primary);
    if (binary && c.n_paired) c.mcnemar_p = mcnemar_exact_p(c.only_a, c.only_b);

    std::set<std::string> names;
    for (const auto& [k, v] : a.metrics) names.insert(k);
    for (const auto& [k, v] : b.metrics) names.insert(k);
    names.erase(c.primary_metric);
    for (const auto& n : names) {
        MetricRow row;
        row.name = n;
        if (auto it = a.metrics.find(n); it != a.metrics.end()) row.a = it->second;
        if (auto it = b.metrics.find(n); it != b.metrics.end()) row.b = it->second;
        if (row.a && row.b) row.diff = *row.b - *row.a;
        c.metrics.push_back(row);
    }

    // Groups.
    std::map<std::string, GroupRow> groups;
    std::vector<std::string> order;
    auto group_acc = [&](const RunScore& r, bool is_a) {
        std::map<std::string, std::pair<double, int>> acc;
        for (const auto& t : r.tasks) {
            if (!t.score) continue;
            acc[t.group].first += *t.score;
            acc[t.group].second += 1;
        }
        for (const auto& [g, s] : acc) {
            if (!groups.count(g)) order.push_back(g);
            auto& row = groups[g];
            row.group = g;
            (is_a ? row.a : row.b) = s.first / s.second * 100;
            (is_a ? row.n_a : row.n_b) = s.second;
        }
    };
    group_acc(a, true);
    group_acc(b, false);
    for (const auto& t : c.tasks) {
        if (!groups.count(t.group)) continue;
        if (t.flip == FlipKind::only_a) groups[t.group].only_a++;
        if (t.flip == FlipKind::only_b) groups[t.group].only_b++;
    }
    std::sort(order.begin(), order.end());
    for (const auto& g : order) c.groups.push_back(groups[g]);
    return c;
}

namespace {
nlohmann::json opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }
nlohmann::json opt(const std::optional<Interval>& v) {
    return v ? nlohmann::json::array({v->lo, v->hi}) : nlohmann::json();
}
std::string csv_num(const std::optional<double>& v) {
    if (!v) return "";
    std::ostringstream s;
    s.precision(10);
    s << *v;
    return s.str();
}
std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"') out += "\"\"";
        else out.push_back(ch);
    }
    return out + "\"";
}
}  // namespace

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
    if (with_tasks) {
        json t = json::array();
        for (const auto& p : tasks) {
            t.push_back({{"task_id", p.task_id}, {"group", p.group}, {"a", opt(p.a)}, {"b", opt(p.b)},
                         {"flip", to_string(p.flip)}});
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

}  // namespace matrix::bench
