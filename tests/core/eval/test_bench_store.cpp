// Benchmarks and eval runs in the project store: the real GTA-1 file as a dataset (tasks, gold trajectories,
// media), loading twice adds nothing, runs stored with results/trajectories/metrics/provenance, scoring and
// comparison from the store giving the same flips as in memory; and the `matrix bench` CLI end to end.
#include <QtTest>

#include "core/eval/bench_store.h"
#include "core/eval/gaia_loader.h"
#include "core/eval/gta_loader.h"
#include "core/eval/run_import.h"
#include "core/store/dataset_repo.h"
#include "core/store/media_repo.h"
#include "core/store/provenance.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"

using namespace matrix;
using namespace matrix::eval;
using nlohmann::json;

namespace {
const std::string kShared = MATRIX_SHARED_DIR;
const std::string kData = std::string(MATRIX_SOURCE_DIR) + "/tests/data/bench/";
}  // namespace

class TestBenchStore : public QObject {
    Q_OBJECT
private slots:
    void gta_benchmark_as_dataset() {
        auto project = store::Project::open(":memory:");
        QVERIFY(project.ok());
        auto bench = load_gta(kShared + "/data/gta/dataset.json");
        QVERIFY(bench.ok());
        auto stored = store_benchmark(project.value(), bench.value());
        QVERIFY2(stored.ok(), stored.ok() ? "" : stored.error().to_string().c_str());
        QCOMPARE(stored->n_added, 229);
        QCOMPARE(stored->n_trajectories, 229);
        QCOMPARE(stored->n_media, 249);
        QCOMPARE(stored->n_media_missing, 249);  // images are not shipped with dataset.json
        auto again = store_benchmark(project.value(), bench.value());
        QVERIFY(again.ok());
        QCOMPARE(again->n_added, 0);
        QCOMPARE(again->n_existing, 229);

        store::DatasetRepo datasets(project->db());
        auto ds = datasets.find("gta");
        QVERIFY(ds.ok() && ds.value().has_value());
        QCOMPARE(ds.value()->kind, std::string("gta"));
        auto counts = datasets.counts(ds.value()->id);
        QCOMPARE(counts->tasks, int64_t(229));
        QCOMPARE(counts->trajectories, int64_t(229));

        store::TaskRepo tasks(project->db());
        auto tid = tasks.find_by_external_id(ds.value()->id, "0");
        QVERIFY(tid.ok() && tid.value().has_value());
        auto task = tasks.get(*tid.value());
        QCOMPARE(json::parse(*task.value()->ground_truth), json::parse(R"({"whitelist": [["12"]], "blacklist": null})"));
        QCOMPARE(task.value()->category.value(), std::string("objective"));
        QCOMPARE(task.value()->n_missing_media, 2);
        store::TrajectoryRepo trajectories(project->db());
        auto gold = trajectories.primary_for_task(*tid.value());
        QVERIFY(gold.ok() && gold.value().has_value());
        QCOMPARE(gold.value()->source, std::string("gold"));
        // Item 0: five tool calls (each with its tool output as observation) then the final answer.
        QCOMPARE(int(gold.value()->steps.size()), 6);
        QCOMPARE(gold.value()->steps[0].tool_calls[0].name, std::string("ImageDescription"));
        QCOMPARE(json::parse(gold.value()->steps[0].tool_calls[0].arguments)["image"].get<std::string>(),
                 std::string("image/image_1.jpg"));
        QVERIFY(gold.value()->steps[0].observation->find("dining table") != std::string::npos);
        QVERIFY(gold.value()->steps[5].is_final);

        // Every gold tool call of the file is in the store (557) plus one final_answer per final turn (213).
        int n_calls = 0;
        store::TaskFilter f;
        f.dataset_id = ds.value()->id;
        store::TaskPageRequest req;
        req.limit = 300;
        auto page = tasks.page(f, req);
        QVERIFY(page.ok());
        QCOMPARE(int(page->size()), 229);
        for (const auto& s : page.value()) {
            auto tr = trajectories.primary_for_task(s.id);
            for (const auto& st : tr.value()->steps) {
                for (const auto& c : st.tool_calls) n_calls += c.name != "final_answer";
            }
        }
        QCOMPARE(n_calls, 557);

        // Reading it back gives the same items.
        auto back = load_stored_benchmark(project.value(), BenchKind::gta);
        QVERIFY(back.ok());
        QCOMPARE(int(back->items.size()), 229);
        QCOMPARE(back->items[29].gold_answer, bench->items[29].gold_answer);
        QCOMPARE(back->items[0].gold_steps.size(), bench->items[0].gold_steps.size());
    }

    void runs_in_store_and_comparison() {
        auto project = store::Project::open(":memory:");
        QVERIFY(project.ok());
        QVERIFY(store_benchmark(project.value(), load_gta(kShared + "/data/gta/dataset.json").value()).ok());
        auto a = import_matrix_gta_run(kData + "matrix-gta/run-a");
        auto b = import_matrix_gta_run(kData + "matrix-gta/run-b");
        StoreRunOptions opt;
        opt.training_run_id = std::nullopt;
        auto ida = store_run(project.value(), a.value(), opt);
        QVERIFY2(ida.ok(), ida.ok() ? "" : ida.error().to_string().c_str());
        auto idb = store_run(project.value(), b.value());
        QVERIFY(idb.ok());

        auto runs = list_eval_runs(project.value());
        QCOMPARE(int(runs->size()), 2);
        QCOMPARE(runs->front().id, idb.value());  // newest first
        QCOMPARE(runs->back().benchmark.value(), std::string("gta"));
        QCOMPARE(runs->back().model_path.value(), std::string("run-a"));

        store::RunRepo repo(project->db());
        auto results = repo.results(ida.value());
        QCOMPARE(int(results->size()), 7);
        const store::RunResult& r0 = results->front();
        QCOMPARE(r0.task_key, std::string("0"));
        QVERIFY(r0.task_id.has_value() && r0.trajectory_id.has_value());
        const json scores = json::parse(r0.scores);
        QCOMPARE(scores["official"].get<double>(), 1.0);
        QCOMPARE(scores["matrix"].get<double>(), 1.0);
        auto names = repo.metric_names(ida.value());
        QVERIFY(std::find(names->begin(), names->end(), "official/answer_acc") != names->end());
        QCOMPARE(repo.metric_series(ida.value(), "official/answer_acc")->front().value, 60.0);
        QCOMPARE(repo.metric_series(idb.value(), "matrix/accuracy")->front().value, 80.0);
        store::ProvenanceRepo prov(project->db());
        auto links = prov.from("run", ida.value());
        QCOMPARE(int(links->size()), 1);
        QCOMPARE(links->front().relation, std::string("evaluated_on"));

        // The stored trajectory reads back as the imported steps.
        auto loaded = load_stored_run(project.value(), ida.value());
        QVERIFY(loaded.ok());
        QCOMPARE(int(loaded->results[0].steps.size()), 3);
        QCOMPARE(loaded->results[0].steps[1].tool_calls[0].name, std::string("ocr"));
        QCOMPARE(loaded->results[0].steps[0].observation, std::string("Two bottles of beer on a table."));
        QVERIFY(loaded->results[2].steps[0].is_error);

        auto c = compare_stored_runs(project.value(), ida.value(), idb.value(), ScorerKind::official);
        QVERIFY(c.ok());
        QCOMPARE(c->only_a, 2);
        QCOMPARE(c->only_b, 1);
        QCOMPARE(c->both, 1);
        QCOMPARE(c->neither, 1);
        QCOMPARE(*c->metrics.front().a, 60.0);
        QCOMPARE(*c->metrics.front().b, 40.0);
        auto cm = compare_stored_runs(project.value(), ida.value(), idb.value(), ScorerKind::matrix);
        QCOMPARE(cm->only_b, 1);
        QCOMPARE(cm->only_a, 0);
    }

    void gaia_run_without_benchmark() {
        // No GAIA benchmark in the project: results keep their steps and are scored from recorded ground truth.
        auto project = store::Project::open(":memory:");
        auto a = import_matrix_gaia_run(kData + "matrix-gaia/validation.db");
        auto id = store_run(project.value(), a.value());
        QVERIFY2(id.ok(), id.ok() ? "" : id.error().to_string().c_str());
        auto s = score_stored_run(project.value(), id.value(), ScorerKind::official);
        QVERIFY(s.ok());
        QCOMPARE(s->metrics.at("accuracy"), 80.0);
        auto loaded = load_stored_run(project.value(), id.value());
        QCOMPARE(int(loaded->results[0].steps.size()), 2);  // kept in run_results.extra
        QVERIFY(!loaded->task_ids[0].has_value());
    }

    void cli_end_to_end() {
        const QString matrix = QString(MATRIX_BINARY_DIR) + "/app/matrix";
        if (!QFileInfo::exists(matrix)) QSKIP("the matrix binary is not built");
        QTemporaryDir dir;
        const QString db = dir.filePath("p.db");
        auto run = [&](const QStringList& args, QString* out = nullptr) {
            QProcess p;
            p.start(matrix, args);
            p.waitForFinished(120000);
            if (out) *out = QString::fromUtf8(p.readAllStandardOutput());
            return p.exitCode();
        };
        const QString d = QString::fromStdString(kData);
        QCOMPARE(run({"bench", "load", "--db", db, "--benchmark", "gaia", d + "gaia"}), 0);
        QString out;
        QCOMPARE(run({"bench", "import-run", "--db", db, "--benchmark", "gaia", "--format", "matrix-gaia",
                      d + "matrix-gaia/validation.db"}, &out), 0);
        const QString id_a = out.trimmed().split('\n').last();
        QCOMPARE(run({"bench", "import-run", "--db", db, "--benchmark", "gaia", "--format", "jsonl", d + "gaia-run.jsonl"},
                     &out), 0);
        const QString id_b = out.trimmed().split('\n').last();
        QCOMPARE(id_a, QString("1"));
        QCOMPARE(id_b, QString("2"));
        QCOMPARE(run({"bench", "score", "--db", db, "--run", id_a, "--json"}, &out), 0);
        json j = json::parse(out.toStdString());
        QCOMPARE(j["metrics"]["accuracy"].get<double>(), 80.0);
        QCOMPARE(j["metrics"]["accuracy_l3"].get<double>(), 0.0);
        QCOMPARE(run({"bench", "compare", "--db", db, id_a, id_b, "--json", "--csv", dir.filePath("c.csv")}, &out), 0);
        j = json::parse(out.toStdString());
        QCOMPARE(j["flips"]["only_a"].get<int>(), 2);
        QCOMPARE(j["flips"]["only_b"].get<int>(), 1);
        QCOMPARE(j["flip_tasks"]["only_b"], json::array({"t-0004"}));
        QVERIFY(QFileInfo(dir.filePath("c.csv")).size() > 0);
        QVERIFY(run({"bench", "score", "--db", db, "--run", "99"}) != 0);
        QVERIFY(run({"bench", "load", "--db", db, "--benchmark", "nope", d}) != 0);
        QCOMPARE(run({"bench", "--help"}), 0);
    }
};

QTEST_GUILESS_MAIN(TestBenchStore)
#include "test_bench_store.moc"
