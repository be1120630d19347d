// `matrix bench load|import-run|score|compare|list`: benchmarks and evaluation runs in a project, over
// core/eval (loaders, importers, official scorers, comparison). Output for people by default, JSON with --json.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "app/cli/args.h"
#include "app/cli/judge_options.h"
#include "app/cli/command.h"
#include "app/cli/record_limit_option.h"
#include "core/eval/agentx_loader.h"
#include "core/eval/bench_store.h"
#include "core/eval/gaia_loader.h"
#include "core/eval/gta_loader.h"
#include "core/eval/judge_run.h"
#include "core/eval/run_import.h"

using namespace matrix;
using namespace matrix::eval;

namespace {

const char* kUsage =
    "usage: matrix bench <subcommand> ...\n"
    "  load        --db FILE --benchmark gta|gaia|agentx [--name DATASET] [--image-root DIR]...\n"
    "              [--toolmeta agentx_toolmeta.json] [--max-record-bytes N] PATH\n"
    "  import-run  --db FILE --benchmark gta|gaia|agentx --format matrix-gta|matrix-gaia|jsonl\n"
    "              [--name NAME] [--model M] [--adapter DIR] [--dataset NAME] [--training-run ID] PATH\n"
    "              [--max-record-bytes N]   (prints the new run id as the last line)\n"
    "  --max-record-bytes N: an item, JSONL line or agent_memory.json longer than N bytes is a warning with its\n"
    "              size and is not parsed; the rest is loaded (default 16 MiB, 0 = no limit)\n"
    "  score       --db FILE --run ID [--scorer official|matrix] [--json]\n"
    "              [--judge-url URL --judge-model NAME [--judge-key-env VAR] [--judge-timeout-ms MS]]\n"
    "              (Agent-X: asks an OpenAI-compatible chat-completions judge at URL (http:// or https://) for\n"
    "              the judge metrics and stores the verdicts; the API key is read from the environment\n"
    "              variable VAR, never from the command line; without --judge-url nothing is judged)\n"
    "  compare     --db FILE RUN_A RUN_B [RUN_C ...] [--baseline ID] [--scorer official|matrix] [--json]\n"
    "              [--csv FILE]   (two runs: A is the baseline unless --baseline names B; three or more:\n"
    "              every run against the baseline, by default the first one given)\n"
    "  list        --db FILE [--json]\n";

std::string fmt(double v, int prec = 2) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(prec) << v;
    return s.str();
}

Result<store::Project> open_project(const cli::Args& args, bool create) {
    store::OpenOptions o;
    o.create = create;
    auto p = store::Project::open(*args.get("db"), o);
    if (!p.ok()) return p.error().within("opening " + *args.get("db"));
    return p;
}

std::optional<BenchKind> kind_arg(const cli::Args& args) {
    auto k = bench_kind_from_string(args.get_or("benchmark", ""));
    if (!k) std::cerr << "matrix bench: --benchmark must be gta, gaia or agentx\n";
    return k;
}

std::optional<ScorerKind> scorer_arg(const cli::Args& args) {
    auto s = scorer_from_string(args.get_or("scorer", "official"));
    if (!s) std::cerr << "matrix bench: --scorer must be official or matrix\n";
    return s;
}

std::optional<int64_t> id_arg(const std::string& text) {
    try {
        size_t pos = 0;
        const long long v = std::stoll(text, &pos);
        if (pos == text.size() && v > 0) return int64_t(v);
    } catch (const std::exception&) {
    }
    std::cerr << "matrix bench: '" << text << "' is not a run id\n";
    return std::nullopt;
}

int run_load(int argc, char** argv) {
    cli::Args args(std::string(kUsage), {"db", "benchmark", "name", "image-root", "toolmeta", "max-record-bytes"});
    if (!args.parse(argc, argv, 2)) return args.help_requested() ? 0 : 2;
    if (!args.require({"db", "benchmark"}, "bench load")) return 2;
    if (args.positionals().size() != 1) return cli::fail("bench load: give exactly one PATH");
    auto kind = kind_arg(args);
    if (!kind) return 2;
    const auto max_record_bytes = cli::max_record_bytes_arg(args, "bench load");
    if (!max_record_bytes) return 2;
    const std::string path = args.positionals()[0];
    Result<Benchmark> bench = make_error("unreachable");
    if (*kind == BenchKind::gta) {
        bench = load_gta(path, *max_record_bytes);
    } else if (*kind == BenchKind::gaia) {
        bench = load_gaia(path, *max_record_bytes);
    } else {
        AgentXToolMeta meta;
        if (auto tm = args.get("toolmeta")) {
            auto m = load_agentx_toolmeta(*tm);
            if (!m.ok()) return cli::fail(m.error().to_string());
            meta = std::move(m).value();
        }
        bench = load_agentx(path, meta, *max_record_bytes);
    }
    if (!bench.ok()) return cli::fail(bench.error().to_string());
    for (const auto& w : bench->warnings) std::cerr << "warning: " << w << "\n";
    auto project = open_project(args, true);
    if (!project.ok()) return cli::fail(project.error().to_string());
    StoreBenchmarkOptions opt;
    opt.dataset_name = args.get_or("name", "");
    opt.image_roots = args.get_all("image-root");
    auto stored = store_benchmark(project.value(), bench.value(), opt);
    if (!stored.ok()) return cli::fail(stored.error().to_string());
    std::cout << "dataset " << stored->dataset_id << ": " << stored->n_added << " items added, "
              << stored->n_existing << " already present, " << stored->n_trajectories << " gold trajectories, "
              << stored->n_media << " files (" << stored->n_media_missing << " missing)\n";
    return 0;
}

int run_import(int argc, char** argv) {
    cli::Args args(std::string(kUsage),
                   {"db", "benchmark", "format", "name", "model", "adapter", "dataset", "training-run", "max-record-bytes"});
    if (!args.parse(argc, argv, 2)) return args.help_requested() ? 0 : 2;
    if (!args.require({"db", "benchmark", "format"}, "bench import-run")) return 2;
    if (args.positionals().size() != 1) return cli::fail("bench import-run: give exactly one PATH");
    auto kind = kind_arg(args);
    if (!kind) return 2;
    const auto max_record_bytes = cli::max_record_bytes_arg(args, "bench import-run");
    if (!max_record_bytes) return 2;
    auto run = import_run(*args.get("format"), args.positionals()[0], *kind, {}, *max_record_bytes);
    if (!run.ok()) return cli::fail(run.error().to_string());
    for (const auto& w : run->warnings) std::cerr << "warning: " << w << "\n";
    if (auto m = args.get("model")) run->model = *m;
    if (auto a = args.get("adapter")) run->adapter = *a;
    auto project = open_project(args, true);
    if (!project.ok()) return cli::fail(project.error().to_string());
    StoreRunOptions opt;
    opt.name = args.get_or("name", "");
    opt.dataset_name = args.get_or("dataset", "");
    if (auto tr = args.get("training-run")) {
        auto id = id_arg(*tr);
        if (!id) return 2;
        opt.training_run_id = *id;
    }
    const size_t n_results = run->results.size(), n_warnings = run->warnings.size();
    auto id = store_run(project.value(), std::move(run).value(), opt);  // moved: scored as stored, not copied
    if (!id.ok()) return cli::fail(id.error().to_string());
    std::cout << "imported " << n_results << " task results (" << n_warnings << " warnings)\n";
    std::cout << id.value() << "\n";
    return 0;
}

// The judge from the shared judge options; nullopt (after one stderr line) on bad options, an unconfigured
// JudgeConfig when no judge was asked for.
std::optional<JudgeConfig> judge_args(const cli::Args& args) {
    auto o = cli::judge_options(args, "bench score");
    if (!o) return std::nullopt;
    JudgeConfig judge;
    if (!o->given()) return judge;
    judge.endpoint = o->url;
    judge.model = o->model;
    judge.timeout_ms = o->timeout_ms;
    if (!o->key_env.empty()) judge.api_key = std::getenv(o->key_env.c_str());
    return judge;
}

int run_score(int argc, char** argv) {
    cli::Args args(std::string(kUsage), {"db", "run", "scorer", "judge-url", "judge-model", "judge-key-env",
                                         "judge-timeout-ms"},
                   {"json"});
    if (!args.parse(argc, argv, 2)) return args.help_requested() ? 0 : 2;
    if (!args.require({"db", "run"}, "bench score")) return 2;
    auto scorer = scorer_arg(args);
    auto id = id_arg(*args.get("run"));
    auto judge = judge_args(args);
    if (!scorer || !id || !judge) return 2;
    auto project = open_project(args, false);
    if (!project.ok()) return cli::fail(project.error().to_string());
    int exit_code = 0;
    if (judge->configured()) {
        auto report = judge_stored_run(project.value(), *id, *judge);
        if (!report.ok()) return cli::fail("judge: " + report.error().to_string());
        if (report->n_failed == report->n_requests && report->n_requests > 0) {
            return cli::fail("judge: all " + std::to_string(report->n_requests) +
                             " requests failed, nothing stored: " + report->first_error);
        }
        if (report->n_failed) {
            std::cerr << "matrix bench score: judge: " << report->n_failed << " of " << report->n_requests
                      << " requests failed (left out): " << report->first_error << "\n";
            exit_code = 1;
        }
    }
    auto score = score_stored_run(project.value(), *id, *scorer);
    if (!score.ok()) return cli::fail(score.error().to_string());
    if (args.has("json")) {
        nlohmann::json j = score->to_json();
        j["run"] = *id;
        std::cout << j.dump(2) << "\n";
        return exit_code;
    }
    std::cout << "run " << *id << " (" << score->scorer << " scorer)\n";
    for (const auto& [k, v] : score->metrics) std::cout << "  " << k << ": " << fmt(v) << "\n";
    for (const auto& [g, m] : score->by_group) {
        std::cout << "  [" << g << "] " << score->primary_metric << ": " << fmt(m.at(score->primary_metric))
                  << " (n=" << int(m.at("n")) << ")\n";
    }
    std::map<std::string, std::map<std::string, int>> not_scored;  // reason -> group -> count
    for (const auto& t : score->tasks) {
        if (!t.score) not_scored[t.not_scored.empty() ? "skipped" : t.not_scored][t.group]++;
    }
    for (const auto& [reason, groups] : not_scored) {
        std::cout << "  not scored (" << reason << "):";
        for (const auto& [g, n] : groups) std::cout << " " << n << " " << (g.empty() ? "?" : g);
        std::cout << "\n";
    }
    for (const auto& n : score->notes) std::cout << "  note: " << n << "\n";
    return exit_code;
}

std::string fmt_opt(const std::optional<double>& v) { return v ? fmt(*v) : std::string("-"); }

// Three or more runs (or two with --baseline naming the second): every run against the baseline.
int print_many(const MultiComparison& c, const std::vector<int64_t>& ids, ScorerKind scorer, bool json_out) {
    if (json_out) {
        nlohmann::json j = c.to_json();
        j["run_ids"] = ids;
        j["baseline_run"] = ids[c.baseline];
        j["scorer"] = to_string(scorer);
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::cout << "baseline: " << c.run_labels[c.baseline] << " (" << to_string(scorer) << " scorer)\n";
    std::cout << std::left << std::setw(26) << "metric";
    for (const auto& l : c.run_labels) std::cout << std::setw(22) << l.substr(0, 21);
    std::cout << "\n";
    for (const auto& m : c.metrics) {
        std::cout << std::left << std::setw(26) << m.name;
        for (size_t i = 0; i < m.runs.size(); ++i) {
            std::string cell = fmt_opt(m.runs[i].value);
            if (m.runs[i].diff) cell += " (" + std::string(*m.runs[i].diff > 0 ? "+" : "") + fmt(*m.runs[i].diff) + ")";
            std::cout << std::setw(22) << cell;
        }
        std::cout << "\n";
        if (!m.ci_method.empty()) {
            std::cout << std::setw(26) << ("  95% CI " + m.ci_method);
            for (const auto& r : m.runs) {
                std::cout << std::setw(22) << (r.ci ? "[" + fmt(r.ci->lo, 1) + ", " + fmt(r.ci->hi, 1) + "]" : "-");
            }
            std::cout << "\n" << std::setw(26) << "  95% CI of the diff";
            for (const auto& r : m.runs) {
                std::cout << std::setw(22) << (r.diff_ci ? "[" + fmt(r.diff_ci->lo, 1) + ", " + fmt(r.diff_ci->hi, 1) + "]" : "-");
            }
            std::cout << "\n";
        }
    }
    for (size_t i = 0; i < c.n_runs(); ++i) {
        if (i == c.baseline) continue;
        const auto& v = c.versus[i];
        std::cout << c.run_labels[i] << " vs baseline: gained " << v.gained << ", lost " << v.lost << ", both "
                  << v.both << ", neither " << v.neither << " (of " << v.n_paired << " paired)";
        if (v.mcnemar_p) std::cout << ", McNemar exact p = " << fmt(*v.mcnemar_p, 4);
        std::cout << "\n";
    }
    std::cout << "tasks scored by every run: " << c.n_complete << "; solved by all " << c.solved_by_all
              << ", by none " << c.solved_by_none;
    for (size_t i = 0; i < c.n_runs(); ++i) std::cout << ", only " << c.run_labels[i] << " " << c.solved_only_by[i];
    std::cout << "\n";
    for (const auto& g : c.groups) {
        std::cout << "  [" << g.group << "]";
        for (size_t i = 0; i < g.values.size(); ++i) std::cout << "  " << fmt_opt(g.values[i]) << " (n=" << g.n[i] << ")";
        std::cout << "\n";
    }
    const auto counts = c.not_scored_counts();
    for (size_t i = 0; i < counts.size(); ++i) {
        for (const auto& [reason, n] : counts[i]) {
            std::cout << "  " << c.run_labels[i] << ": " << n << (n == 1 ? " task" : " tasks") << " not scored (" << reason
                      << ")\n";
        }
    }
    return 0;
}

int run_compare(int argc, char** argv) {
    cli::Args args(std::string(kUsage), {"db", "scorer", "csv", "baseline"}, {"json"});
    if (!args.parse(argc, argv, 2)) return args.help_requested() ? 0 : 2;
    if (!args.require({"db"}, "bench compare")) return 2;
    if (args.positionals().size() < 2) return cli::fail("bench compare: give two or more run ids");
    auto scorer = scorer_arg(args);
    if (!scorer) return 2;
    std::vector<int64_t> ids;
    for (const auto& p : args.positionals()) {
        auto id = id_arg(p);
        if (!id) return 2;
        if (std::find(ids.begin(), ids.end(), *id) != ids.end()) return cli::fail("bench compare: run " + p + " given twice");
        ids.push_back(*id);
    }
    size_t baseline = 0;
    if (auto b = args.get("baseline")) {
        auto id = id_arg(*b);
        if (!id) return 2;
        auto it = std::find(ids.begin(), ids.end(), *id);
        if (it == ids.end()) return cli::fail("bench compare: --baseline " + *b + " is not one of the compared runs");
        baseline = size_t(it - ids.begin());
    }
    auto project = open_project(args, false);
    if (!project.ok()) return cli::fail(project.error().to_string());
    if (ids.size() > 2) {
        auto c = compare_stored_many(project.value(), ids, baseline, *scorer);
        if (!c.ok()) return cli::fail(c.error().to_string());
        if (auto csv = args.get("csv")) {
            std::ofstream out(*csv);
            out << c->to_csv();
            if (!out) return cli::fail("cannot write " + *csv);
        }
        return print_many(c.value(), ids, *scorer, args.has("json"));
    }
    // Two runs: the two-run shape (A = the baseline).
    std::optional<int64_t> a = ids[baseline], b = ids[1 - baseline];
    auto c = compare_stored_runs(project.value(), *a, *b, *scorer);
    if (!c.ok()) return cli::fail(c.error().to_string());
    if (auto csv = args.get("csv")) {
        std::ofstream out(*csv);
        out << c->to_csv();
        if (!out) return cli::fail("cannot write " + *csv);
    }
    if (args.has("json")) {
        nlohmann::json j = c->to_json();
        j["run_a"] = *a;
        j["run_b"] = *b;
        j["scorer"] = to_string(*scorer);
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::cout << "A = run " << *a << ", B = run " << *b << " (" << to_string(*scorer) << " scorer)\n";
    std::cout << std::left << std::setw(26) << "metric" << std::setw(10) << "A" << std::setw(10) << "B"
              << std::setw(10) << "B-A" << "95% CI (B-A)\n";
    for (const auto& m : c->metrics) {
        std::cout << std::left << std::setw(26) << m.name << std::setw(10) << (m.a ? fmt(*m.a) : "-") << std::setw(10)
                  << (m.b ? fmt(*m.b) : "-") << std::setw(10) << (m.diff ? fmt(*m.diff) : "-");
        if (m.diff_ci) std::cout << "[" << fmt(m.diff_ci->lo) << ", " << fmt(m.diff_ci->hi) << "] paired bootstrap";
        if (m.a_ci && m.b_ci) {
            std::cout << "  A [" << fmt(m.a_ci->lo) << ", " << fmt(m.a_ci->hi) << "] B [" << fmt(m.b_ci->lo) << ", "
                      << fmt(m.b_ci->hi) << "] " << m.ci_method;
        }
        std::cout << "\n";
    }
    std::cout << "flips: solved only by A " << c->only_a << ", only by B " << c->only_b << ", both " << c->both
              << ", neither " << c->neither << " (of " << c->n_paired << " paired)";
    if (c->mcnemar_p) std::cout << ", McNemar exact p = " << fmt(*c->mcnemar_p, 4);
    std::cout << "\n";
    for (const auto& g : c->groups) {
        std::cout << "  [" << g.group << "] A " << (g.a ? fmt(*g.a) : "-") << " (n=" << g.n_a << ")  B "
                  << (g.b ? fmt(*g.b) : "-") << " (n=" << g.n_b << ")  only A " << g.only_a << ", only B " << g.only_b
                  << "\n";
    }
    auto list_ids = [&](FlipKind k, const char* label) {
        std::string ids;
        for (const auto& t : c->tasks) {
            if (t.flip == k) ids += (ids.empty() ? "" : " ") + t.task_id;
        }
        if (!ids.empty()) std::cout << label << ids << "\n";
    };
    list_ids(FlipKind::only_a, "only A: ");
    list_ids(FlipKind::only_b, "only B: ");
    return 0;
}

int run_list(int argc, char** argv) {
    cli::Args args(std::string(kUsage), {"db"}, {"json"});
    if (!args.parse(argc, argv, 2)) return args.help_requested() ? 0 : 2;
    if (!args.require({"db"}, "bench list")) return 2;
    auto project = open_project(args, false);
    if (!project.ok()) return cli::fail(project.error().to_string());
    auto runs = list_eval_runs(project.value());
    if (!runs.ok()) return cli::fail(runs.error().to_string());
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : runs.value()) {
        j.push_back({{"id", r.id}, {"name", r.name}, {"benchmark", r.benchmark.value_or("")},
                     {"model", r.model_path.value_or("")}, {"created_at", r.created_at},
                     {"summary", nlohmann::json::parse(r.summary.empty() ? "{}" : r.summary, nullptr, false)}});
    }
    if (args.has("json")) {
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    for (const auto& r : runs.value()) {
        std::cout << r.id << "\t" << r.benchmark.value_or("") << "\t" << r.name << "\t" << r.model_path.value_or("")
                  << "\t" << r.created_at << "\n";
    }
    return 0;
}

int run_bench(int argc, char** argv) {
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
        std::cout << kUsage;
        return argc < 2 ? 2 : 0;
    }
    const std::string sub = argv[1];
    if (sub == "load") return run_load(argc, argv);
    if (sub == "import-run") return run_import(argc, argv);
    if (sub == "score") return run_score(argc, argv);
    if (sub == "compare") return run_compare(argc, argv);
    if (sub == "list") return run_list(argc, argv);
    return cli::fail("bench: unknown subcommand '" + sub + "' (load, import-run, score, compare, list)");
}

}  // namespace

MATRIX_CLI_COMMAND("bench", "benchmarks (GTA, GAIA, Agent-X): load, import runs, score, compare", run_bench);
