// The Sample dock (ui/views/sample_panel.h) over the GUI fixture project: the tiny fixture model writes the
// candidates, a verifier behind a local OpenAI-compatible server answers {"reason", "best_id": 1}. A run goes
// through a `matrix sample` job to its end (status text, pairs stored as pending, the review's decision counts), a
// rejected pair shows in the "verifier vs you" queue and opens in curation, a run cancelled at its first stored
// step is resumed from the panel to the same end, and a job outlives its panel and session: a new panel reattaches
// to it and shows the run's exact final pair count.
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QTableView>
#include <QtTest>

#include <atomic>
#include <thread>

#include "core/jobs/process.h"
#include "tests/support/cli_run.h"
#include "ui/models/job_list_model.h"
#include "core/store/sampled_pair_repo.h"
#include "tests/support/local_http_server.h"
#include "tests/ui/ui_fixture.h"
#include "ui/models/project_session.h"
#include "ui/models/sample_review_model.h"
#include "ui/views/sample_panel.h"

using namespace matrix;
using namespace matrix::ui;
using matrix::test::must;

namespace {
const QString k_model = QStringLiteral(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny/tiny-qwen2vl");

std::string first_is_best(const std::string&) {
    const std::string content = R"({"reason": "the first one reads the file", "best_id": 1})";
    nlohmann::json choice = {{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", "stop"}};
    return nlohmann::json{{"id", "v"}, {"object", "chat.completion"}, {"model", "v"}, {"choices", {choice}}}.dump();
}
}  // namespace

class TestSamplePanel : public QObject {
    Q_OBJECT
    matrix::test::UiFixture m_fx;
    std::atomic<int> m_verifierDelayMs{0};
    matrix::testing::LocalHttpServer m_server{[this](const httplib::Request& req, httplib::Response& res) {
        if (const int ms = m_verifierDelayMs.load()) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        res.set_content(first_is_best(req.body), "application/json");
    }};

    void configure(SamplePanel& panel, int limit) {
        panel.setMatrixBinary(matrix::testing::matrix_binary());
        panel.setProjectPath(m_fx.path);
        panel.setWorkRoot(m_fx.dir.filePath("runs"));
        panel.setDataset("docs");
        panel.setModelDir(k_model);
        panel.setVerifierEndpoint(QString::fromStdString(m_server.url("/v1")), "v");
        panel.setCandidates(3);
        panel.setLimit(limit);
        panel.setMaxNewTokens(6);
        panel.setMaxSteps(2);
    }

private slots:
    void run_review_and_open_a_pair() {
        ProjectSession session;
        QSignalSpy opened(&session, &ProjectSession::opened);
        session.open(m_fx.path);
        QVERIFY(opened.wait(10000));
        SamplePanel panel(&session);
        configure(panel, 2);
        QSignalSpy finished(&panel, &SamplePanel::samplingFinished);
        QSignalSpy changed(&panel, &SamplePanel::pairsChanged);
        panel.startSampling();
        QVERIFY(finished.wait(300000));
        const auto outcome = finished.takeFirst().at(0).value<SamplingOutcome>();
        QCOMPARE(outcome.status, QString("finished"));
        QCOMPARE(outcome.tasks, 2);
        QVERIFY(outcome.pairs > 0);
        QCOMPARE(panel.progressText(), QString("Run %1 finished: %2 pairs").arg(outcome.runId).arg(outcome.pairs));
        QCOMPARE(panel.followedJob(), qint64(1));
        QCOMPARE(panel.jobsModel()->jobById(1)->kind, std::string("sample"));
        QVERIFY(changed.count() >= 1);
        QVERIFY(session.waitForIdle());
        QCOMPARE(panel.reviewRunId(), outcome.runId);
        // Every sampled pair is pending: one row of the decision counts.
        QCOMPARE(panel.decisionModel()->rowCount(), 1);
        QCOMPARE(panel.decisionModel()->rows()[0].status, QString("pending"));
        QCOMPARE(panel.decisionModel()->rows()[0].count, outcome.pairs);
        QCOMPARE(panel.disagreementModel()->rowCount(), 0);

        // The user rejects one: it joins the "verifier vs you" queue, with the verifier's reason beside it.
        qint64 pairId = 0;
        session.post(this, [](store::Project& p) {
            auto ids = p.db().query_int64("SELECT min(pair_id) FROM sampled_pairs");
            if (ids.ok()) (void)store::PairRepo(p.db()).set_status(*ids, "rejected", std::string("wrong tool"));
            return ids.ok() ? *ids : int64_t(0);
        }, [&](int64_t id) { pairId = id; });
        QVERIFY(session.waitForIdle());
        panel.refreshReview();
        QVERIFY(session.waitForIdle());
        QCOMPARE(panel.disagreementModel()->rowCount(), 1);
        const DisagreementRow row = panel.disagreementModel()->rows()[0];
        QCOMPARE(row.pairId, pairId);
        QCOMPARE(row.decision, QString("rejected (wrong tool)"));
        QCOMPARE(row.verifierReason, QString("the first one reads the file"));
        QCOMPARE(panel.decisionModel()->rowCount(), 2);
        QSignalSpy show(&panel, &SamplePanel::showPairRequested);
        emit panel.disagreementView()->activated(panel.disagreementModel()->index(0, 0));
        QCOMPARE(show.count(), 1);
        QCOMPARE(show.takeFirst().at(0).toLongLong(), pairId);
    }

    void cancel_then_resume() {
        m_verifierDelayMs = 800;  // steps take a while: the cancel lands before the third task ends
        ProjectSession session;
        QSignalSpy opened(&session, &ProjectSession::opened);
        session.open(m_fx.path);
        QVERIFY(opened.wait(10000));
        SamplePanel panel(&session);
        configure(panel, 3);
        QSignalSpy finished(&panel, &SamplePanel::samplingFinished);
        // Cancel as soon as the first pairs are stored.
        QMetaObject::Connection c = connect(&panel, &SamplePanel::pairsChanged, &panel, [&] { panel.cancelSampling(); });
        panel.startSampling();
        QVERIFY(finished.wait(300000));
        disconnect(c);
        auto first = finished.takeFirst().at(0).value<SamplingOutcome>();
        QCOMPARE(first.status, QString("cancelled"));
        QVERIFY(session.waitForIdle());
        QCOMPARE(panel.reviewRunId(), first.runId);
        panel.resumeSampling();
        QVERIFY(finished.wait(300000));
        auto second = finished.takeFirst().at(0).value<SamplingOutcome>();
        QCOMPARE(second.status, QString("finished"));
        QCOMPARE(second.runId, first.runId);
        QVERIFY(second.pairs >= first.pairs);
        auto project = must(store::Project::open(m_fx.path.toStdString()));
        QCOMPARE(must(project.db().query_int64("SELECT count(*) FROM trajectories WHERE run_id=" + std::to_string(first.runId))),
                 int64_t(3));
        m_verifierDelayMs = 0;
    }

    void job_outlives_its_panel_and_is_reattached() {
        m_verifierDelayMs = 1000;
        qint64 jobId = 0;
        int64_t pid = 0;
        {
            ProjectSession session;
            QSignalSpy opened(&session, &ProjectSession::opened);
            session.open(m_fx.path);
            QVERIFY(opened.wait(10000));
            SamplePanel panel(&session);
            configure(panel, 2);
            panel.startSampling();
            QTRY_VERIFY_WITH_TIMEOUT(panel.followedJob() > 0, 10000);
            jobId = panel.followedJob();
            QTRY_VERIFY_WITH_TIMEOUT(panel.jobsModel()->jobById(jobId) && panel.jobsModel()->jobById(jobId)->pid > 0, 10000);
            pid = panel.jobsModel()->jobById(jobId)->pid;
            QTRY_VERIFY_WITH_TIMEOUT(panel.progressText().startsWith("Run "), 120000);  // its run exists
        }  // the panel and its session are gone, as when the window closes
        QVERIFY(matrix::jobs::process_alive(pid));

        ProjectSession session;
        SamplePanel panel(&session);
        configure(panel, 2);
        QSignalSpy finished(&panel, &SamplePanel::samplingFinished);
        session.open(m_fx.path);
        QTRY_COMPARE_WITH_TIMEOUT(panel.followedJob(), jobId, 10000);
        auto* log = panel.findChild<QPlainTextEdit*>();
        QVERIFY2(log->toPlainText().contains(QString("Reattached to job %1 (process %2 on %3), running.")
                                                 .arg(jobId).arg(pid).arg(QString::fromStdString(matrix::jobs::host_name()))),
                 qPrintable(log->toPlainText()));
        QVERIFY(panel.isSampling());
        QCOMPARE(panel.unfinishedJobs(), 1);
        m_verifierDelayMs = 0;
        QVERIFY(finished.wait(300000));
        const auto outcome = finished.takeFirst().at(0).value<SamplingOutcome>();
        QCOMPARE(outcome.status, QString("finished"));
        QCOMPARE(outcome.tasks, 2);
        // The exact count the run stored, read back from the whole log by the panel that never saw it start.
        auto project = must(store::Project::open(m_fx.path.toStdString()));
        const int64_t stored = must(project.db().query_int64("SELECT count(*) FROM sampled_pairs WHERE run_id=" +
                                                              std::to_string(outcome.runId)));
        QVERIFY(stored > 0);
        QCOMPARE(outcome.pairs, qint64(stored));
        QCOMPARE(panel.progressText(), QString("Run %1 finished: %2 pairs").arg(outcome.runId).arg(stored));
        QTRY_COMPARE_WITH_TIMEOUT(panel.unfinishedJobs(), 0, 5000);  // the job list follows within its poll
        QTRY_VERIFY_WITH_TIMEOUT(!matrix::jobs::process_alive(pid), 5000);  // the supervisor exits right after recording the end

        // The dock as a user sees it after the reattached job ended ($MATRIX_SCREENSHOT_DIR keeps the PNG).
        QVERIFY(session.waitForIdle());
        panel.resize(1100, 760);
        panel.show();
        QTest::qWait(50);
        const QByteArray keep = qgetenv("MATRIX_SCREENSHOT_DIR");
        const QString png = (keep.isEmpty() ? m_fx.dir.path() : QString::fromLocal8Bit(keep)) + "/sample_panel.png";
        const QImage img = panel.grab().toImage();
        QVERIFY(img.save(png));
        QCOMPARE(QImage(png).size(), img.size());
    }
};

QTEST_MAIN(TestSamplePanel)
#include "test_sample_panel.moc"
