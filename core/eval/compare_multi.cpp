// Comparison of N runs against a baseline (see compare_multi.h); compare_runs (statistics.h) is its two-run
// projection, so both give the same numbers.
#include "core/eval/compare_multi.h"
#include "core/eval/report_text.h"

#include "core/eval/gta_metrics.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <map>
#include <set>
#include <sstream>

namespace matrix::eval {

namespace {
using report::csv_field;
using report::csv_num;
using report::opt;

using TaskValues = std::map<std::string, double>;  // task id -> per-task value in [0, 1]

bool all_binary(const std::vector<TaskValues>& per_run) {
    for (const auto& m : per_run) {
        for (const auto& [k, v] : m) {
            if (v != 0.0 && v != 1.0) return false;
        }
    }
    return true;
}

// The per-task values a metric is the mean of (times 100), or nullopt when it is not such a mean.
//  - the primary metric: the per-task scores;
//  - GAIA "accuracy_l<N>": the scores of the tasks in group "level N";
//  - "judge_<metric>" (Agent-X): the judge's per-task verdicts.
std::optional<TaskValues> per_task_values(const RunScore& r, const std::string& metric) {
    TaskValues out;
    if (metric == r.primary_metric) {
        for (const auto& t : r.tasks) {
            if (t.score) out[t.task_id] = *t.score;
        }
        return out;
    }
    if (r.primary_metric == "accuracy" && metric.rfind("accuracy_l", 0) == 0 && metric.size() > 10) {
        const std::string group = "level " + metric.substr(10);
        for (const auto& t : r.tasks) {
            if (t.score && t.group == group) out[t.task_id] = *t.score;
        }
        return out;
    }
    if (metric.rfind("judge_", 0) == 0) {
        for (const auto& t : r.tasks) {
            auto it = t.detail.find(metric);
            if (it != t.detail.end() && it->is_number()) out[t.task_id] = it->get<double>();
        }
        return out;
    }
    return std::nullopt;
}

// GTA's category F1s ("p_f1", "o_f1", "l_f1", "c_f1") are ratios of counts summed over the items, not means:
// their intervals come from resampling the items and recomputing the F1 from the per-task counts the
// official scorer records (detail "tool_counted", "tool_hit_<category>", "tool_gold_...", "tool_pred_...").
struct ToolCounts {
    double hit = 0, gold = 0, pred = 0;
};
using TaskCounts = std::map<std::string, ToolCounts>;

std::optional<TaskCounts> per_task_tool_counts(const RunScore& r, const std::string& metric) {
    if (metric.size() != 4 || metric.compare(1, 3, "_f1") != 0) return std::nullopt;
    TaskCounts out;
    for (const auto& t : r.tasks) {
        if (!t.detail.is_object() || !t.detail.value("tool_counted", false)) continue;
        ToolCounts c;
        for (auto it = t.detail.begin(); it != t.detail.end(); ++it) {
            const std::string& key = it.key();
            auto take = [&](const char* prefix, double& sum) {
                const size_t n = std::strlen(prefix);
                if (key.size() > n && key.compare(0, n, prefix) == 0 && key[n] == metric[0] && it->is_number()) {
                    sum += it->get<double>();
                }
            };
            take("tool_hit_", c.hit);
            take("tool_gold_", c.gold);
            take("tool_pred_", c.pred);
        }
        out[t.task_id] = c;
    }
    if (out.empty()) return std::nullopt;
    return out;
}

// Percentile bootstrap (2000 resamples, the seed of bootstrap_mean_interval) of stat(sample of row indices).
template <class Stat>
Interval bootstrap_stat(size_t n, Stat stat, int resamples = 2000, uint64_t seed = 20240601) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<size_t> pick(0, n - 1);
    std::vector<double> values;
    values.reserve(size_t(resamples));
    std::vector<size_t> idx(n);
    for (int r = 0; r < resamples; ++r) {
        for (auto& i : idx) i = pick(rng);
        values.push_back(stat(idx));
    }
    std::sort(values.begin(), values.end());
    auto q = [&](double p) {
        const double pos = p * double(values.size() - 1);
        const size_t lo = size_t(pos), hi = std::min(values.size() - 1, lo + 1);
        return values[lo] + (values[hi] - values[lo]) * (pos - double(lo));
    };
    return {q(0.025), q(0.975)};
}

double f1_of(const std::vector<ToolCounts>& rows, const std::vector<size_t>& idx) {
    ToolCounts s;
    for (size_t i : idx) {
        s.hit += rows[i].hit;
        s.gold += rows[i].gold;
        s.pred += rows[i].pred;
    }
    return gta_category_f1(s.hit, s.gold, s.pred);
}

std::optional<Interval> interval_of(const std::vector<double>& v, bool binary) {
    if (v.empty()) return std::nullopt;
    if (binary) {
        int k = 0;
        for (double x : v) k += x == 1.0;
        const Interval w = wilson_interval(k, int(v.size()));
        return Interval{w.lo * 100, w.hi * 100};
    }
    const Interval b = bootstrap_mean_interval(v);
    return Interval{b.lo * 100, b.hi * 100};
}




}  // namespace

bool OutcomeFilter::matches(const MultiTask& t, size_t baseline) const {
    switch (kind) {
        case OutcomeKind::all_tasks: return true;
        case OutcomeKind::not_scored: return !t.solved;
        case OutcomeKind::solved_by_all: {
            if (!t.solved) return false;
            const uint64_t full = t.scores.size() >= 64 ? ~uint64_t(0) : (uint64_t(1) << t.scores.size()) - 1;
            return *t.solved == full;
        }
        case OutcomeKind::solved_by_none: return t.solved && *t.solved == 0;
        case OutcomeKind::only_run: return t.solved && run >= 0 && *t.solved == (uint64_t(1) << run);
        case OutcomeKind::gained:
        case OutcomeKind::lost: {
            if (run < 0 || size_t(run) >= t.scores.size() || size_t(run) == baseline) return false;
            const auto& s = t.scores[size_t(run)];
            const auto& b = t.scores[baseline];
            if (!s || !b) return false;
            const bool rs = *s >= 0.5, bs = *b >= 0.5;
            return kind == OutcomeKind::gained ? (rs && !bs) : (bs && !rs);
        }
    }
    return false;
}

std::string MultiComparison::outcome_label(const MultiTask& t) const {
    if (!t.solved) {
        for (const auto& reason : t.not_scored) {
            if (!reason.empty() && reason != "not in this run") return "not scored (" + reason + ")";
        }
        return "not scored (not in every run)";
    }
    const int k = __builtin_popcountll(*t.solved);
    if (k == int(n_runs())) return n_runs() == 2 ? "both" : "solved by all";
    if (k == 0) return n_runs() == 2 ? "neither" : "solved by none";
    if (k == 1) {
        for (size_t i = 0; i < n_runs(); ++i) {
            if (*t.solved == (uint64_t(1) << i)) return "only " + run_labels[i];
        }
    }
    return "solved by " + std::to_string(k) + " of " + std::to_string(n_runs());
}

std::vector<std::map<std::string, int>> MultiComparison::not_scored_counts() const {
    std::vector<std::map<std::string, int>> out(n_runs());
    for (const auto& t : tasks) {
        for (size_t i = 0; i < t.not_scored.size(); ++i) {
            if (!t.not_scored[i].empty() && t.not_scored[i] != "not in this run") out[i][t.not_scored[i]]++;
        }
    }
    return out;
}

Result<MultiComparison> compare_many(const std::vector<RunScore>& runs, size_t baseline,
                                     std::vector<std::string> labels) {
    if (runs.size() < 2) return make_error("a comparison needs at least two runs");
    if (runs.size() > 64) return make_error("at most 64 runs can be compared at once");
    if (baseline >= runs.size()) return make_error("baseline index out of range");
    for (const auto& r : runs) {
        if (r.primary_metric != runs[0].primary_metric) {
            return make_error("runs have different primary metrics (" + runs[0].primary_metric + " vs " +
                              r.primary_metric + "): were they scored on the same benchmark with the same scorer?");
        }
    }
    const size_t n = runs.size();
    if (labels.size() != n) {
        labels.clear();
        for (size_t i = 0; i < n; ++i) labels.push_back("run " + std::to_string(i + 1));
    }
    MultiComparison c;
    c.run_labels = std::move(labels);
    c.baseline = baseline;
    c.primary_metric = runs[0].primary_metric;
    c.versus.assign(n, {});
    c.solved_only_by.assign(n, 0);
    for (const auto& r : runs) c.notes.push_back(r.notes);

    // Tasks: the union, run 0's order first.
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < n; ++i) {
        for (const auto& t : runs[i].tasks) {
            auto it = index.find(t.task_id);
            if (it == index.end()) {
                it = index.emplace(t.task_id, c.tasks.size()).first;
                MultiTask mt;
                mt.task_id = t.task_id;
                mt.scores.assign(n, std::nullopt);
                mt.not_scored.assign(n, "not in this run");
                c.tasks.push_back(std::move(mt));
            }
            MultiTask& mt = c.tasks[it->second];
            if (mt.group.empty()) mt.group = t.group;
            mt.scores[i] = t.score;
            mt.not_scored[i] = t.score ? "" : (t.not_scored.empty() ? "skipped" : t.not_scored);
        }
    }
    for (auto& t : c.tasks) {
        const bool complete = std::all_of(t.scores.begin(), t.scores.end(), [](const auto& s) { return s.has_value(); });
        if (complete) {
            uint64_t mask = 0;
            for (size_t i = 0; i < n; ++i) mask |= (*t.scores[i] >= 0.5 ? uint64_t(1) << i : 0);
            t.solved = mask;
            ++c.n_complete;
            const int k = __builtin_popcountll(mask);
            if (k == int(n)) ++c.solved_by_all;
            if (k == 0) ++c.solved_by_none;
            if (k == 1) c.solved_only_by[size_t(__builtin_ctzll(mask))]++;
        }
        const auto& b = t.scores[baseline];
        if (!b) continue;
        for (size_t i = 0; i < n; ++i) {
            if (i == baseline || !t.scores[i]) continue;
            const bool bs = *b >= 0.5, rs = *t.scores[i] >= 0.5;
            VersusBaseline& v = c.versus[i];
            ++v.n_paired;
            if (bs && rs) ++v.both;
            else if (rs) ++v.gained;
            else if (bs) ++v.lost;
            else ++v.neither;
        }
    }

    // Metrics: primary first, then the union of the others by name.
    std::vector<std::string> names{c.primary_metric};
    {
        std::set<std::string> others;
        for (const auto& r : runs) {
            for (const auto& [k, v] : r.metrics) others.insert(k);
        }
        others.erase(c.primary_metric);
        names.insert(names.end(), others.begin(), others.end());
    }
    bool primary_binary = false;
    for (const auto& name : names) {
        MultiMetricRow row;
        row.name = name;
        row.runs.assign(n, {});
        std::vector<TaskValues> values(n);
        bool have_values = true;
        for (size_t i = 0; i < n; ++i) {
            auto v = per_task_values(runs[i], name);
            if (!v) {
                have_values = false;
                break;
            }
            values[i] = std::move(*v);
        }
        const bool binary = have_values && all_binary(values);
        if (name == c.primary_metric) primary_binary = binary;
        for (size_t i = 0; i < n; ++i) {
            auto it = runs[i].metrics.find(name);
            if (it != runs[i].metrics.end()) {
                row.runs[i].value = it->second;
            } else if (name == c.primary_metric && !values[i].empty()) {
                double s = 0;
                for (const auto& [k, x] : values[i]) s += x;
                row.runs[i].value = s / double(values[i].size()) * 100;
            }
        }
        if (!have_values) {
            // GTA category F1: bootstrap over the items from their tool counts.
            std::vector<TaskCounts> counts(n);
            bool have_counts = true;
            for (size_t i = 0; i < n && have_counts; ++i) {
                auto tc = per_task_tool_counts(runs[i], name);
                if (tc) counts[i] = std::move(*tc);
                else have_counts = false;
            }
            if (have_counts) {
                row.ci_method = "bootstrap";
                for (size_t i = 0; i < n; ++i) {
                    std::vector<ToolCounts> rows;
                    for (const auto& t : c.tasks) {
                        auto it = counts[i].find(t.task_id);
                        if (it != counts[i].end()) rows.push_back(it->second);
                    }
                    if (rows.empty()) continue;
                    row.runs[i].ci = bootstrap_stat(rows.size(), [&](const std::vector<size_t>& idx) { return f1_of(rows, idx); });
                }
                for (size_t i = 0; i < n; ++i) {
                    if (i == baseline) continue;
                    std::vector<ToolCounts> base_rows, run_rows;
                    for (const auto& t : c.tasks) {
                        auto bi = counts[baseline].find(t.task_id), ri = counts[i].find(t.task_id);
                        if (bi == counts[baseline].end() || ri == counts[i].end()) continue;
                        base_rows.push_back(bi->second);
                        run_rows.push_back(ri->second);
                    }
                    if (base_rows.empty()) continue;
                    row.runs[i].diff_ci = bootstrap_stat(base_rows.size(), [&](const std::vector<size_t>& idx) {
                        return f1_of(run_rows, idx) - f1_of(base_rows, idx);
                    });
                }
            }
        }
        if (have_values) {
            row.ci_method = binary ? "wilson" : "bootstrap";
            for (size_t i = 0; i < n; ++i) {
                // In task order (the union), so a seeded bootstrap sees the same sequence as before.
                std::vector<double> v;
                for (const auto& t : c.tasks) {
                    auto it = values[i].find(t.task_id);
                    if (it != values[i].end()) v.push_back(it->second);
                }
                row.runs[i].ci = interval_of(v, binary);
            }
        }
        for (size_t i = 0; i < n; ++i) {
            if (i == baseline) continue;
            RunMetricCell& cell = row.runs[i];
            if (cell.value && row.runs[baseline].value) cell.diff = *cell.value - *row.runs[baseline].value;
            if (!have_values) continue;
            std::vector<double> d;
            for (const auto& t : c.tasks) {
                auto bi = values[baseline].find(t.task_id), ri = values[i].find(t.task_id);
                if (bi != values[baseline].end() && ri != values[i].end()) d.push_back(ri->second - bi->second);
            }
            if (!d.empty()) {
                const Interval iv = bootstrap_mean_interval(d);
                cell.diff_ci = Interval{iv.lo * 100, iv.hi * 100};
            }
        }
        c.metrics.push_back(std::move(row));
    }
    if (primary_binary) {
        for (size_t i = 0; i < n; ++i) {
            if (i != baseline && c.versus[i].n_paired) c.versus[i].mcnemar_p = mcnemar_exact_p(c.versus[i].lost, c.versus[i].gained);
        }
    }

    // Groups: the primary metric per group and run, from the per-task scores.
    std::map<std::string, MultiGroupRow> groups;
    for (size_t i = 0; i < n; ++i) {
        std::map<std::string, std::vector<double>> acc;
        for (const auto& t : c.tasks) {
            if (t.scores[i]) acc[t.group].push_back(*t.scores[i]);
        }
        for (const auto& [g, v] : acc) {
            auto& row = groups[g];
            if (row.values.empty()) {
                row.group = g;
                row.values.assign(n, std::nullopt);
                row.cis.assign(n, std::nullopt);
                row.n.assign(n, 0);
                row.gained.assign(n, 0);
                row.lost.assign(n, 0);
            }
            double s = 0;
            for (double x : v) s += x;
            row.values[i] = s / double(v.size()) * 100;
            row.cis[i] = interval_of(v, primary_binary);
            row.n[i] = int(v.size());
        }
    }
    for (const auto& t : c.tasks) {
        auto g = groups.find(t.group);
        if (g == groups.end()) continue;
        for (size_t i = 0; i < n; ++i) {
            if (OutcomeFilter{OutcomeKind::gained, int(i)}.matches(t, baseline)) g->second.gained[i]++;
            if (OutcomeFilter{OutcomeKind::lost, int(i)}.matches(t, baseline)) g->second.lost[i]++;
        }
    }
    for (auto& [g, row] : groups) c.groups.push_back(std::move(row));
    return c;
}

nlohmann::json MultiComparison::to_json(bool with_tasks) const {
    using nlohmann::json;
    json j;
    j["primary_metric"] = primary_metric;
    j["runs"] = run_labels;
    j["baseline"] = baseline;
    json m = json::array();
    for (const auto& r : metrics) {
        json cells = json::array();
        for (const auto& x : r.runs) {
            cells.push_back({{"value", opt(x.value)}, {"ci", opt(x.ci)}, {"diff", opt(x.diff)}, {"diff_ci", opt(x.diff_ci)}});
        }
        m.push_back({{"name", r.name}, {"ci_method", r.ci_method}, {"runs", cells}});
    }
    j["metrics"] = m;
    json vs = json::array();
    for (size_t i = 0; i < versus.size(); ++i) {
        const auto& v = versus[i];
        json ids_g = json::array(), ids_l = json::array();
        for (const auto& t : tasks) {
            if (OutcomeFilter{OutcomeKind::gained, int(i)}.matches(t, baseline)) ids_g.push_back(t.task_id);
            if (OutcomeFilter{OutcomeKind::lost, int(i)}.matches(t, baseline)) ids_l.push_back(t.task_id);
        }
        vs.push_back({{"run", run_labels[i]}, {"is_baseline", i == baseline}, {"gained", v.gained}, {"lost", v.lost},
                      {"both", v.both}, {"neither", v.neither}, {"paired", v.n_paired}, {"mcnemar_p", opt(v.mcnemar_p)},
                      {"gained_tasks", ids_g}, {"lost_tasks", ids_l}});
    }
    j["versus_baseline"] = vs;
    json only = json::array();
    for (size_t i = 0; i < n_runs(); ++i) {
        json ids = json::array();
        for (const auto& t : tasks) {
            if (OutcomeFilter{OutcomeKind::only_run, int(i)}.matches(t, baseline)) ids.push_back(t.task_id);
        }
        only.push_back({{"run", run_labels[i]}, {"count", solved_only_by[i]}, {"tasks", ids}});
    }
    j["outcomes"] = {{"complete", n_complete}, {"solved_by_all", solved_by_all}, {"solved_by_none", solved_by_none},
                     {"solved_only_by", only}};
    json g = json::array();
    for (const auto& r : groups) {
        json cells = json::array();
        for (size_t i = 0; i < r.values.size(); ++i) {
            cells.push_back({{"value", opt(r.values[i])}, {"ci", opt(r.cis[i])}, {"n", r.n[i]}, {"gained", r.gained[i]},
                             {"lost", r.lost[i]}});
        }
        g.push_back({{"group", r.group}, {"runs", cells}});
    }
    j["groups"] = g;
    json ns = json::array();
    const auto counts = not_scored_counts();
    for (size_t i = 0; i < n_runs(); ++i) ns.push_back({{"run", run_labels[i]}, {"reasons", counts[i]}});
    j["not_scored"] = ns;
    j["notes"] = notes;
    if (with_tasks) {
        json t = json::array();
        for (const auto& task : tasks) {
            json scores = json::array();
            for (const auto& s : task.scores) scores.push_back(opt(s));
            json reasons = json::array();
            for (const auto& r : task.not_scored) reasons.push_back(r.empty() ? json() : json(r));
            t.push_back({{"task_id", task.task_id}, {"group", task.group}, {"scores", scores},
                         {"not_scored", reasons}, {"outcome", outcome_label(task)}});
        }
        j["tasks"] = t;
    }
    return j;
}

std::string MultiComparison::to_csv() const {
    std::ostringstream out;
    out << "metric,ci_method";
    for (const auto& l : run_labels) {
        const std::string p = csv_field(l);
        out << ',' << p << ',' << p << " ci_lo," << p << " ci_hi," << p << " diff," << p << " diff_ci_lo," << p
            << " diff_ci_hi";
    }
    out << '\n';
    auto lo = [](const std::optional<Interval>& i) { return i ? csv_num(i->lo) : std::string(); };
    auto hi = [](const std::optional<Interval>& i) { return i ? csv_num(i->hi) : std::string(); };
    for (const auto& r : metrics) {
        out << csv_field(r.name) << ',' << r.ci_method;
        for (const auto& x : r.runs) {
            out << ',' << csv_num(x.value) << ',' << lo(x.ci) << ',' << hi(x.ci) << ',' << csv_num(x.diff) << ','
                << lo(x.diff_ci) << ',' << hi(x.diff_ci);
        }
        out << '\n';
    }
    out << "\ntask_id,group";
    for (const auto& l : run_labels) out << ',' << csv_field(l);
    out << ",outcome\n";
    for (const auto& t : tasks) {
        out << csv_field(t.task_id) << ',' << csv_field(t.group);
        for (const auto& s : t.scores) out << ',' << csv_num(s);
        out << ',' << csv_field(outcome_label(t)) << '\n';
    }
    out << "\ngroup";
    for (const auto& l : run_labels) out << ',' << csv_field(l) << ',' << csv_field(l) << " n";
    out << '\n';
    for (const auto& g : groups) {
        out << csv_field(g.group);
        for (size_t i = 0; i < g.values.size(); ++i) out << ',' << csv_num(g.values[i]) << ',' << g.n[i];
        out << '\n';
    }
    return out.str();
}

Comparison compare_runs(const RunScore& a, const RunScore& b) {
    Comparison c;
    c.primary_metric = a.primary_metric;
    RunScore b2 = b;
    b2.primary_metric = a.primary_metric;  // the two-run comparison always followed A's primary metric
    auto many = compare_many({a, b2}, 0, {"A", "B"});
    if (!many.ok()) return c;
    const MultiComparison& m = many.value();
    for (const auto& r : m.metrics) {
        MetricRow row;
        row.name = r.name;
        row.ci_method = r.ci_method;
        row.a = r.runs[0].value;
        row.b = r.runs[1].value;
        row.diff = r.runs[1].diff;
        row.a_ci = r.runs[0].ci;
        row.b_ci = r.runs[1].ci;
        row.diff_ci = r.runs[1].diff_ci;
        c.metrics.push_back(row);
    }
    for (const auto& t : m.tasks) {
        TaskPair p{t.task_id, t.group, t.scores[0], t.scores[1], FlipKind::unscored, t.not_scored[0], t.not_scored[1]};
        if (t.solved) {
            const uint64_t s = *t.solved;
            p.flip = s == 3 ? FlipKind::both : s == 1 ? FlipKind::only_a : s == 2 ? FlipKind::only_b : FlipKind::neither;
        }
        c.tasks.push_back(p);
    }
    const VersusBaseline& v = m.versus[1];
    c.only_a = v.lost;
    c.only_b = v.gained;
    c.both = v.both;
    c.neither = v.neither;
    c.n_paired = v.n_paired;
    c.mcnemar_p = v.mcnemar_p;
    for (const auto& g : m.groups) {
        GroupRow row;
        row.group = g.group;
        row.a = g.values[0];
        row.b = g.values[1];
        row.n_a = g.n[0];
        row.n_b = g.n[1];
        row.only_a = g.lost[1];
        row.only_b = g.gained[1];
        c.groups.push_back(row);
    }
    return c;
}

}  // namespace matrix::eval
