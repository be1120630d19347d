// The run-comparison pane offscreen: a project with the real GTA-1 benchmark and two imported MATRIX runs
// with known flips (tests/data/bench/matrix-gta/run-a, run-b); compare, check the models, the flip filters,
// the task view's step alignment with the gold dialog, the CSV/PNG/SVG exports, and render the pane and the
// task view to PNG (build/test_output/run_compare_*.png) for a person to look at.
#include <QtTest>

#include <QTabWidget>

#include "core/bench/bench_store.h"
#include "core/bench/gta_loader.h"
#include "core/bench/run_import.h"
#include "ui/models/run_group_model.h"
#include "ui/models/run_list_model.h"
#include "ui/models/run_metrics_model.h"
#include "ui/models/run_step_alignment_model.h"
#include "ui/models/run_task_model.h"
#include "ui/views/run_compare_pane.h"
#include "ui/views/run_compare_task_view.h"

using namespace matrix;
using namespace matrix::ui;

namespace {
const std::string kShared = MATRIX_SHARED_DIR;
const std::string kData = std::string(MATRIX_SOURCE_DIR) + "/tests/data/bench/";
}  // namespace

class TestRunCompare : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_db;
    QString m_out;

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_db = m_dir.filePath("project.db");
        m_out = QString(MATRIX_BINARY_DIR) + "/test_output";
        QDir().mkpath(m_out);
        auto project = store::Project::open(m_db.toStdString());
        QVERIFY(project.ok());
        QVERIFY(bench::store_benchmark(project.value(), bench::load_gta(kShared + "/data/gta/dataset.json").value()).ok());
        QVERIFY(bench::store_run(project.value(), bench::import_matrix_gta_run(kData + "matrix-gta/run-a").value()).ok());
        QVERIFY(bench::store_run(project.value(), bench::import_matrix_gta_run(kData + "matrix-gta/run-b").value()).ok());
    }

    void compare_and_render() {
        RunComparePane pane(m_db);
        pane.resize(1280, 860);
        QVERIFY(pane.isOpen());
        QCOMPARE(pane.runModel()->rowCount(), 2);
        QCOMPARE(pane.runModel()->run(1).name, QString("run-a"));
        QCOMPARE(pane.runModel()->run(1).headline, QString("answer_acc 60.00"));

        QSignalSpy ready(&pane, &RunComparePane::comparisonReady);
        pane.compareRuns(1, 2);
        QVERIFY(ready.wait(30000));
        QVERIFY(pane.comparison().has_value());

        // Metrics: answer_acc first, 60 vs 40, Wilson intervals.
        RunMetricsModel* m = pane.metricsModel();
        QCOMPARE(m->index(0, RunMetricsModel::MetricColumn).data().toString(), QString("answer_acc"));
        QCOMPARE(m->index(0, RunMetricsModel::AColumn).data().toString(), QString("60.00"));
        QCOMPARE(m->index(0, RunMetricsModel::BColumn).data().toString(), QString("40.00"));
        QCOMPARE(m->index(0, RunMetricsModel::DiffColumn).data().toString(), QString("-20.00"));
        QCOMPARE(m->index(0, RunMetricsModel::ACiColumn).data().toString(), QString("[23.07, 88.24]"));
        QVERIFY(m->index(0, RunMetricsModel::DiffColumn).data(Qt::BackgroundRole).isValid());

        // Flip filters over the per-task grid (7 tasks: 5 scored, 2 not scored).
        RunTaskFilterModel* f = pane.taskFilterModel();
        QCOMPARE(f->rowCount(), 7);
        pane.setFlipFilter(bench::FlipKind::only_a);
        QCOMPARE(f->rowCount(), 2);
        QStringList ids;
        for (int r = 0; r < f->rowCount(); ++r) ids << f->index(r, RunTaskModel::TaskColumn).data().toString();
        ids.sort();
        QCOMPARE(ids, (QStringList{"0", "29"}));
        pane.setFlipFilter(bench::FlipKind::only_b);
        QCOMPARE(f->rowCount(), 1);
        QCOMPARE(f->index(0, RunTaskModel::TaskColumn).data().toString(), QString("2"));
        pane.setFlipFilter(bench::FlipKind::both);
        QCOMPARE(f->rowCount(), 1);
        pane.setFlipFilter(bench::FlipKind::neither);
        QCOMPARE(f->rowCount(), 1);
        pane.setFlipFilter(std::nullopt);
        QCOMPARE(f->rowCount(), 7);

        // Breakdown by answer form.
        QCOMPARE(pane.groupModel()->rowCount(), 1);
        QCOMPARE(pane.groupModel()->index(0, RunGroupModel::OnlyAColumn).data().toInt(), 2);

        // Exports.
        const QString csv = m_dir.filePath("cmp.csv");
        QVERIFY(pane.exportCsv(csv));
        QFile cf(csv);
        QVERIFY(cf.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(cf.readAll());
        QVERIFY(text.startsWith("metric,a,b,diff"));
        QVERIFY(text.contains("\n0,objective,1,0,only_a\n"));
        QVERIFY(pane.exportChart(m_out + "/run_compare_chart.png"));
        QVERIFY(!QImage(m_out + "/run_compare_chart.png").isNull());
        QVERIFY(pane.exportChart(m_dir.filePath("chart.svg")));
        QFile sf(m_dir.filePath("chart.svg"));
        QVERIFY(sf.open(QIODevice::ReadOnly));
        QVERIFY(sf.readAll().contains("<svg"));

        pane.show();
        QVERIFY(QTest::qWaitForWindowExposed(&pane));
        QVERIFY(pane.grab().save(m_out + "/run_compare_metrics.png"));
        pane.tabs()->setCurrentIndex(1);
        pane.setFlipFilter(std::nullopt);
        QVERIFY(pane.grab().save(m_out + "/run_compare_tasks.png"));
        pane.tabs()->setCurrentIndex(2);
        QVERIFY(pane.grab().save(m_out + "/run_compare_breakdown.png"));

        // Task 0 side by side with the gold dialog.
        RunCompareTaskView* view = pane.openTask("0");
        QVERIFY(view);
        RunStepAlignmentModel* a = view->alignmentModel();
        QCOMPARE(a->rowCount(), 6);  // gold has 6 steps (5 tool calls + answer); A has 3, B has 2
        QVERIFY(a->index(0, RunStepAlignmentModel::GoldColumn).data().toString().startsWith("ImageDescription("));
        QVERIFY(a->index(0, RunStepAlignmentModel::AColumn).data().toString().startsWith("visualizer("));
        // visualizer == ImageDescription: no highlight; B's first step (ocr) differs from gold's.
        QVERIFY(!a->index(0, RunStepAlignmentModel::AColumn).data(RunStepAlignmentModel::ToolsDifferRole).toBool());
        QVERIFY(a->index(0, RunStepAlignmentModel::BColumn).data(RunStepAlignmentModel::ToolsDifferRole).toBool());
        QVERIFY(!a->index(5, RunStepAlignmentModel::AColumn).data().isValid());
        view->resize(1200, 640);
        view->show();
        QVERIFY(QTest::qWaitForWindowExposed(view));
        QVERIFY(view->grab().save(m_out + "/run_compare_task0.png"));
        view->close();
    }

    void missing_project_and_mixed_benchmarks() {
        RunComparePane bad(m_dir.filePath("nope.db"));
        QVERIFY(!bad.isOpen());
        RunComparePane pane(m_db);
        QSignalSpy failed(&pane, &RunComparePane::comparisonFailed);
        pane.compareRuns(1, 99);
        QVERIFY(failed.wait(30000));
        QVERIFY(failed.front().front().toString().contains("no run 99"));
    }
};

QTEST_MAIN(TestRunCompare)
#include "test_run_compare.moc"
