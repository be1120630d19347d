// The Synthesis dock: the arguments it gives `matrix synth run`, the queries stage run from the panel as a job
// against a scripted teacher on 127.0.0.1 and followed to its end, the pipeline's counts and reasons read back
// through the session, drill-down by keyboard (Enter on a count lists its items and asks the task browser for
// exactly their tasks, Enter on an item asks for that task), and the panel rendered to PNG ($MATRIX_SCREENSHOT_DIR
// keeps it).
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTableView>
#include <QtTest>

#include <nlohmann/json.hpp>

#include "core/store/project.h"
#include "tests/support/cli_run.h"
#include "tests/support/local_http_server.h"
#include "ui/models/project_session.h"
#include "ui/models/synth_pipeline_model.h"
#include "ui/views/synthesis_panel.h"

using namespace matrix;
using namespace matrix::ui;
using json = nlohmann::json;

namespace {
const QString k_mtrace = QStringLiteral(MATRIX_SHARED_DIR "/data/mtrace/mtrace-subset-60.json");

std::string teacher_reply(const httplib::Request& http) {
    const json req = json::parse(http.body);
    const json list = json::array({
        {{"query", "Sum the Amount column of the attached sales table."}, {"tools", {"inspect_file_as_text"}}, {"needs", "file"}},
        {{"query", "What is the total on the receipt in the photo?"}, {"tools", {"ocr"}}, {"needs", "image"}},
        {{"query", "What is 17 times 23?"}, {"tools", json::array()}, {"needs", "none"}},
        {{"query", "Calculate the monthly cost of my utility bills based on the following: $50 for electricity, $30 for "
                   "water, and $40 for internet."}, {"tools", json::array()}, {"needs", "none"}},
        {{"query", 42}, {"tools", json::array()}, {"needs", "none"}},
    });
    const std::string content = "```json\n" + list.dump() + "\n```";
    json choice = {{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", "stop"}};
    return json{{"id", "c"}, {"object", "chat.completion"}, {"model", req.value("model", "")}, {"choices", {choice}},
                {"usage", {{"prompt_tokens", 1000}, {"completion_tokens", 200}, {"total_tokens", 1200}}}}.dump();
}
}  // namespace

class TestSynthesisPanel : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_db;

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_db = m_dir.path() + "/synth.matrix";
        auto r = testing::run_matrix({"import", "--db", m_db, "--format", "mtrace", "--dataset", "seeds", k_mtrace});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(testing::run_matrix({"synth", "price", "--db", m_db, "--model", "teacher", "--prompt", "2",
                                      "--completion", "10"}).code, 0);
    }

    void runs_a_stage_and_drills_down() {
        testing::LocalHttpServer server([](const httplib::Request& q, httplib::Response& r) {
            r.set_content(teacher_reply(q), "application/json");
        });
        ProjectSession session;
        QSignalSpy opened(&session, &ProjectSession::opened);
        session.open(m_db);
        QVERIFY(opened.wait(10000));
        SynthesisPanel panel(&session);
        panel.setMatrixBinary(testing::matrix_binary());
        QSignalSpy refreshed(&panel, &SynthesisPanel::refreshed);
        panel.refresh();
        QVERIFY(refreshed.wait(10000));
        QCOMPARE(panel.pipelineModel()->rowCount(), 6);
        QCOMPARE(panel.pipelineModel()->index(0, SynthPipelineModel::In).data().toLongLong(), 0LL);

        const QString url = QString::fromStdString(server.url("/v1"));
        panel.setEndpoint(url, "teacher");
        panel.setStage("queries");
        panel.setSeedDataset("seeds");
        panel.setLimit(1);
        QCOMPARE(panel.startArguments(),
                 QStringList({"synth", "run", "--db", m_db, "--stage", "queries", "--dataset", "synth", "--endpoint", url,
                              "--endpoint-model", "teacher", "--workers", "1", "--limit", "1", "--seed-dataset", "seeds"}));
        QSignalSpy finished(&panel, &SynthesisPanel::stageFinished);
        refreshed.clear();
        panel.start();
        QVERIFY(panel.isRunning());
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.first().at(1).toInt(), 0);
        QVERIFY(refreshed.wait(10000));
        QCOMPARE(panel.progressText(),
                 QStringLiteral("queries finished: 1 units, 1 done, 0 rejected, 0 failed, 1200 paid tokens"));
        QCOMPARE(panel.followedJob(), qint64(1));
        QTRY_COMPARE_WITH_TIMEOUT(panel.unfinishedJobs(), 0, 5000);  // the job list follows within its poll

        // The pipeline: 1 round in, 3 tasks out, 2 rejected (the seed's duplicate, a query that is not a string);
        // the next stages have their pending tasks; cost from the price (1000 x 2 + 200 x 10 per million).
        SynthPipelineModel* m = panel.pipelineModel();
        auto cell = [&](int row, int col) { return m->index(row, col).data().toString(); };
        QCOMPARE(QStringList({cell(0, 0), cell(0, 1), cell(0, 2), cell(0, 3), cell(0, 5), cell(0, 7), cell(0, 8)}),
                 QStringList({"queries", "1", "3", "2", "1", "1200", "0.0040"}));
        QCOMPARE(QStringList({cell(1, 4), cell(2, 4), cell(3, 4), cell(4, 4), cell(5, 4)}),
                 QStringList({"1", "1", "0", "1", "0"}));
        panel.pipelineView()->setFocus();
        panel.pipelineView()->setCurrentIndex(m->index(0, SynthPipelineModel::Rejected));
        QCOMPARE(panel.reasonsText(), QStringLiteral("queries rejected: duplicate 1, wrong fields 1"));

        // Enter on "rejected": the two rejected queries with their reasons; neither became a task, so the task
        // browser is asked for no task, and told why.
        QSignalSpy loaded(&panel, &SynthesisPanel::itemsLoaded);
        QSignalSpy filter(&panel, &SynthesisPanel::filterTasksRequested);
        QTest::keyClick(panel.pipelineView(), Qt::Key_Return);
        QVERIFY(loaded.wait(10000));
        QCOMPARE(filter.count(), 1);
        QCOMPARE(filter.first().at(0).value<QVector<qint64>>(), QVector<qint64>());
        QCOMPARE(filter.first().at(1).toString(),
                 QStringLiteral("synthesis synth \u00b7 queries \u00b7 rejected (2 rejected queries never became tasks)"));
        QCOMPARE(panel.itemsModel()->rowCount(), 2);
        QVERIFY2(panel.itemsModel()->items()[0].reason.startsWith("duplicate: Calculate the monthly cost"),
                 qPrintable(panel.itemsModel()->items()[0].reason));
        QCOMPARE(panel.itemsModel()->items()[1].reason, QStringLiteral("wrong fields: 'query' is a number, not a string"));

        // Enter on "out": the three tasks; Enter on the second asks for it.
        loaded.clear();
        panel.pipelineView()->setCurrentIndex(m->index(0, SynthPipelineModel::Out));
        QTest::keyClick(panel.pipelineView(), Qt::Key_Return);
        QVERIFY(loaded.wait(10000));
        QCOMPARE(panel.itemsModel()->rowCount(), 3);
        QCOMPARE(filter.count(), 2);
        const QVector<qint64> outIds = filter.last().at(0).value<QVector<qint64>>();
        QCOMPARE(outIds, QVector<qint64>({panel.itemsModel()->items()[0].taskId, panel.itemsModel()->items()[1].taskId,
                                          panel.itemsModel()->items()[2].taskId}));
        QCOMPARE(filter.last().at(1).toString(), QStringLiteral("synthesis synth \u00b7 queries \u00b7 out"));
        QCOMPARE(panel.itemsModel()->items()[2].query, QStringLiteral("What is 17 times 23?"));
        QCOMPARE(panel.itemsModel()->items()[2].status, QStringLiteral("done"));
        QSignalSpy show(&panel, &SynthesisPanel::showTaskRequested);
        panel.itemsView()->setFocus();
        panel.itemsView()->setCurrentIndex(panel.itemsModel()->index(1, 0));
        QTest::keyClick(panel.itemsView(), Qt::Key_Return);
        QCOMPARE(show.count(), 1);
        QCOMPARE(show.first().at(0).toLongLong(), panel.itemsModel()->items()[1].taskId);
        auto project = store::Project::open(m_db.toStdString());
        QCOMPARE(*project->db().query_text("SELECT query FROM tasks WHERE id=" +
                                           std::to_string(panel.itemsModel()->items()[1].taskId)),
                 std::optional<std::string>("What is the total on the receipt in the photo?"));

        // The panel as a user sees it.
        panel.resize(1100, 760);
        panel.show();
        QTest::qWait(50);
        const QByteArray keep = qgetenv("MATRIX_SCREENSHOT_DIR");
        const QString png = (keep.isEmpty() ? m_dir.path() : QString::fromLocal8Bit(keep)) + "/synthesis_panel.png";
        const QImage img = panel.grab().toImage();
        QVERIFY(img.save(png));
        QCOMPARE(QImage(png).size(), img.size());
    }
};

QTEST_MAIN(TestSynthesisPanel)
#include "test_synthesis_panel.moc"
