// The run-comparison pane offscreen: a project with the real GTA-1 benchmark (two of its images drawn by the
// test under an image root) and three runs with known per-task results: two MATRIX folders
// (tests/data/bench/matrix-gta/run-a, run-b) and a JSONL (tests/data/bench/gta-run-c.jsonl). Two-run and
// three-run comparisons: the models' exact values, outcome filters against the baseline, another baseline,
// the not-scored reason, the task view (N runs aligned with the gold dialog, tool-call diff, images), the
// CSV/PNG/SVG exports, the shortcuts; the pane and the task view are rendered to build/test_output/*.png
// for a person to look at.
#include <QtTest>

#include <QAction>
#include <QLabel>
#include <QPainter>
#include <QTabWidget>
#include <QTableView>

#include "core/eval/bench_store.h"
#include "core/eval/gta_loader.h"
#include "core/eval/run_import.h"
#include "ui/models/project_session.h"
#include "ui/models/run_group_model.h"
#include "ui/models/run_list_model.h"
#include "ui/models/run_metrics_model.h"
#include "ui/models/run_step_alignment_model.h"
#include "ui/models/run_task_model.h"
#include "ui/views/run_compare_pane.h"
#include "ui/views/run_compare_task_view.h"

using namespace matrix;
using namespace matrix::ui;
using K = eval::OutcomeKind;

namespace {
const std::string kShared = MATRIX_SHARED_DIR;
const std::string kData = std::string(MATRIX_SOURCE_DIR) + "/tests/data/bench/";

QStringList shown(RunComparePane& pane, eval::OutcomeFilter f) {
    pane.setOutcomeFilter(f);
    QStringList ids = pane.taskFilterModel()->taskKeys();
    ids.sort();
    return ids;
}

[[nodiscard]] bool drawImage(const QString& path, const QColor& colour, const QString& text) {
    QImage img(320, 240, QImage::Format_RGB32);
    img.fill(colour);
    QPainter p(&img);
    p.setFont(QFont("Sans", 28));
    p.drawText(img.rect(), Qt::AlignCenter, text);
    p.end();
    QDir().mkpath(QFileInfo(path).path());
    return img.save(path);
}
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
        // GTA ships no images: draw task 0's two under an image root.
        QVERIFY(drawImage(m_dir.filePath("images/image/image_1.jpg"), QColor(200, 220, 240), "2 bottles"));
        QVERIFY(drawImage(m_dir.filePath("images/image/image_2.jpg"), QColor(240, 230, 200), "Beer 6"));
        auto project = store::Project::open(m_db.toStdString());
        QVERIFY(project.ok());
        eval::StoreBenchmarkOptions opt;
        opt.image_roots = {m_dir.filePath("images").toStdString()};
        QVERIFY(eval::store_benchmark(project.value(), eval::load_gta(kShared + "/data/gta/dataset.json").value(), opt).ok());
        QVERIFY(eval::store_run(project.value(), eval::import_matrix_gta_run(kData + "matrix-gta/run-a").value()).ok());
        QVERIFY(eval::store_run(project.value(), eval::import_matrix_gta_run(kData + "matrix-gta/run-b").value()).ok());
        auto c = eval::import_jsonl_run(kData + "gta-run-c.jsonl", eval::BenchKind::gta);
        QVERIFY(c.ok());
        eval::StoreRunOptions ro;
        ro.name = "run-c";
        QVERIFY(eval::store_run(project.value(), c.value(), ro).ok());
    }

    // Two runs: A (run-a) is the baseline; the same numbers as the two-run comparison always gave.
    void two_runs() {
        ProjectSession session;
        session.open(m_db);
        QVERIFY(session.waitForIdle());
        RunComparePane pane(&session);
        pane.resize(1280, 860);
        QVERIFY(pane.isOpen());
        QCOMPARE(pane.projectPath(), m_db);
        QVERIFY(session.waitForIdle());  // the run list comes from the session's worker
        QCOMPARE(pane.runModel()->rowCount(), 3);
        const int rowA = pane.runModel()->rowOf(1);
        QCOMPARE(pane.runModel()->run(rowA).name, QString("run-a"));
        QCOMPARE(pane.runModel()->run(rowA).headline, QString("answer_acc 60.00  (2 not scored: needs embedding model)"));

        QSignalSpy ready(&pane, &RunComparePane::comparisonReady);
        pane.compareRuns(1, 2);
        QVERIFY(ready.wait(30000));
        QVERIFY(pane.comparison().has_value());

        RunMetricsModel* m = pane.metricsModel();
        QCOMPARE(m->columnCount(), 4);  // metric, A, B, B - A
        QCOMPARE(m->index(0, 0).data().toString(), QString("answer_acc"));
        QCOMPARE(m->index(0, m->valueColumn(0)).data(RunMetricsModel::ValueRole).toDouble(), 60.0);
        QCOMPARE(m->index(0, m->valueColumn(1)).data(RunMetricsModel::ValueRole).toDouble(), 40.0);
        QCOMPARE(m->index(0, m->valueColumn(0)).data().toString(), QString("60.00  [23.07, 88.24]"));
        QCOMPARE(m->index(0, m->valueColumn(0)).data(RunMetricsModel::CiRole).toString(), QString("[23.07, 88.24]"));
        QCOMPARE(m->diffColumn(0), -1);
        QCOMPARE(m->diffColumn(1), 3);
        QCOMPARE(m->index(0, 3).data(RunMetricsModel::ValueRole).toDouble(), -20.0);
        QVERIFY(m->index(0, 3).data().toString().startsWith("-20.00  ["));
        QVERIFY(m->index(0, 3).data(Qt::BackgroundRole).isValid());
        QCOMPARE(m->headerData(1, Qt::Horizontal, Qt::DisplayRole).toString(), QString("#1 run-a (baseline)"));

        // Outcome filters over the per-task grid (7 tasks: 5 scored by both, 2 not scored).
        QCOMPARE(pane.taskFilterModel()->rowCount(), 7);
        QCOMPARE(shown(pane, {K::only_run, 0}), (QStringList{"0", "29"}));
        QCOMPARE(shown(pane, {K::only_run, 1}), (QStringList{"2"}));
        QCOMPARE(shown(pane, {K::solved_by_all}), (QStringList{"1"}));
        QCOMPARE(shown(pane, {K::solved_by_none}), (QStringList{"3"}));
        QCOMPARE(shown(pane, {K::not_scored}), (QStringList{"12", "8"}));
        QCOMPARE(shown(pane, {K::all_tasks}).size(), 7);
        RunTaskModel* t = pane.taskModel();
        QCOMPARE(t->index(0, t->outcomeColumn()).data().toString(), QString("only #1 run-a"));  // task 0
        QCOMPARE(t->index(4, t->outcomeColumn()).data().toString(), QString("not scored (needs embedding model)"));
        QCOMPARE(t->index(4, t->scoreColumn(0)).data().toString(), QString("not scored"));
        QCOMPARE(t->index(0, t->scoreColumn(1)).data(Qt::BackgroundRole).value<QBrush>().color(), QColor(250, 205, 205));

        // Breakdown by answer form: the objective group, B lost 2 and gained 1 against A.
        RunGroupModel* g = pane.groupModel();
        QCOMPARE(g->rowCount(), 1);
        QCOMPARE(g->index(0, g->flipColumn(1)).data(RunGroupModel::LostRole).toInt(), 2);
        QCOMPARE(g->index(0, g->flipColumn(1)).data().toString(), QString("+1 / -2"));
        QVERIFY(pane.notScoredLabel()->text().contains("needs embedding model"));

        // Exports.
        const QString csv = m_dir.filePath("cmp2.csv");
        QVERIFY(pane.exportCsv(csv));
        QFile cf(csv);
        QVERIFY(cf.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(cf.readAll());
        QVERIFY(text.startsWith("metric,ci_method,#1 run-a,#1 run-a ci_lo,"));
        QVERIFY(text.contains("\n0,objective,1,0,only #1 run-a\n"));
        QVERIFY(text.contains("\n8,subjective,,,not scored (needs embedding model)\n"));
        QVERIFY(pane.exportChart(m_out + "/run_compare_chart.png"));
        QVERIFY(!QImage(m_out + "/run_compare_chart.png").isNull());
    }

    // Three runs: every run against a baseline, another baseline, the task view with all three.
    void three_runs_and_render() {
        ProjectSession session;
        session.open(m_db);
        QVERIFY(session.waitForIdle());
        RunComparePane pane(&session);
        QVERIFY(session.waitForIdle());
        pane.resize(1400, 900);
        QSignalSpy ready(&pane, &RunComparePane::comparisonReady);
        pane.selectRuns({1, 2, 3});
        // The shortcut is named in the tooltip, and works while the focus is in the pane.
        QAction* compare = pane.paneActions().front();
        QVERIFY(compare->toolTip().contains(QKeySequence(Qt::CTRL | Qt::Key_Return).toString(QKeySequence::NativeText)));
        pane.show();
        QVERIFY(QTest::qWaitForWindowExposed(&pane));
        pane.activateWindow();
        pane.taskTable()->setFocus();
        QTest::keyClick(pane.taskTable(), Qt::Key_Return, Qt::ControlModifier);
        QVERIFY(ready.wait(30000));
        QCOMPARE(pane.comparedRuns(), (QVector<qint64>{1, 2, 3}));
        const eval::MultiComparison& c = *pane.comparison();
        QCOMPARE(int(c.baseline), 0);

        RunMetricsModel* m = pane.metricsModel();
        QCOMPARE(m->columnCount(), 6);  // metric, 3 runs, 2 differences
        QCOMPARE(m->index(0, m->valueColumn(2)).data(RunMetricsModel::ValueRole).toDouble(), 60.0);
        QCOMPARE(m->index(0, m->diffColumn(1)).data(RunMetricsModel::ValueRole).toDouble(), -20.0);
        QCOMPARE(m->index(0, m->diffColumn(2)).data(RunMetricsModel::ValueRole).toDouble(), 0.0);
        QVERIFY(!m->index(0, m->diffColumn(2)).data(Qt::BackgroundRole).isValid());  // no difference: no colour

        // Outcomes (official scorer): A solves 0 1 29, B solves 1 2, C solves 0 2 3.
        QCOMPARE(pane.outcomeFilters().size(), 11);
        QCOMPARE(shown(pane, {K::only_run, 0}), (QStringList{"29"}));
        QCOMPARE(shown(pane, {K::only_run, 1}), QStringList{});
        QCOMPARE(shown(pane, {K::only_run, 2}), (QStringList{"3"}));
        QCOMPARE(shown(pane, {K::gained, 2}), (QStringList{"2", "3"}));
        QCOMPARE(shown(pane, {K::lost, 2}), (QStringList{"1", "29"}));
        QCOMPARE(shown(pane, {K::gained, 1}), (QStringList{"2"}));
        QCOMPARE(shown(pane, {K::lost, 1}), (QStringList{"0", "29"}));
        QCOMPARE(shown(pane, {K::solved_by_all}), QStringList{});
        QCOMPARE(shown(pane, {K::not_scored}), (QStringList{"12", "8"}));
        QCOMPARE(c.versus[2].gained, 2);
        QCOMPARE(c.versus[2].lost, 2);
        QCOMPARE(pane.taskModel()->index(1, pane.taskModel()->outcomeColumn()).data().toString(), QString("solved by 2 of 3"));
        RunGroupModel* g = pane.groupModel();
        QCOMPARE(g->columnCount(), 6);
        QCOMPARE(g->index(0, g->flipColumn(2)).data().toString(), QString("+2 / -2"));
        QVERIFY(pane.notScoredLabel()->text().contains("#3 run-c: 2 tasks (needs embedding model)"));

        const QString csv = m_dir.filePath("cmp3.csv");
        QVERIFY(pane.exportCsv(csv));
        QFile cf(csv);
        QVERIFY(cf.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(cf.readAll());
        QVERIFY(text.contains("\ntask_id,group,#1 run-a,#2 run-b,#3 run-c,outcome\n"));
        QVERIFY(text.contains("\n3,objective,0,0,1,only #3 run-c\n"));
        QVERIFY(text.contains("\nobjective,60,5,40,5,60,5\n"));
        QVERIFY(pane.exportChart(m_out + "/run_compare3_chart.png"));
        QVERIFY(pane.exportChart(m_dir.filePath("chart3.svg")));
        QFile sf(m_dir.filePath("chart3.svg"));
        QVERIFY(sf.open(QIODevice::ReadOnly));
        QVERIFY(sf.readAll().contains("<svg"));

        pane.setOutcomeFilter({K::all_tasks});
        QVERIFY(pane.grab().save(m_out + "/run_compare3_metrics.png"));
        pane.tabs()->setCurrentIndex(1);
        QVERIFY(pane.grab().save(m_out + "/run_compare3_tasks.png"));
        pane.tabs()->setCurrentIndex(2);
        QVERIFY(pane.grab().save(m_out + "/run_compare3_breakdown.png"));

        // Enter on a task in the grid opens its view.
        pane.tabs()->setCurrentIndex(1);
        pane.taskTable()->setFocus();
        pane.taskTable()->setCurrentIndex(pane.taskFilterModel()->index(0, 0));
        QTest::keyClick(pane.taskTable(), Qt::Key_Return);
        QTRY_COMPARE(pane.findChildren<RunCompareTaskView*>().size(), 1);
        const auto opened = pane.findChildren<RunCompareTaskView*>();
        QVERIFY(opened.front()->isVisible());
        QCOMPARE(opened.front()->alignmentModel()->task().task_key, std::string("0"));
        QCOMPARE(int(opened.front()->alignmentModel()->task().runs.size()), 3);
        opened.front()->close();
        QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);

        // Task 0 across the three runs, next to the gold dialog, with its two images.
        QSignalSpy taskOpened(&pane, &RunComparePane::taskOpened);
        pane.openTask("0");
        QVERIFY(taskOpened.wait(30000));
        RunCompareTaskView* view = taskOpened.front().front().value<RunCompareTaskView*>();
        QVERIFY(view);
        QVERIFY(!view->isVisible());  // opened, not shown: the caller shows it
        QCOMPARE(view->imageCount(), 2);
        QCOMPARE(view->missingImageCount(), 0);
        RunStepAlignmentModel* a = view->alignmentModel();
        QCOMPARE(a->columnCount(), 5);  // step, gold, 3 runs
        QCOMPARE(a->rowCount(), 6);     // gold has 6 steps (5 tool calls + answer); A 3, B 2, C 3
        QVERIFY(a->index(0, RunStepAlignmentModel::GoldColumn).data().toString().startsWith("ImageDescription("));
        QVERIFY(a->index(0, a->runColumn(0)).data().toString().startsWith("visualizer("));
        QVERIFY(a->index(0, a->runColumn(2)).data().toString().startsWith("ocr("));
        using D = RunStepAlignmentModel::Diff;
        // visualizer == ImageDescription, but it passes a question too: same tool, other arguments.
        QCOMPARE(a->index(0, a->runColumn(0)).data(RunStepAlignmentModel::DiffRole).toInt(), int(D::arguments));
        QVERIFY(!a->index(0, a->runColumn(0)).data(RunStepAlignmentModel::ToolsDifferRole).toBool());
        QCOMPARE(a->index(0, a->runColumn(1)).data(RunStepAlignmentModel::DiffRole).toInt(), int(D::tools));
        QCOMPARE(a->index(0, a->runColumn(2)).data(RunStepAlignmentModel::DiffRole).toInt(), int(D::tools));
        QVERIFY(a->index(0, a->runColumn(2)).data(Qt::ToolTipRole).toString().startsWith("Tools differ from gold: OCR instead of ImageDescription"));
        QVERIFY(!a->index(5, a->runColumn(0)).data().isValid());
        QCOMPARE(a->headerData(a->runColumn(0), Qt::Horizontal, Qt::DisplayRole).toString(), QString("#1 run-a (baseline)"));
        view->resize(1500, 760);
        view->show();
        QVERIFY(QTest::qWaitForWindowExposed(view));
        QVERIFY(view->grab().save(m_out + "/run_compare3_task0.png"));
        view->close();

        // Another baseline (run-c): re-compared, differences now against it.
        pane.setBaseline(2);
        QVERIFY(ready.wait(30000));
        QCOMPARE(int(pane.comparison()->baseline), 2);
        QCOMPARE(pane.comparison()->versus[0].gained, 2);  // A solves 1 and 29, C does not
        QCOMPARE(pane.comparison()->versus[0].lost, 2);    // C solves 2 and 3, A does not
        QCOMPARE(m->diffColumn(2), -1);
        QCOMPARE(m->index(0, m->diffColumn(1)).data(RunMetricsModel::ValueRole).toDouble(), -20.0);
        QCOMPARE(shown(pane, {K::only_run, 2}), (QStringList{"3"}));
    }

    void missing_project_and_bad_runs() {
        // A project that cannot be opened: the pane is not open and says so when asked to compare.
        ProjectSession badSession;
        badSession.open(m_dir.filePath("no-such-dir/nope.db"));
        QVERIFY(badSession.waitForIdle());
        RunComparePane bad(&badSession);
        QVERIFY(!bad.isOpen());
        QCOMPARE(bad.runModel()->rowCount(), 0);
        QSignalSpy badFailed(&bad, &RunComparePane::comparisonFailed);
        bad.compareRuns(1, 2);
        QCOMPARE(badFailed.size(), 1);
        QCOMPARE(badFailed.front().front().toString(), QString("no project open"));

        ProjectSession session;
        session.open(m_db);
        QVERIFY(session.waitForIdle());
        RunComparePane pane(&session);
        QSignalSpy failed(&pane, &RunComparePane::comparisonFailed);
        pane.compareRuns(1, 99);
        QVERIFY(failed.wait(30000));
        QVERIFY(failed.front().front().toString().contains("no run 99"));
        QVERIFY(!pane.comparison().has_value());
        QVERIFY(!pane.exportCsv(m_dir.filePath("none.csv")));
    }
};

QTEST_MAIN(TestRunCompare)
#include "test_run_compare.moc"
