// The Sample dock (ui/views/sample_panel.h) over the GUI fixture project: the tiny fixture model writes the
// candidates, a verifier behind a local OpenAI-compatible server answers {"reason", "best_id": 1}. A run goes
// through the panel's worker to its end (status text, pairs stored as pending, the review's decision counts), a
// rejected pair shows in the "verifier vs you" queue and opens in curation, and a run cancelled at its first
// stored step is resumed from the panel to the same end.
#include <QSignalSpy>
#include <QTableView>
#include <QtTest>

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
    matrix::testing::LocalHttpServer m_server{[](const httplib::Request& req, httplib::Response& res) {
        res.set_content(first_is_best(req.body), "application/json");
    }};

    void configure(SamplePanel& panel, int limit) {
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
    }
};

QTEST_MAIN(TestSamplePanel)
#include "test_sample_panel.moc"
