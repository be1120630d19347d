// The main window over a project: the task browser's filters, search and paging against the store; the
// trajectory stepper's J/K keys; the image viewer's missing-image state and the box overlay from tool
// observations; status bar counts; recent projects in the settings.
#include <QComboBox>
#include <QLineEdit>
#include <QListView>
#include <QSettings>
#include <QSpinBox>
#include <QTableView>
#include <QtTest>

#include "tests/ui/ui_fixture.h"
#include "ui/models/pair_curation_model.h"
#include "ui/models/project_session.h"
#include "ui/models/task_data_loader.h"
#include "ui/models/task_table_model.h"
#include "ui/settings.h"
#include "ui/views/main_window.h"
#include "ui/views/task_browser.h"
#include "ui/views/trajectory_view.h"
#include "ui/widgets/collapsible_text.h"
#include "ui/widgets/image_canvas.h"
#include "ui/widgets/image_viewer.h"

using namespace matrix;
using namespace matrix::ui;
using matrix::test::UiFixture;

class TestWorkbench : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void browserFilters_data();
    void browserFilters();
    void stepperAndImages();
    void stepsWithPairsLeadToThem();
    void missingImageState();
    void pagingLoadsOnDemand();
    void imagePathCandidates();
    void recentProjects();

private:
    QTemporaryDir m_settings;
};

void TestWorkbench::initTestCase() {
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settings.path());
}

void TestWorkbench::browserFilters_data() {
    QTest::addColumn<QString>("control");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QStringList>("ids");
    QTest::newRow("no filter") << "" << "" << QStringList{"t-shapes", "t-market", "t-invoice", "t-run"};
    QTest::newRow("verdict no") << "verdict" << "no" << QStringList{"t-invoice"};
    QTest::newRow("verdict unknown") << "verdict" << "unknown" << QStringList{"t-market"};
    QTest::newRow("tool objectlocation") << "tool" << "objectlocation" << QStringList{"t-shapes"};
    QTest::newRow("tool visualizer") << "tool" << "visualizer" << QStringList{"t-market", "t-invoice"};
    QTest::newRow("missing images") << "missing" << "1" << QStringList{"t-market"};
    QTest::newRow("no missing images") << "missing" << "2" << QStringList{"t-shapes", "t-invoice", "t-run"};
    QTest::newRow("min 3 steps") << "minSteps" << "3" << QStringList{"t-invoice"};
    QTest::newRow("max 2 steps") << "maxSteps" << "2" << QStringList{"t-shapes", "t-market", "t-run"};
    QTest::newRow("has pending pairs") << "pairs" << "pending" << QStringList{"t-shapes", "t-market"};
    QTest::newRow("has approved pairs") << "pairs" << "approved" << QStringList{};
    QTest::newRow("search thought text") << "search" << "circles" << QStringList{"t-shapes"};
    QTest::newRow("search observation") << "search" << "oranges" << QStringList{"t-market"};
    QTest::newRow("search prefix") << "search" << "invo*" << QStringList{"t-invoice"};
    // The Pref-X dataset owns no task: choosing it lists the tasks its pairs sit on.
    QTest::newRow("pair dataset") << "dataset" << "pairs" << QStringList{"t-shapes", "t-market"};
}

void TestWorkbench::browserFilters() {
    QFETCH(QString, control);
    QFETCH(QString, value);
    QFETCH(QStringList, ids);
    UiFixture fx;
    MainWindow w;
    w.openProject(fx.path);
    QVERIFY(w.waitForIdle());
    TaskBrowser* b = w.browser();
    // Selects the entry holding `data`; false when the box has none (checked by the caller, so the test stops).
    auto pick = [](QComboBox* box, const QVariant& data) {
        const int i = box->findData(data);
        if (i >= 0) box->setCurrentIndex(i);
        return i >= 0;
    };
    if (control == "verdict") QVERIFY2(pick(b->verdictBox(), value), qPrintable(value));
    if (control == "tool") QVERIFY2(pick(b->toolBox(), value), qPrintable(value));
    if (control == "missing") QVERIFY2(pick(b->missingBox(), value.toInt()), qPrintable(value));
    if (control == "pairs") QVERIFY2(pick(b->pairStatusBox(), value), qPrintable(value));
    if (control == "dataset") QVERIFY(pick(b->datasetBox(), QVariant::fromValue(qint64(fx.pairsDataset))));
    if (control == "minSteps") b->minStepsBox()->setValue(value.toInt());
    if (control == "maxSteps") b->maxStepsBox()->setValue(value.toInt());
    if (control == "search") QTest::keyClicks(b->searchBox(), value);
    // Spin boxes and the search box are debounced; Enter / applyFilter runs at once.
    b->applyFilter();
    QVERIFY(w.waitForIdle());
    QStringList got;
    for (int r = 0; r < b->model()->rowCount(); ++r) got << QString::fromStdString(b->model()->summary(r).external_id);
    QCOMPARE(got, ids);
    QCOMPARE(b->model()->totalCount(), qint64(ids.size()));
    QCOMPARE(b->countText(), QString("%1 matching tasks (%1 loaded)").arg(ids.size()));
}

void TestWorkbench::stepperAndImages() {
    UiFixture fx;
    MainWindow w;
    w.resize(1400, 900);
    w.show();
    w.openProject(fx.path);
    QVERIFY(w.waitForIdle());
    // The first task is selected when the first page arrives.
    QCOMPARE(w.currentTask().externalId, QString("t-shapes"));
    TrajectoryView* t = w.trajectory();
    QCOMPARE(t->currentStep(), 0);
    QCOMPARE(t->codeText(), QString("boxes = objectlocation(object=\"red circle\", image_path=\"shapes.png\")\nprint(boxes)"));
    QCOMPARE(t->observation()->text(), QString("[[10, 10, 50, 50], [100, 20, 140, 60]]"));
    QTest::keyClick(&w, Qt::Key_J);
    QCOMPARE(t->currentStep(), 1);
    QCOMPARE(t->thoughtText(), QString("Two circles."));
    QTest::keyClick(&w, Qt::Key_J);  // already on the last step
    QCOMPARE(t->currentStep(), 1);
    QTest::keyClick(&w, Qt::Key_K);
    QCOMPARE(t->currentStep(), 0);
    // The image resolved by the store, with the two boxes objectlocation returned.
    ImageViewer* v = w.imageViewer();
    QCOMPARE(v->count(), 1);
    QCOMPARE(v->image(0).boxes.size(), 2);
    QCOMPARE(v->image(0).boxes[1], QRectF(QPointF(100, 20), QPointF(140, 60)));
    QVERIFY(!v->canvas()->isMissing());
    QCOMPARE(v->canvas()->imageSize(), QSize(200, 100));
    QTest::keyClick(&w, Qt::Key_B);  // toggle the overlay
    QVERIFY(!v->canvas()->boxesVisible());
    // Error steps are flagged in the stepper.
    w.browser()->selectRow(2);
    QVERIFY(w.waitForIdle());
    QCOMPARE(w.currentTask().externalId, QString("t-invoice"));
    QVERIFY(t->observation()->isError());
    QCOMPARE(t->observation()->text(), QString("UnsupportedFormatException: png"));
    // Status bar counts.
    QCOMPARE(w.statusCounts(), QString("4 tasks \u00b7 4 pairs \u00b7 1 missing images \u00b7 4 shown"));
}

void TestWorkbench::stepsWithPairsLeadToThem() {
    UiFixture fx;
    int64_t stepOnePair = 0;
    {
        // One more pair on t-shapes, for its second step.
        auto project = matrix::test::must(store::Project::open(fx.path.toStdString()));
        store::PairRepo pr(project.db());
        store::Pair p = fx.pair(0);
        p.id = 0;
        p.step_index = 1;
        p.record_key = "step1";
        p.ordinal = 4;
        p.chosen_action = "Thought: Two circles.\n\nCode:\n```py\nfinal_answer(2)\n```";
        stepOnePair = matrix::test::must(pr.insert(p));
    }
    MainWindow w;
    w.resize(1400, 900);
    w.show();
    w.openProject(fx.path);
    QVERIFY(w.waitForIdle());
    QCOMPARE(w.currentTask().externalId, QString("t-shapes"));
    TrajectoryView* t = w.trajectory();
    auto stepText = [&](int row) { return t->stepList()->model()->index(row, 0).data().toString(); };
    QVERIFY2(stepText(0).endsWith(QString("objectlocation \u00b7 2 pairs")), qPrintable(stepText(0)));
    QVERIFY2(stepText(1).endsWith(QString("final_answer \u00b7 1 pair")), qPrintable(stepText(1)));
    QCOMPARE(w.curation()->current().id, qint64(fx.pairs[0]));
    QTest::keyClick(&w, Qt::Key_J);  // step 1: its pair comes into the curation pane
    QVERIFY(w.waitForIdle());
    QCOMPARE(w.curation()->current().id, qint64(stepOnePair));
    QTest::keyClick(&w, Qt::Key_K);
    QVERIFY(w.waitForIdle());
    QCOMPARE(w.curation()->current().id, qint64(fx.pairs[0]));

    // Moving through pairs brings each pair's task and step along (and the curation pane stays on that pair).
    auto nextPair = [&] {
        QTest::keyClick(&w, Qt::Key_Right, Qt::ControlModifier);
        QVERIFY(w.waitForIdle());
    };
    nextPair();
    QCOMPARE(w.curation()->current().id, qint64(fx.pairs[1]));
    QCOMPARE(w.currentTask().externalId, QString("t-shapes"));
    nextPair();
    QCOMPARE(w.curation()->current().id, qint64(fx.pairs[2]));
    QCOMPARE(w.currentTask().externalId, QString("t-market"));
    QCOMPARE(t->currentStep(), 0);
    nextPair();
    nextPair();
    QCOMPARE(w.curation()->current().id, qint64(stepOnePair));
    QCOMPARE(w.currentTask().externalId, QString("t-shapes"));
    QCOMPARE(t->currentStep(), 1);
}

void TestWorkbench::missingImageState() {
    UiFixture fx;
    MainWindow w;
    w.resize(1400, 900);
    w.show();
    w.openProject(fx.path);
    QVERIFY(w.waitForIdle());
    w.browser()->selectRow(1);
    QVERIFY(w.waitForIdle());
    QCOMPARE(w.currentTask().externalId, QString("t-market"));
    ImageViewer* v = w.imageViewer();
    QCOMPARE(v->count(), 1);
    QVERIFY(v->canvas()->isMissing());
    QVERIFY(v->canvas()->placeholderText().startsWith("Image not found\ndata/x/street_market.jpg\n"));
    QCOMPARE(v->infoText(), QString("1/1  missing: data/x/street_market.jpg"));
    // With an image root that has the file, the same task shows the image.
    QImage img(64, 48, QImage::Format_RGB32);
    img.fill(Qt::green);
    QTemporaryDir root;
    QDir(root.path()).mkpath("x");
    QVERIFY(img.save(root.filePath("x/street_market.jpg"), "PNG"));
    Settings().setImageRoots({root.path()});
    w.showTask(w.currentTask().id);
    QVERIFY(w.waitForIdle());
    QVERIFY(!v->canvas()->isMissing());
    QCOMPARE(v->canvas()->imageSize(), QSize(64, 48));
    Settings().setImageRoots({});
}

void TestWorkbench::pagingLoadsOnDemand() {
    QTemporaryDir dir;
    const QString path = dir.filePath("many.matrix");
    {
        auto project = test::must(store::Project::open(path.toStdString()));
        store::Dataset many;
        many.name = "many";
        many.kind = "mtrace";
        const int64_t ds = test::must(store::DatasetRepo(project.db()).create(many));
        store::TaskRepo tr(project.db());
        store::Transaction tx(project.db());
        for (int i = 0; i < 1000; ++i) {
            store::Task t;
            t.dataset_id = ds;
            t.record_key = "k" + std::to_string(i);
            t.external_id = "id" + std::to_string(i);
            t.ordinal = i;
            t.query = "task number " + std::to_string(i);
            test::must(tr.insert(t));
        }
        test::must(tx.commit());
    }
    MainWindow w;
    w.resize(1400, 900);
    w.show();
    w.openProject(path);
    QVERIFY(w.waitForIdle());
    TaskTableModel* m = w.browser()->model();
    QCOMPARE(m->totalCount(), qint64(1000));
    QCOMPARE(m->rowCount(), TaskTableModel::kPageSize);
    QVERIFY(m->canFetchMore({}));
    m->fetchMore({});
    QVERIFY(w.waitForIdle());
    QCOMPARE(m->rowCount(), 2 * TaskTableModel::kPageSize);
    QCOMPARE(QString::fromStdString(m->summary(399).external_id), QString("id399"));
    // Sorting by the Task column descending re-queries from the first page. The first page is timed from the
    // reset to its arrival, and signalled once, with its rows already in the model (before the count query).
    QSignalSpy firstPage(m, &TaskTableModel::firstPageLoaded);
    int rowsWhenSignalled = -1;
    connect(m, &TaskTableModel::firstPageLoaded, m, [&] { rowsWhenSignalled = m->rowCount(); });
    m->sort(TaskTableModel::ColTask, Qt::DescendingOrder);
    QCOMPARE(m->lastFirstPageMs(), qint64(-1));  // reset: the new first page is not there yet
    QVERIFY(w.waitForIdle());
    QCOMPARE(m->rowCount(), TaskTableModel::kPageSize);
    QCOMPARE(QString::fromStdString(m->summary(0).query), QString("task number 999"));
    QCOMPARE(firstPage.count(), 1);
    QCOMPARE(firstPage.first().at(0).toLongLong(), m->lastFirstPageMs());
    QCOMPARE(rowsWhenSignalled, TaskTableModel::kPageSize);
    // 200 rows of 1,000 tasks take milliseconds; seconds would mean the page waited for something else.
    QVERIFY2(m->lastFirstPageMs() >= 0 && m->lastFirstPageMs() < 5000, qPrintable(QString::number(m->lastFirstPageMs())));
}

void TestWorkbench::imagePathCandidates() {
    QCOMPARE(candidatePaths("data/a/b.png", {"/r"}),
             QStringList({"/r/data/a/b.png", "/r/a/b.png", "/r/b.png"}));
    QCOMPARE(candidatePaths("/abs/b.png", {"/r"}), QStringList({"/abs/b.png", "/r/abs/b.png", "/r/b.png"}));
    QCOMPARE(formatArguments(R"({"object":"apple","image_path":{"$expr":"path"},"$0":3})"),
             QString("object=\"apple\", image_path=path, 3"));
}

void TestWorkbench::recentProjects() {
    Settings s;
    s.clearRecentProjects();
    for (int i = 0; i < Settings::kMaxRecent + 2; ++i) s.addRecentProject(QString("/p/%1.matrix").arg(i));
    s.addRecentProject("/p/3.matrix");
    const QStringList r = s.recentProjects();
    QCOMPARE(r.size(), Settings::kMaxRecent);
    QCOMPARE(r.first(), QString("/p/3.matrix"));
    QCOMPARE(r.count("/p/3.matrix"), 1);
    QCOMPARE(r[1], QString("/p/9.matrix"));
}

QTEST_MAIN(TestWorkbench)
#include "test_workbench.moc"
