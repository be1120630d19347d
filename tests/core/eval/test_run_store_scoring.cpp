// store_run scores a run as it stores it, from the results in memory (not by reading the stored run back): the
// scores, metrics and summary it writes must be exactly what score_stored_run computes from the stored rows.
// Each case stores a run, snapshots every row, metric and the summary, scores the stored run again the old way
// (score_stored_run, official and, for GTA, matrix) and requires the same bytes; the cases cover the importers'
// runs with and without the benchmark in the project, and a run with duplicate task ids, steps out of index
// order, non-object tool arguments and step predictions (what the store does not keep as given).
#include <QtTest>

#include "core/eval/agentx_loader.h"
#include "core/eval/bench_store.h"
#include "core/eval/gaia_loader.h"
#include "core/eval/gta_loader.h"
#include "core/eval/run_import.h"
#include "core/store/run_repo.h"

using namespace matrix;
using namespace matrix::eval;
using nlohmann::json;

namespace {
const std::string kShared = MATRIX_SHARED_DIR;
const std::string kData = std::string(MATRIX_SOURCE_DIR) + "/tests/data/bench/";

template <class T>
T must(Result<T> r) {
    if (!r.ok()) qFatal("unexpected error: %s", r.error().to_string().c_str());
    return std::move(r).value();
}

// Everything of the run that scoring writes or reads, as text.
std::vector<std::string> snapshot(store::Project& project, int64_t run_id) {
    store::RunRepo runs(project.db());
    std::vector<std::string> out;
    for (const auto& r : must(runs.results(run_id))) {
        out.push_back(r.task_key + " | " + r.answer.value_or("<none>") + " | " + r.scores + " | " +
                      r.error.value_or("") + " | " + r.extra.value_or("") + " | " +
                      (r.trajectory_id ? "trajectory" : "-") + " | " + (r.task_id ? "task" : "-"));
    }
    for (const auto& name : must(runs.metric_names(run_id))) {
        for (const auto& p : must(runs.metric_series(run_id, name))) {
            out.push_back("metric " + name + " " + std::to_string(p.step) + " " + json(p.value).dump());
        }
    }
    const auto run = must(runs.get(run_id));
    out.push_back("summary " + run->summary + " status " + run->status);
    return out;
}

// Stores `run`, then scores the stored run again the old way; returns both snapshots.
std::pair<std::vector<std::string>, std::vector<std::string>> store_and_rescore(store::Project& project, ImportedRun run) {
    const BenchKind kind = run.benchmark;
    const int64_t id = must(store_run(project, std::move(run)));
    auto stored = snapshot(project, id);
    must(score_stored_run(project, id, ScorerKind::official));
    if (kind == BenchKind::gta) must(score_stored_run(project, id, ScorerKind::matrix));
    return {stored, snapshot(project, id)};
}

void compare(const std::pair<std::vector<std::string>, std::vector<std::string>>& s) {
    QCOMPARE(s.first.size(), s.second.size());
    for (size_t i = 0; i < s.first.size(); ++i) QCOMPARE(QString::fromStdString(s.first[i]), QString::fromStdString(s.second[i]));
}

// A hand-made GTA run of what the store does not keep as given.
ImportedRun awkward_gta_run(const json& ground_truth = json::parse(R"({"whitelist": [["12", "twelve"]], "blacklist": [["13"]]})")) {
    ImportedRun run;
    run.benchmark = BenchKind::gta;
    run.format = "jsonl";
    run.name = "awkward";
    TaskResult a;
    a.task_id = "0";
    a.answer = "first answer";
    a.ground_truth = ground_truth;
    a.step_predictions = {json{{"role", "assistant"}, {"content", "ignored"}}};
    TaskResult b = a;  // same key again: the store keeps this one's content at the first one's row
    b.answer = "The total is 12 dollars.";
    RunStep s1;
    s1.index = 1;
    s1.thought = "second";
    s1.tool_calls = {{"final_answer", json("The total is 12 dollars.")}};  // not an object: {"$0": ...}
    s1.is_final = true;
    RunStep s0;
    s0.index = 0;
    s0.thought = "first";
    s0.tool_calls = {{"ocr", json{{"image_path", "image/image_1.jpg"}, {"n", 3}, {"x", 0.1}}}};
    s0.observation = "BEER 6.00";
    b.steps = {s1, s0};  // out of index order
    TaskResult c;
    c.task_id = "no-such-task";  // no project task: its steps stay in the row
    c.answer = "x";
    RunStep s;
    s.index = 0;
    s.tool_calls = {{"Calculator", json(42)}};
    c.steps = {s};
    TaskResult d;
    d.task_id = "1";
    d.error = "timeout";
    run.results = {a, c, b, d};
    return run;
}
}  // namespace

class TestRunStoreScoring : public QObject {
    Q_OBJECT
private slots:
    void gta_runs_with_the_benchmark() {
        auto project = must(store::Project::open(":memory:"));
        must(store_benchmark(project, must(load_gta(kShared + "/data/gta/dataset.json"))));
        compare(store_and_rescore(project, must(import_matrix_gta_run(kData + "matrix-gta/run-a"))));
        compare(store_and_rescore(project, must(import_matrix_gta_run(kData + "matrix-gta/run-b"))));
        compare(store_and_rescore(project, must(import_jsonl_run(kData + "gta-run-c.jsonl", BenchKind::gta))));
        auto awkward = store_and_rescore(project, awkward_gta_run());
        compare(awkward);
        // The duplicate's last content at its first row, its steps read back in index order and scored so.
        QCOMPARE(QString::fromStdString(awkward.first[0]),
                 QString("0 | The total is 12 dollars. | {\"group\":\"objective\",\"matrix\":1.0,\"matrix_detail\":"
                         "{\"correct\":true},\"official\":1.0,\"official_detail\":{\"correct\":true,\"tool_counted\":true,"
                         "\"tool_gold_logic\":1,\"tool_gold_perception\":4,\"tool_hit_perception\":2,"
                         "\"tool_pred_perception\":1}} |  | {\"ground_truth\":{\"blacklist\":[[\"13\"]],\"whitelist\":"
                         "[[\"12\",\"twelve\"]]},\"question\":\"\"} | trajectory | task"));
        QCOMPARE(QString::fromStdString(awkward.first[3]), QString("metric matrix/accuracy 0 50.0"));
    }

    void gta_run_without_the_benchmark() {
        auto project = must(store::Project::open(":memory:"));
        compare(store_and_rescore(project, must(import_matrix_gta_run(kData + "matrix-gta/run-a"))));
        compare(store_and_rescore(project, awkward_gta_run()));
    }

    // A scoring error (here a ground truth the GTA check refuses) leaves nothing behind: the run is scored before
    // anything is written.
    void scoring_error_writes_nothing() {
        auto project = must(store::Project::open(":memory:"));
        auto id = store_run(project, awkward_gta_run(json::parse(R"({"whitelist": [["12", 12]], "blacklist": null})")));
        QVERIFY(!id.ok());
        QCOMPARE(id.error().to_string(), std::string("task 0: alias is not a string: 12"));
        QCOMPARE(must(list_eval_runs(project)).size(), size_t(0));
        QCOMPARE(must(project.db().query_int64("SELECT count(*) FROM run_results")), int64_t(0));
    }

    void gaia_and_agentx_runs() {
        auto project = must(store::Project::open(":memory:"));
        must(store_benchmark(project, must(load_gaia(kData + "gaia"))));
        compare(store_and_rescore(project, must(import_jsonl_run(kData + "gaia-run.jsonl", BenchKind::gaia))));
        compare(store_and_rescore(project, must(import_matrix_gaia_run(kData + "matrix-gaia/validation.db"))));
        must(store_benchmark(project, must(load_agentx(kData + "agentx/data.json", {}))));
        compare(store_and_rescore(project, must(import_jsonl_run(kData + "agentx-run.jsonl", BenchKind::agentx))));
    }
};

QTEST_GUILESS_MAIN(TestRunStoreScoring)
#include "test_run_store_scoring.moc"
