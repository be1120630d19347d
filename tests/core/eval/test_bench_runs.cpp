// Run import, scoring and comparison on small MATRIX-format folders / databases and a JSONL written for these
// tests (tests/data/bench/), with known answers and therefore known flips; plus the judge interface
// (disabled when not configured; a stub OpenAI-compatible server on localhost when configured).
#include <QTemporaryDir>
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/eval/agentx_judge_scoring.h"
#include "core/eval/agentx_loader.h"
#include "core/eval/statistics.h"
#include "core/eval/compare_multi.h"
#include "core/eval/gaia_loader.h"
#include "core/eval/gta_metrics.h"
#include "core/eval/gta_loader.h"
#include "core/eval/judge.h"
#include "core/eval/run_import.h"
#include "core/eval/run_scoring.h"

using namespace matrix::eval;
using nlohmann::json;

namespace {
const std::string kShared = MATRIX_SHARED_DIR;
const std::string kData = std::string(MATRIX_SOURCE_DIR) + "/tests/data/bench/";

// A scored run built by hand: per-task 0/1 scores ("" = not scored: needs embedding model), group per task.
RunScore hand_run(const std::vector<std::pair<std::string, std::string>>& tasks, const std::string& scores) {
    RunScore r;
    r.scorer = "official";
    r.primary_metric = "answer_acc";
    int n = 0, k = 0;
    for (size_t i = 0; i < tasks.size(); ++i) {
        TaskScore t;
        t.task_id = tasks[i].first;
        t.group = tasks[i].second;
        if (scores[i] == '-') {
            t.not_scored = "needs embedding model";
        } else {
            t.score = scores[i] == '1' ? 1.0 : 0.0;
            ++n;
            k += scores[i] == '1';
        }
        r.tasks.push_back(t);
    }
    r.metrics["answer_acc"] = 100.0 * k / n;
    r.metrics["n_scored"] = n;
    return r;
}

std::vector<std::string> ids_matching(const MultiComparison& c, OutcomeFilter f) {
    std::vector<std::string> out;
    for (const auto& t : c.tasks) {
        if (f.matches(t, c.baseline)) out.push_back(t.task_id);
    }
    return out;
}

// The error a call returned, as users see it ("context: message"), or "(no error)".
template <class T>
std::string error_of(const matrix::Result<T>& r) {
    return r.ok() ? std::string("(no error)") : r.error().to_string();
}

std::vector<std::string> ids_with(const Comparison& c, FlipKind k) {
    std::vector<std::string> out;
    for (const auto& t : c.tasks) {
        if (t.flip == k) out.push_back(t.task_id);
    }
    return out;
}
}  // namespace

class TestBenchRuns : public QObject {
    Q_OBJECT
private slots:
    void import_matrix_gta_conversations() {
        auto r = import_matrix_gta_run(kData + "matrix-gta/run-a");
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().to_string().c_str());
        const ImportedRun& run = r.value();
        QCOMPARE(run.format, std::string("matrix-gta"));
        QCOMPARE(run.model, std::string("run-a"));
        QVERIFY(run.warnings.empty());
        QCOMPARE(int(run.results.size()), 7);
        std::vector<std::string> ids;
        for (const auto& t : run.results) ids.push_back(t.task_id);
        QCOMPARE(ids, (std::vector<std::string>{"0", "1", "2", "3", "8", "12", "29"}));  // numeric order
        const TaskResult& t0 = run.results[0];
        QCOMPARE(*t0.answer, std::string("You should pay 12 dollars."));
        QCOMPARE(t0.ground_truth, json::parse(R"([["12"]])"));
        QCOMPARE(int(t0.steps.size()), 3);
        QCOMPARE(t0.steps[0].thought, std::string("Describe the first image."));
        QCOMPARE(int(t0.steps[0].tool_calls.size()), 1);
        QCOMPARE(t0.steps[0].tool_calls[0].name, std::string("visualizer"));
        QCOMPARE(t0.steps[0].tool_calls[0].arguments["image_path"].get<std::string>(), std::string("image/image_1.jpg"));
        QCOMPARE(t0.steps[0].observation, std::string("Two bottles of beer on a table."));
        QCOMPARE(t0.steps[1].tool_calls[0].name, std::string("ocr"));
        QVERIFY(t0.steps[2].is_final);
        QVERIFY(!t0.steps[0].is_final);
        QVERIFY(t0.question.find("Task: question 0") == 0);
        const TaskResult& t2 = run.results[2];
        QVERIFY(t2.steps[0].is_error);
        QVERIFY(t2.steps[0].observation.find("timed out") != std::string::npos);
        QVERIFY(run.results[5].ground_truth.is_null());  // image generation
    }

    void import_matrix_gta_logs() {
        auto r = import_matrix_gta_run(kData + "matrix-gta/run-b");
        QVERIFY(r.ok());
        const ImportedRun& run = r.value();
        QCOMPARE(int(run.results.size()), 6);
        QCOMPARE(int(run.warnings.size()), 1);  // notes/ has no agent_memory.json
        QVERIFY(run.warnings[0].find("notes") != std::string::npos);
        const TaskResult& t8 = run.results[4];
        QCOMPARE(t8.task_id, std::string("8"));
        QCOMPARE(int(t8.steps.size()), 2);
        QVERIFY(t8.steps[0].is_error);
        QCOMPARE(t8.steps[0].observation, std::string("search failed"));
        QCOMPARE(t8.steps[0].thought, std::string("Bad call."));
        QCOMPARE(t8.steps[0].tool_calls[0].name, std::string("ask_search_agent"));
        QVERIFY(t8.steps[1].is_final);
        QCOMPARE(t8.question, std::string("question 8"));
    }

    void import_errors() {
        // Each error names the file (the context) and the reason (the message).
        QCOMPARE(error_of(import_matrix_gta_run(kData + "no-such-run")), kData + "no-such-run: not a folder");
        QCOMPARE(error_of(import_matrix_gaia_run(kData + "no-such.db")), kData + "no-such.db: no such file");
        QCOMPARE(error_of(import_matrix_gaia_run(kData + "gaia/metadata.jsonl")),  // not SQLite
                 kData + "gaia/metadata.jsonl: not a MATRIX GAIA result database: file is not a database");
        QCOMPARE(error_of(import_run("matrix-gta", kData + "matrix-gta/run-a", BenchKind::gaia)),
                 std::string("format matrix-gta is for the gta benchmark"));
        QCOMPARE(error_of(import_run("matrix-gaia", kData + "matrix-gaia/validation.db", BenchKind::gta)),
                 std::string("format matrix-gaia is for the gaia benchmark"));
        QCOMPARE(error_of(import_run("csv", kData + "x", BenchKind::gta)),
                 std::string("unknown run format 'csv' (matrix-gta, matrix-gaia, jsonl)"));
    }

    // Hostile run files: an empty file or folder is an error (no empty run), a line with invalid UTF-8 or
    // nesting 50,000 deep is one warning naming file and line while the good lines import, and a task id seen
    // twice is reported (the first result kept).
    void hostile_run_files() {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        { std::ofstream(d + "/empty.jsonl"); }
        QCOMPARE(error_of(import_run("jsonl", d + "/empty.jsonl", BenchKind::gta)), d + "/empty.jsonl: no task results found");
        QCOMPARE(error_of(import_run("jsonl", d, BenchKind::gta)), d + ": is a folder; the jsonl format reads one file");
        std::filesystem::create_directories(d + "/emptyrun");
        QCOMPARE(error_of(import_run("matrix-gta", d + "/emptyrun", BenchKind::gta)), d + "/emptyrun: no task results found");
        {
            std::ofstream out(d + "/run.jsonl", std::ios::binary);
            out << "{\"task_id\": \"1\", \"answer\": \"a\"}\n";
            out << "{\"task_id\": \"2\", \"answer\": \"b\xff\xfe\"}\n";
            out << "{\"task_id\": \"3\", \"extra\": " << std::string(50000, '[') << std::string(50000, ']') << "}\n";
            out << "{\"task_id\": \"1\", \"answer\": \"again\"}\n";
            out << "{\"task_id\": \"4\", \"answer\": \"d\"}\n";
        }
        auto run = import_run("jsonl", d + "/run.jsonl", BenchKind::gta);
        QVERIFY2(run.ok(), run.ok() ? "" : run.error().to_string().c_str());
        QCOMPARE(int(run->results.size()), 2);
        QCOMPARE(run->results[0].answer, std::string("a"));
        QCOMPARE(run->results[1].task_id, std::string("4"));
        QCOMPARE(int(run->warnings.size()), 3);
        QVERIFY2(run->warnings[0].rfind(d + "/run.jsonl:2: JSON syntax error at byte ", 0) == 0, run->warnings[0].c_str());
        QVERIFY2(run->warnings[0].find("\\xff") != std::string::npos, run->warnings[0].c_str());  // printable
        QCOMPARE(run->warnings[1], d + "/run.jsonl:3: JSON nesting deeper than 512 levels at byte 537");
        QCOMPARE(run->warnings[2], d + "/run.jsonl: task 1 appears 2 times; the first result is kept");
    }

    void tool_calls_in_code_forms() {
        auto calls = tool_calls_in_code(
            "def ocr(x): pass\nres = visualizer('What?', image_path=img)\nobj.ocr('x')\nfinal_answer(42)\nprint(len(x))");
        QCOMPARE(int(calls.size()), 2);
        QCOMPARE(calls[0].name, std::string("visualizer"));
        QCOMPARE(calls[0].arguments["question"].get<std::string>(), std::string("What?"));  // positional mapped
        QCOMPARE(calls[0].arguments["image_path"]["$expr"].get<std::string>(), std::string("img"));
        QCOMPARE(calls[1].name, std::string("final_answer"));
        QCOMPARE(calls[1].arguments["answer"].get<int>(), 42);
    }

    // Two GTA runs with known answers: official AnsAcc, MATRIX accuracy and the flips between them.
    void gta_score_and_compare() {
        auto bench = load_gta(kShared + "/data/gta/dataset.json");
        QVERIFY(bench.ok());
        auto a = import_matrix_gta_run(kData + "matrix-gta/run-a");
        auto b = import_matrix_gta_run(kData + "matrix-gta/run-b");
        QVERIFY(a.ok() && b.ok());
        auto sa = score_run(BenchKind::gta, a->results, &bench.value(), ScorerKind::official);
        auto sb = score_run(BenchKind::gta, b->results, &bench.value(), ScorerKind::official);
        QVERIFY(sa.ok() && sb.ok());
        QCOMPARE(sa->metrics.at("answer_acc"), 60.0);  // 0, 1, 29 of 5 objective
        QCOMPARE(sb->metrics.at("answer_acc"), 40.0);  // 1, 2 (29 vetoed by the blacklist "cupcake")
        QCOMPARE(sa->metrics.at("n_scored"), 5.0);
        QVERIFY(!sa->find("8")->score.has_value());   // subjective: not scored without the embedding model
        QVERIFY(!sa->find("12")->score.has_value());  // image generation
        QCOMPARE(sa->find("8")->not_scored, std::string("needs embedding model"));
        QCOMPARE(sa->find("12")->not_scored, std::string("needs embedding model"));
        QCOMPARE(sa->to_json()["n_not_scored"].get<int>(), 2);
        QCOMPARE(sa->to_json()["not_scored"][0]["reason"].get<std::string>(), std::string("needs embedding model"));
        QCOMPARE(sa->metrics.at("tool_call"), 3.0);   // visualizer, ocr, objectlocation
        QCOMPARE(sa->metrics.at("tool_call_error"), 1.0);
        QVERIFY(sa->metrics.count("p_f1") && sa->metrics.at("p_f1") > 0);

        const Comparison c = compare_runs(sa.value(), sb.value());
        QCOMPARE(c.only_a, 2);
        QCOMPARE(c.only_b, 1);
        QCOMPARE(c.both, 1);
        QCOMPARE(c.neither, 1);
        QCOMPARE(ids_with(c, FlipKind::only_a), (std::vector<std::string>{"0", "29"}));
        QCOMPARE(ids_with(c, FlipKind::only_b), (std::vector<std::string>{"2"}));
        QCOMPARE(ids_with(c, FlipKind::both), (std::vector<std::string>{"1"}));
        QCOMPARE(ids_with(c, FlipKind::neither), (std::vector<std::string>{"3"}));
        QCOMPARE(*c.mcnemar_p, 1.0);  // 2 vs 1 discordant: 2 * P(X <= 1 | n = 3) = 2 * 4/8
        const MetricRow& m = c.metrics.front();
        QCOMPARE(m.name, std::string("answer_acc"));
        QCOMPARE(m.ci_method, std::string("wilson"));
        QCOMPARE(*m.diff, -20.0);
        // Wilson 95% for 3/5: centre (0.6 + z^2/10) / (1 + z^2/5), by hand with z = 1.959964.
        QVERIFY(std::abs(m.a_ci->lo - 23.0724) < 1e-3);
        QVERIFY(std::abs(m.a_ci->hi - 88.2378) < 1e-3);
        QVERIFY(m.diff_ci->lo <= -20.0 && m.diff_ci->hi >= -20.0);
        // Category F1s are ratios of summed counts: the per-task counts the scorer records give the official
        // value back exactly, and a bootstrap over the items gives their interval.
        double hit = 0, gold = 0, pred = 0;
        int counted = 0;
        for (const auto& t : sa->tasks) {
            counted += t.detail.value("tool_counted", false);
            hit += t.detail.value("tool_hit_perception", 0);
            gold += t.detail.value("tool_gold_perception", 0);
            pred += t.detail.value("tool_pred_perception", 0);
        }
        QCOMPARE(counted, 7);  // every task of the run is in the benchmark, scored or not
        QVERIFY(std::abs(gta_category_f1(hit, gold, pred) - sa->metrics.at("p_f1")) < 1e-12);
        const MetricRow* pf1 = nullptr;
        for (const auto& r : c.metrics) {
            if (r.name == "p_f1") pf1 = &r;
        }
        QVERIFY(pf1);
        QCOMPARE(pf1->ci_method, std::string("bootstrap"));
        QVERIFY(pf1->a_ci && pf1->b_ci && pf1->diff_ci);
        QVERIFY(pf1->a_ci->lo >= 0 && pf1->a_ci->lo <= pf1->a_ci->hi && pf1->a_ci->hi <= 100);
        QVERIFY(pf1->diff_ci->lo <= *pf1->diff && *pf1->diff <= pf1->diff_ci->hi);
        QCOMPARE(compare_runs(sa.value(), sb.value()).metrics[1].a_ci->lo, c.metrics[1].a_ci->lo);  // seeded
        // Groups: all five scored tasks are objective.
        QCOMPARE(int(c.groups.size()), 1);
        QCOMPARE(c.groups[0].group, std::string("objective"));
        QCOMPARE(c.groups[0].only_a, 2);

        // MATRIX's lenient scorer: "120" contains "12", the blacklist is ignored.
        auto ma = score_run(BenchKind::gta, a->results, &bench.value(), ScorerKind::matrix);
        auto mb = score_run(BenchKind::gta, b->results, nullptr, ScorerKind::matrix);  // from recorded ground truth
        QVERIFY(ma.ok() && mb.ok());
        QCOMPARE(ma->metrics.at("accuracy"), 60.0);
        QCOMPARE(mb->metrics.at("accuracy"), 80.0);
        QCOMPARE(ma->metrics.at("accuracy_all"), 300.0 / 7);
        QCOMPARE(mb->metrics.at("accuracy_all"), 400.0 / 6);
        const Comparison cm = compare_runs(ma.value(), mb.value());
        QCOMPARE(ids_with(cm, FlipKind::only_b), (std::vector<std::string>{"2"}));
        QCOMPARE(cm.only_a, 0);
        QCOMPARE(cm.both, 3);

        const std::string csv = c.to_csv();
        QVERIFY(csv.rfind("metric,a,b,diff", 0) == 0);
        QVERIFY(csv.find("\n29,objective,1,0,only_a\n") != std::string::npos);
        const json j = c.to_json();
        QCOMPARE(j["flips"]["only_a"].get<int>(), 2);
        QCOMPARE(j["flip_tasks"]["only_b"], json::array({"2"}));
    }

    // Three runs with known per-task results against baseline "base": outcomes, flips per run, Wilson
    // intervals, differences, groups, the not-scored reason and the CSV, all exact.
    void three_runs_against_baseline() {
        const std::vector<std::pair<std::string, std::string>> tasks = {
            {"t1", "g1"}, {"t2", "g1"}, {"t3", "g1"}, {"t4", "g2"}, {"t5", "g2"}, {"t6", "g2"}, {"t7", "subjective"}};
        const RunScore base = hand_run(tasks, "110010-");   // 3/6
        const RunScore tuned = hand_run(tasks, "101011-");  // 4/6
        const RunScore other = hand_run(tasks, "100100-");  // 2/6
        auto r = compare_many({base, tuned, other}, 0, {"base", "tuned", "other"});
        QVERIFY(r.ok());
        const MultiComparison& c = r.value();
        QCOMPARE(int(c.n_runs()), 3);
        QCOMPARE(c.n_complete, 6);
        QCOMPARE(c.solved_by_all, 1);
        QCOMPARE(c.solved_by_none, 0);
        QCOMPARE(c.solved_only_by, (std::vector<int>{1, 2, 1}));
        QCOMPARE(ids_matching(c, {OutcomeKind::solved_by_all}), (std::vector<std::string>{"t1"}));
        QCOMPARE(ids_matching(c, {OutcomeKind::only_run, 0}), (std::vector<std::string>{"t2"}));
        QCOMPARE(ids_matching(c, {OutcomeKind::only_run, 1}), (std::vector<std::string>{"t3", "t6"}));
        QCOMPARE(ids_matching(c, {OutcomeKind::only_run, 2}), (std::vector<std::string>{"t4"}));
        QCOMPARE(ids_matching(c, {OutcomeKind::gained, 1}), (std::vector<std::string>{"t3", "t6"}));
        QCOMPARE(ids_matching(c, {OutcomeKind::lost, 1}), (std::vector<std::string>{"t2"}));
        QCOMPARE(ids_matching(c, {OutcomeKind::gained, 2}), (std::vector<std::string>{"t4"}));
        QCOMPARE(ids_matching(c, {OutcomeKind::lost, 2}), (std::vector<std::string>{"t2", "t5"}));
        QCOMPARE(ids_matching(c, {OutcomeKind::gained, 0}), std::vector<std::string>{});  // the baseline itself
        QCOMPARE(ids_matching(c, {OutcomeKind::not_scored}), (std::vector<std::string>{"t7"}));
        QCOMPARE(int(ids_matching(c, {OutcomeKind::all_tasks}).size()), 7);
        QCOMPARE(c.versus[1].gained, 2);
        QCOMPARE(c.versus[1].lost, 1);
        QCOMPARE(c.versus[1].both, 2);
        QCOMPARE(c.versus[1].neither, 1);
        QCOMPARE(c.versus[2].gained, 1);
        QCOMPARE(c.versus[2].lost, 2);
        QCOMPARE(*c.versus[1].mcnemar_p, 1.0);  // 1 vs 2 discordant: 2 * (1 + 3) / 8
        QVERIFY(!c.versus[0].mcnemar_p.has_value());
        QCOMPARE(c.outcome_label(c.tasks[4]), std::string("solved by 2 of 3"));
        QCOMPARE(c.outcome_label(c.tasks[1]), std::string("only base"));
        QCOMPARE(c.outcome_label(c.tasks[6]), std::string("not scored (needs embedding model)"));
        QCOMPARE(c.not_scored_counts()[2].at("needs embedding model"), 1);

        const MultiMetricRow& m = c.metrics.front();
        QCOMPARE(m.name, std::string("answer_acc"));
        QCOMPARE(m.ci_method, std::string("wilson"));
        QCOMPARE(*m.runs[0].value, 50.0);
        QVERIFY(!m.runs[0].diff.has_value());
        QVERIFY(std::abs(*m.runs[1].diff - 100.0 / 6) < 1e-12);
        QVERIFY(std::abs(*m.runs[2].diff + 100.0 / 6) < 1e-12);
        // Wilson 95% for 3/6, 4/6, 2/6 (z = 1.959963984540054), by hand in Python.
        QVERIFY(std::abs(m.runs[0].ci->lo - 18.76163065) < 1e-7 && std::abs(m.runs[0].ci->hi - 81.23836935) < 1e-7);
        QVERIFY(std::abs(m.runs[1].ci->lo - 29.99933151) < 1e-7 && std::abs(m.runs[1].ci->hi - 90.32285889) < 1e-7);
        QVERIFY(std::abs(m.runs[2].ci->lo - 9.677141111) < 1e-7 && std::abs(m.runs[2].ci->hi - 70.00066849) < 1e-7);
        QVERIFY(m.runs[1].diff_ci->lo <= *m.runs[1].diff && *m.runs[1].diff <= m.runs[1].diff_ci->hi);
        QCOMPARE(c.metrics[1].name, std::string("n_scored"));
        QCOMPARE(c.metrics[1].ci_method, std::string(""));
        QVERIFY(!c.metrics[1].runs[1].ci.has_value());

        QCOMPARE(int(c.groups.size()), 2);  // t7 is not scored anywhere: no "subjective" row
        QCOMPARE(c.groups[0].group, std::string("g1"));
        QVERIFY(std::abs(*c.groups[0].values[2] - 100.0 / 3) < 1e-12);
        QCOMPARE(c.groups[1].gained, (std::vector<int>{0, 1, 1}));
        QCOMPARE(c.groups[1].lost, (std::vector<int>{0, 0, 1}));
        QVERIFY(std::abs(c.groups[0].cis[0]->lo - 20.76596008) < 1e-7);  // Wilson 2/3

        const std::string csv = c.to_csv();
        QVERIFY(csv.rfind("metric,ci_method,base,base ci_lo,base ci_hi,base diff,base diff_ci_lo,base diff_ci_hi,"
                          "tuned,", 0) == 0);
        QVERIFY(csv.find("\nanswer_acc,wilson,50,18.76163065,81.23836935,,,,66.66666667,29.99933151,90.32285889,"
                         "16.66666667,") != std::string::npos);
        QVERIFY(csv.find("\ntask_id,group,base,tuned,other,outcome\n") != std::string::npos);
        QVERIFY(csv.find("\nt2,g1,1,0,0,only base\n") != std::string::npos);
        QVERIFY(csv.find("\nt5,g2,1,1,0,solved by 2 of 3\n") != std::string::npos);
        QVERIFY(csv.find("\nt7,subjective,,,,not scored (needs embedding model)\n") != std::string::npos);
        QVERIFY(csv.find("\ng1,66.66666667,3,66.66666667,3,33.33333333,3\n") != std::string::npos);
        const json j = c.to_json();
        QCOMPARE(j["versus_baseline"][2]["lost_tasks"], json::array({"t2", "t5"}));
        QCOMPARE(j["outcomes"]["solved_only_by"][1]["tasks"], json::array({"t3", "t6"}));
        QCOMPARE(j["not_scored"][0]["reasons"]["needs embedding model"].get<int>(), 1);
        QCOMPARE(j["tasks"][6]["not_scored"][0].get<std::string>(), std::string("needs embedding model"));

        // Another baseline: "tuned" against "other" is the mirror image.
        auto r2 = compare_many({base, tuned, other}, 2, {"base", "tuned", "other"});
        QCOMPARE(r2->versus[1].gained, 3);  // t3, t5, t6
        QCOMPARE(r2->versus[1].lost, 1);    // t4
        QVERIFY(std::abs(*r2->metrics.front().runs[0].diff - 100.0 / 6) < 1e-12);
        // The two-run comparison is the projection with A as the baseline.
        const Comparison two = compare_runs(base, tuned);
        QCOMPARE(two.only_a, 1);
        QCOMPARE(two.only_b, 2);
        QCOMPARE(two.both, 2);
        QCOMPARE(two.neither, 1);
        QCOMPARE(two.metrics.front().diff_ci->lo, c.metrics.front().runs[1].diff_ci->lo);
        QCOMPARE(two.tasks[6].not_scored_a, std::string("needs embedding model"));
        QCOMPARE(two.to_json()["not_scored"]["b"]["needs embedding model"].get<int>(), 1);
        // Errors: one run, a baseline out of range, different primary metrics.
        QCOMPARE(error_of(compare_many({base})), std::string("a comparison needs at least two runs"));
        QCOMPARE(error_of(compare_many({base, tuned}, 2)), std::string("baseline index out of range"));
        RunScore f1 = base;
        f1.primary_metric = "toolset_f1";
        QCOMPARE(error_of(compare_many({base, f1})),
                 "runs have different primary metrics (" + base.primary_metric +
                     " vs toolset_f1): were they scored on the same benchmark with the same scorer?");
    }

    void gaia_import_score_compare() {
        auto bench = load_gaia(kData + "gaia");
        QVERIFY(bench.ok());
        auto a = import_matrix_gaia_run(kData + "matrix-gaia/validation.db");
        QVERIFY2(a.ok(), a.ok() ? "" : a.error().to_string().c_str());
        QCOMPARE(int(a->results.size()), 5);
        QCOMPARE(a->results[0].task_id, std::string("t-0001"));
        QCOMPARE(int(a->results[0].steps.size()), 2);  // from matrix-gaia/t-0001/agent_memory.json
        QCOMPARE(a->results[0].steps[0].observation, std::string("24"));
        QCOMPARE(a->results[1].ground_truth.get<std::string>(), std::string("blue, green, red"));
        auto b = import_jsonl_run(kData + "gaia-run.jsonl", BenchKind::gaia);
        QVERIFY(b.ok());
        QCOMPARE(int(b->results.size()), 5);
        QCOMPARE(int(b->warnings.size()), 2);  // line 6 has no task_id, line 7 is not JSON
        QVERIFY(!b->results[4].answer.has_value());
        QCOMPARE(b->results[4].error, std::string("Reached max iterations."));
        QCOMPARE(int(b->results[2].steps.size()), 2);
        QCOMPARE(b->results[2].steps[0].tool_calls[0].name, std::string("ocr"));
        QVERIFY(b->results[2].steps[1].is_final);

        auto sa = score_run(BenchKind::gaia, a->results, &bench.value(), ScorerKind::official);
        auto sb = score_run(BenchKind::gaia, b->results, &bench.value(), ScorerKind::official);
        QVERIFY(sa.ok() && sb.ok());
        QCOMPARE(sa->metrics.at("accuracy"), 80.0);
        QCOMPARE(sb->metrics.at("accuracy"), 60.0);
        QCOMPARE(sa->metrics.at("accuracy_l1"), 100.0);
        QCOMPARE(sa->metrics.at("accuracy_l3"), 0.0);
        QCOMPARE(sb->metrics.at("accuracy_l2"), 50.0);
        QCOMPARE(sb->metrics.at("accuracy_l3"), 100.0);
        const Comparison c = compare_runs(sa.value(), sb.value());
        QCOMPARE(ids_with(c, FlipKind::only_a), (std::vector<std::string>{"t-0001", "t-0005"}));
        QCOMPARE(ids_with(c, FlipKind::only_b), (std::vector<std::string>{"t-0004"}));
        QCOMPARE(ids_with(c, FlipKind::both), (std::vector<std::string>{"t-0002", "t-0003"}));
        QCOMPARE(c.neither, 0);
        QCOMPARE(int(c.groups.size()), 3);
        QCOMPARE(c.groups[2].group, std::string("level 3"));
        QCOMPARE(*c.groups[2].a, 0.0);
        QCOMPARE(*c.groups[2].b, 100.0);
        // Without the benchmark, the ground truth recorded in the database is used.
        auto s_nobench = score_run(BenchKind::gaia, a->results, nullptr, ScorerKind::official);
        QCOMPARE(s_nobench->metrics.at("accuracy"), 80.0);
    }

    void agentx_toolset_scoring() {
        auto bench = load_agentx(kData + "agentx/data.json", {});
        QVERIFY(bench.ok());
        std::vector<TaskResult> results(2);
        results[0].task_id = "ax-001";
        results[0].answer = "$7.00";
        results[0].steps.push_back({0, "", "", {{"OCR", json::object()}, {"Calculator", json::object()}}, "", false, false});
        results[1].task_id = "ax-002";
        results[1].steps.push_back({0, "", "", {{"ObjectCounter", json::object()}, {"OCR", json::object()}}, "", false, false});
        auto s = score_run(BenchKind::agentx, results, &bench.value(), ScorerKind::official);
        QVERIFY(s.ok());
        // ax-001: F1 1; ax-002: gold {ObjectCounter, RegionDescriber, SceneDescriber}, pred {ObjectCounter, OCR}:
        // P = 1/2, R = 1/3, F1 = 0.4. Macro = 0.7.
        QCOMPARE(*s->find("ax-002")->score, 0.4);
        QVERIFY(std::abs(s->metrics.at("toolset_f1") - 70.0) < 1e-9);
        QVERIFY(std::abs(s->metrics.at("toolset_precision_micro") - 75.0) < 1e-9);  // 3 of 4 predicted
        QVERIFY(std::abs(s->metrics.at("toolset_recall_micro") - 60.0) < 1e-9);     // 3 of 5 gold
        QVERIFY(s->notes.front().find("not configured") != std::string::npos);
        // Continuous scores: bootstrap CI.
        const Comparison c = compare_runs(s.value(), s.value());
        QCOMPARE(c.metrics.front().ci_method, std::string("bootstrap"));
        QCOMPARE(*c.metrics.front().diff, 0.0);
    }

    // With a configured judge every Agent-X judge metric is asked once per task; a failing judge is noted,
    // never replaced by a made-up score.
    void agentx_judged_scoring() {
        auto bench = load_agentx(kData + "agentx/data.json", {});
        std::vector<TaskResult> results(2);
        results[0].task_id = "ax-001";
        results[0].answer = "$7.00";
        results[1].task_id = "ax-002";
        results[1].answer = "4";
        const int srv = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        QVERIFY(::bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        QVERIFY(::listen(srv, 16) == 0);
        socklen_t len = sizeof addr;
        ::getsockname(srv, reinterpret_cast<sockaddr*>(&addr), &len);
        const int n_requests = 2 * int(agentx_judge_metrics().size());
        std::thread server([&] {
            for (int i = 0; i < n_requests; ++i) {
                const int c = ::accept(srv, nullptr, nullptr);
                std::string req;
                char buf[65536];
                for (;;) {
                    const ssize_t n = ::recv(c, buf, sizeof buf, 0);
                    if (n <= 0) break;
                    req.append(buf, size_t(n));
                    const size_t he = req.find("\r\n\r\n"), cl = req.find("Content-Length: ");
                    if (he != std::string::npos && cl != std::string::npos &&
                        req.size() >= he + 4 + std::stoul(req.substr(cl + 16))) break;
                }
                // Task ax-001 gets 1.0, ax-002 gets 0.5 (the prompt names the query).
                const bool first = req.find("two coffees") != std::string::npos;
                const std::string body = std::string(R"({"choices": [{"message": {"content": ")") +
                                         (first ? "1.0" : "0.5") + "\"}}]}";
                const std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                                         "\r\nConnection: close\r\n\r\n" + body;
                ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
                ::close(c);
            }
        });
        JudgeConfig cfg;
        cfg.endpoint = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/v1/chat/completions";
        cfg.model = "stub";
        cfg.timeout_ms = 5000;
        auto s = score_run(BenchKind::agentx, results, &bench.value(), ScorerKind::official);
        QVERIFY(s.ok());
        QCOMPARE(add_agentx_judge_metrics(s.value(), results, bench.value(), cfg), 0);
        server.join();
        ::close(srv);
        QCOMPARE(s->metrics.at("judge_goal_accuracy"), 75.0);
        QCOMPARE(s->metrics.at("judge_grounding"), 75.0);
        QCOMPARE(s->find("ax-002")->detail["judge_context"].get<double>(), 0.5);
        // Unreachable judge: metrics left out, noted.
        cfg.endpoint = "http://127.0.0.1:1/v1/chat/completions";
        auto f = score_run(BenchKind::agentx, results, &bench.value(), ScorerKind::official);
        QVERIFY(f.ok());
        QCOMPARE(add_agentx_judge_metrics(f.value(), results, bench.value(), cfg), 16);
        QVERIFY(!f->metrics.count("judge_goal_accuracy"));
        QVERIFY(f->notes.back().find("judge requests failed") != std::string::npos);
    }

    void statistics() {
        const Interval w = wilson_interval(0, 10);
        QCOMPARE(w.lo, 0.0);
        QVERIFY(std::abs(w.hi - 0.27753) < 1e-4);
        QCOMPARE(mcnemar_exact_p(0, 0), 1.0);
        QVERIFY(std::abs(mcnemar_exact_p(0, 6) - 0.03125) < 1e-12);
        const Interval b1 = bootstrap_mean_interval({0.2, 0.4, 0.9});
        const Interval b2 = bootstrap_mean_interval({0.2, 0.4, 0.9});
        QCOMPARE(b1.lo, b2.lo);  // seeded: reproducible
        QVERIFY(b1.lo >= 0.2 && b1.hi <= 0.9 && b1.lo < b1.hi);
    }

    void judge_not_configured() {
        JudgeConfig cfg;
        QVERIFY(!cfg.configured());
        auto r = judge_score(cfg, "grounding", "q", "gold", "pred");
        QVERIFY(!r.ok());
        QCOMPARE(r.error().message, std::string("judge not configured"));
        cfg.endpoint = "ftp://127.0.0.1:1/v1/chat/completions";  // http:// and https:// only
        cfg.model = "m";
        auto scheme = judge_score(cfg, "grounding", "q", "gold", "pred");
        QVERIFY(!scheme.ok());
        QVERIFY2(scheme.error().message.find("only http:// and https:// URLs are supported") != std::string::npos,
                 scheme.error().to_string().c_str());
        QCOMPARE(int(agentx_judge_metrics().size()), 8);
    }

    void judge_with_local_stub_server() {
        const int srv = ::socket(AF_INET, SOCK_STREAM, 0);
        QVERIFY(srv >= 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        QVERIFY(::bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        QVERIFY(::listen(srv, 1) == 0);
        socklen_t len = sizeof addr;
        ::getsockname(srv, reinterpret_cast<sockaddr*>(&addr), &len);
        const int port = ntohs(addr.sin_port);
        std::string request;
        std::thread server([&] {
            const int c = ::accept(srv, nullptr, nullptr);
            char buf[65536];
            // Read until the body (Content-Length) has arrived.
            for (;;) {
                const ssize_t n = ::recv(c, buf, sizeof buf, 0);
                if (n <= 0) break;
                request.append(buf, size_t(n));
                const size_t he = request.find("\r\n\r\n");
                const size_t cl = request.find("Content-Length: ");
                if (he != std::string::npos && cl != std::string::npos &&
                    request.size() >= he + 4 + std::stoul(request.substr(cl + 16))) break;
            }
            const std::string body = R"({"choices": [{"message": {"role": "assistant", "content": "Score: 0.75"}}]})";
            const std::string resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
            ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
            ::close(c);
        });
        JudgeConfig cfg;
        cfg.endpoint = "http://127.0.0.1:" + std::to_string(port) + "/v1/chat/completions";
        cfg.model = "judge-model";
        cfg.timeout_ms = 5000;
        auto r = judge_score(cfg, "goal_accuracy", "How much?", "$7.00", "7 dollars");
        server.join();
        ::close(srv);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().to_string().c_str());
        QCOMPARE(r->score, 0.75);
        QVERIFY(request.rfind("POST /v1/chat/completions HTTP/1.1", 0) == 0);
        const json sent = json::parse(request.substr(request.find("\r\n\r\n") + 4));
        QCOMPARE(sent["model"].get<std::string>(), std::string("judge-model"));
        QVERIFY(sent["messages"][0]["content"].get<std::string>().find("goal_accuracy") != std::string::npos);
        QCOMPARE(error_of(parse_judge_reply(R"({"choices": [{"message": {"content": "7"}}]})")),
                 std::string("judge score outside [0, 1]: 7"));
    }
};

QTEST_GUILESS_MAIN(TestBenchRuns)
#include "test_bench_runs.moc"
