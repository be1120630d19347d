// The Sample, Synthesis and Evaluate docks' Slurm jobs against a real Slurm: the one-node cluster tests/slurm/slurm_cluster.sh
// starts on this machine as the CTest fixture "slurm" (SLURM_CONF points at it; see tests/app/test_slurm_jobs.cpp).
// From each dock, "Run as: Slurm job" with the dock's Slurm form submits through the shared launcher (sbatch):
//   - Sample: `matrix sample run` on the GUI fixture project (tiny model, a verifier on 127.0.0.1) runs to its end;
//     the dock shows the exact pair count the run stored, the job's row says backend slurm / finished with the form's
//     resources, and Slurm says COMPLETED;
//   - Synthesis: a queries stage against a scripted teacher on 127.0.0.1 that holds the second round; the dock pauses
//     the job (scontrol suspend: Slurm says SUSPENDED, the row paused) and continues it, then the stage finishes
//     and the dock shows the job's exact final counts; a second stage run is cancelled from the dock (scancel: the
//     row cancelled, Slurm CANCELLED);
//   - Evaluate: a gold step-mode GTA run on 12 items runs to its end; the dock shows 12/12 items at 100% accuracy,
//     the run is finished, the job's row says backend slurm / finished and names the run, Slurm says COMPLETED.
#include <QPlainTextEdit>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <condition_variable>
#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "core/eval/bench_store.h"
#include "core/eval/gta_loader.h"
#include "core/jobs/job_control.h"
#include "core/jobs/process.h"
#include "core/jobs/slurm.h"
#include "core/store/project.h"
#include "core/store/run_repo.h"
#include "tests/support/cli_run.h"
#include "tests/support/jobs_project.h"
#include "tests/support/local_http_server.h"
#include "tests/ui/ui_fixture.h"
#include "ui/models/job_list_model.h"
#include "ui/models/project_session.h"
#include "ui/models/synth_pipeline_model.h"
#include "ui/views/evaluate_panel.h"
#include "ui/views/run_as_form.h"
#include "ui/views/sample_panel.h"
#include "ui/views/synthesis_panel.h"

using namespace matrix;
using namespace matrix::ui;
using matrix::testing::job_row;
using matrix::test::must;
using json = nlohmann::json;

namespace {
const QString k_model = QStringLiteral(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny/tiny-qwen2vl");
const QString k_mtrace = QStringLiteral(MATRIX_SHARED_DIR "/data/mtrace/mtrace-subset-60.json");

std::string first_is_best() {
    const std::string content = R"({"reason": "the first one reads the file", "best_id": 1})";
    json choice = {{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", "stop"}};
    return json{{"id", "v"}, {"object", "chat.completion"}, {"model", "v"}, {"choices", {choice}}}.dump();
}

std::string read_file(const std::string& path) {
    std::ifstream f(path);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Slurm's word for a job once its allocation has ended (COMPLETING / RUNNING until then).
std::string slurm_final(const std::string& slurm_id) {
    std::string last;
    for (int i = 0; i < 600; ++i) {
        auto s = jobs::query_slurm_state(slurm_id);
        if (s.ok()) last = s->slurm;
        if (s.ok() && last != "COMPLETING" && last != "RUNNING") break;
        QTest::qWait(100);
    }
    return last;
}
}  // namespace

class TestDockSlurmJobs : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    // The synthesis teacher: three tasks per round, named after the round's seed; request m_holdAt waits.
    std::unique_ptr<testing::LocalHttpServer> m_teacher;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    int m_requests = 0, m_holdAt = 0;
    bool m_release = false;

    void teach(const httplib::Request& http, httplib::Response& res) {
        const json req = json::parse(http.body, nullptr, false);
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            const int n = ++m_requests;
            m_cv.notify_all();
            if (n == m_holdAt) m_cv.wait(lock, [this] { return m_release; });
        }
        const std::string seed = std::to_string(req.value("seed", int64_t(0)));
        const json list = json::array({
            {{"query", "Add up the prices on the menu for round " + seed + "."}, {"tools", json::array()}, {"needs", "none"}},
            {{"query", "What is 12 times 12 for round " + seed + "?"}, {"tools", json::array()}, {"needs", "none"}},
            {{"query", "Name the capital of France for round " + seed + "."}, {"tools", json::array()}, {"needs", "none"}},
        });
        json choice = {{"index", 0},
                       {"message", {{"role", "assistant"}, {"content", "```json\n" + list.dump() + "\n```"}}},
                       {"finish_reason", "stop"}};
        res.set_content(json{{"id", "c"}, {"object", "chat.completion"}, {"model", req.value("model", "")},
                             {"choices", {choice}},
                             {"usage", {{"prompt_tokens", 1000}, {"completion_tokens", 200}, {"total_tokens", 1200}}}}
                            .dump(),
                        "application/json");
    }
    void hold(int at) {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_requests = 0;
        m_holdAt = at;
        m_release = false;
    }
    void release() {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_release = true;
        m_cv.notify_all();
    }
    int requests() {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_requests;
    }

    // The dock's Slurm form as a user fills it: one CPU, ten minutes, the test cluster's partition.
    static void slurmForm(RunAsForm* form) {
        form->setMode("slurm");
        jobs::SlurmOptions o;
        o.cpus_per_task = 1;
        o.time = "00:10:00";
        o.partition = "debug";
        form->setSlurmOptions(o);
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_dir.filePath("settings"));
        QCoreApplication::setOrganizationName("matrix-test");
        QCoreApplication::setApplicationName("test_dock_slurm_jobs");
        const QByteArray conf = qgetenv("SLURM_CONF");
        if (conf.isEmpty() || !QFile::exists(QString::fromLocal8Bit(conf)))
            QFAIL(qPrintable("no Slurm test cluster: SLURM_CONF='" + QString::fromLocal8Bit(conf) +
                             "' does not exist (the fixture slurm_cluster_start failed or was not run; see its output)"));
        auto sinfo = jobs::run_capture({"sinfo", "-h", "-o", "%T"}, 30);
        QVERIFY2(sinfo.ok(), sinfo.ok() ? "" : sinfo.error().to_string().c_str());
        QVERIFY2(sinfo->exit_code == 0, ("sinfo: " + sinfo->err).c_str());
        // The jobs inherit this environment (sbatch --export=ALL): one BLAS thread on the one CPU they get.
        qputenv("OPENBLAS_NUM_THREADS", "1");
        qputenv("OMP_NUM_THREADS", "1");
        m_teacher = std::make_unique<testing::LocalHttpServer>(
            [this](const httplib::Request& q, httplib::Response& r) { teach(q, r); });
    }

    void cleanup() { release(); }

    void sample_dock_runs_a_slurm_job() {
        matrix::test::UiFixture fx;
        testing::LocalHttpServer verifier([](const httplib::Request&, httplib::Response& res) {
            res.set_content(first_is_best(), "application/json");
        });
        ProjectSession session;
        QSignalSpy opened(&session, &ProjectSession::opened);
        session.open(fx.path);
        QVERIFY(opened.wait(10000));
        SamplePanel panel(&session);
        panel.setMatrixBinary(testing::matrix_binary());
        panel.setProjectPath(fx.path);
        panel.setWorkRoot(fx.dir.filePath("runs"));
        panel.setDataset("docs");
        panel.setModelDir(k_model);
        panel.setVerifierEndpoint(QString::fromStdString(verifier.url("/v1")), "v");
        panel.setCandidates(3);
        panel.setLimit(2);
        panel.setMaxNewTokens(6);
        panel.setMaxSteps(2);
        slurmForm(panel.runAsForm());
        QSignalSpy finished(&panel, &SamplePanel::samplingFinished);
        panel.startSampling();
        QCOMPARE(panel.progressText(), QString("Submitting a sampling job to Slurm..."));
        QVERIFY(finished.wait(600000));
        const auto outcome = finished.takeFirst().at(0).value<SamplingOutcome>();
        const jobs::Job j = job_row(fx.path, 1);
        QVERIFY2(outcome.status == "finished", qPrintable(outcome.error + "\n" + QString::fromStdString(read_file(j.log_path))));
        QCOMPARE(outcome.tasks, 2);
        auto project = must(store::Project::open(fx.path.toStdString()));
        const int64_t stored = must(project.db().query_int64("SELECT count(*) FROM sampled_pairs WHERE run_id=" +
                                                              std::to_string(outcome.runId)));
        QVERIFY(stored > 0);
        QCOMPARE(outcome.pairs, qint64(stored));
        QCOMPARE(panel.progressText(), QString("Run %1 finished: %2 pairs").arg(outcome.runId).arg(stored));

        QCOMPARE(j.kind, std::string("sample"));
        QCOMPARE(j.backend, std::string("slurm"));
        QCOMPARE(j.state, std::string("finished"));
        QCOMPARE(j.exit_code.value_or(-1), 0);
        QVERIFY(!j.slurm_job_id.empty());
        QCOMPARE(j.slurm.cpus_per_task, 1);
        QCOMPARE(j.slurm.time, std::string("00:10:00"));
        QCOMPARE(j.slurm.partition, std::string("debug"));
        QCOMPARE(j.argv.at(0) + " " + j.argv.at(1), std::string("sample run"));
        QCOMPARE(j.run_id.value_or(0), int64_t(outcome.runId));
        QCOMPARE(slurm_final(j.slurm_job_id), std::string("COMPLETED"));
        const std::string script = read_file(j.log_path + ".sbatch");
        QVERIFY2(script.find("#SBATCH --job-name=matrix-sample-1\n") != std::string::npos, script.c_str());
        QVERIFY(script.find("#SBATCH --partition=debug\n") != std::string::npos);
        // The job list shows where it ran.
        QTRY_COMPARE_WITH_TIMEOUT(panel.jobsModel()->index(0, JobListModel::Where).data().toString(),
                                  QString("Slurm %1").arg(QString::fromStdString(j.slurm_job_id)), 5000);
    }

    void evaluate_dock_runs_a_slurm_job() {
        const QString db = m_dir.filePath("eval.matrix");
        {
            auto project = must(store::Project::open(db.toStdString()));
            auto gta = must(eval::load_gta(std::string(MATRIX_SHARED_DIR) + "/data/gta/dataset.json"));
            must(eval::store_benchmark(project, gta));
        }
        ProjectSession session;
        QSignalSpy opened(&session, &ProjectSession::opened);
        session.open(db);
        QVERIFY(opened.wait(10000));
        EvaluatePanel panel(&session);
        panel.setMatrixBinary(testing::matrix_binary());
        QSignalSpy refreshed(&panel, &EvaluatePanel::refreshed);
        panel.refresh();
        QVERIFY(refreshed.wait(10000));
        panel.setBenchmark("gta");
        panel.setMode("step");
        panel.setController("gold");
        panel.setLimit(12);
        panel.setWorkers(1);
        slurmForm(panel.runAsForm());
        QSignalSpy finished(&panel, &EvaluatePanel::runFinished);
        panel.start();
        QCOMPARE(panel.progressText(), QString("Submitting an evaluation job to Slurm..."));
        QVERIFY(finished.wait(600000));
        const qint64 runId = finished.first().at(0).toLongLong();
        QVERIFY(panel.followedJob() > 0);
        const jobs::Job j = job_row(db, panel.followedJob());
        QVERIFY2(finished.first().at(1).toString() == "finished", qPrintable(QString::fromStdString(read_file(j.log_path))));
        QVERIFY(runId > 0);
        QVERIFY2(panel.progressText().startsWith(QString("Run #%1: 12/12 items \u00b7 accuracy so far 100.0%").arg(runId)),
                 qPrintable(panel.progressText()));
        auto project = must(store::Project::open(db.toStdString()));
        QCOMPARE(must(store::RunRepo(project.db()).get(runId))->status, std::string("finished"));
        QCOMPARE(must(store::RunRepo(project.db()).results(runId)).size(), size_t(12));

        QCOMPARE(j.kind, std::string("eval"));
        QCOMPARE(j.backend, std::string("slurm"));
        QCOMPARE(j.state, std::string("finished"));
        QCOMPARE(j.exit_code.value_or(-1), 0);
        QCOMPARE(j.slurm.partition, std::string("debug"));
        QCOMPARE(j.argv.at(0) + " " + j.argv.at(1), std::string("eval run"));
        QCOMPARE(j.run_id.value_or(0), int64_t(runId));
        QCOMPARE(slurm_final(j.slurm_job_id), std::string("COMPLETED"));
        const std::string script = read_file(j.log_path + ".sbatch");
        QVERIFY2(script.find("#SBATCH --job-name=matrix-eval-" + std::to_string(j.id) + "\n") != std::string::npos,
                 script.c_str());
    }

    void synthesis_dock_pauses_continues_and_cancels_a_slurm_job() {
        const QString db = m_dir.filePath("synth.matrix");
        auto r = testing::run_matrix({"import", "--db", db, "--format", "mtrace", "--dataset", "seeds", k_mtrace});
        QVERIFY2(r.code == 0, r.err.constData());
        ProjectSession session;
        QSignalSpy opened(&session, &ProjectSession::opened);
        session.open(db);
        QVERIFY(opened.wait(10000));
        SynthesisPanel panel(&session);
        panel.setMatrixBinary(testing::matrix_binary());
        panel.setEndpoint(QString::fromStdString(m_teacher->url("/v1")), "teacher");
        panel.setStage("queries");
        panel.setSeedDataset("seeds");
        panel.setLimit(2);
        slurmForm(panel.runAsForm());
        hold(2);  // the second round waits: the job is mid-stage when it is paused
        panel.start();
        QTRY_COMPARE_WITH_TIMEOUT(panel.followedJob(), qint64(1), 30000);
        QTRY_COMPARE_WITH_TIMEOUT(requests(), 2, 120000);
        jobs::Job j = job_row(db, 1);
        QCOMPARE(j.backend, std::string("slurm"));
        QVERIFY(!j.slurm_job_id.empty());

        panel.pause();
        QTRY_COMPARE_WITH_TIMEOUT(QString::fromStdString(panel.jobsModel()->jobById(1)->state), QString("paused"), 20000);
        auto s = jobs::query_slurm_state(j.slurm_job_id);
        QVERIFY(s.ok());
        QCOMPARE(s->slurm, std::string("SUSPENDED"));
        QTRY_VERIFY_WITH_TIMEOUT(panel.progressText().startsWith("queries paused (job 1"), 5000);
        panel.pause();  // Continue
        QTRY_COMPARE_WITH_TIMEOUT(QString::fromStdString(panel.jobsModel()->jobById(1)->state), QString("running"), 20000);
        s = jobs::query_slurm_state(j.slurm_job_id);
        QVERIFY(s.ok());
        QCOMPARE(s->slurm, std::string("RUNNING"));

        QSignalSpy finished(&panel, &SynthesisPanel::stageFinished);
        QSignalSpy refreshed(&panel, &SynthesisPanel::refreshed);
        release();
        QVERIFY(finished.wait(120000));
        QCOMPARE(finished.first().at(0).toString(), QString("queries"));
        QCOMPARE(finished.first().at(1).toInt(), 0);
        QCOMPARE(panel.progressText(),
                 QStringLiteral("queries finished: 2 units, 2 done, 0 rejected, 0 failed, 2400 paid tokens"));
        QVERIFY(refreshed.wait(10000));
        SynthPipelineModel* m = panel.pipelineModel();
        auto cell = [&](int row, int col) { return m->index(row, col).data().toString(); };
        QCOMPARE(QStringList({cell(0, 0), cell(0, 1), cell(0, 2), cell(0, 3), cell(0, 7)}),
                 QStringList({"queries", "2", "6", "0", "2400"}));
        j = job_row(db, 1);
        QCOMPARE(j.kind, std::string("synth"));
        QCOMPARE(j.state, std::string("finished"));
        QCOMPARE(j.slurm.partition, std::string("debug"));
        QCOMPARE(slurm_final(j.slurm_job_id), std::string("COMPLETED"));

        // Another round, cancelled from the dock while the teacher holds it: scancel.
        hold(1);
        panel.setLimit(3);
        panel.start();
        QTRY_COMPARE_WITH_TIMEOUT(panel.followedJob(), qint64(2), 30000);
        QTRY_COMPARE_WITH_TIMEOUT(requests(), 1, 120000);
        QTRY_COMPARE_WITH_TIMEOUT(QString::fromStdString(panel.jobsModel()->jobById(2)->state), QString("running"), 20000);
        panel.cancel();
        QVERIFY(finished.wait(120000));
        QCOMPARE(finished.last().at(1).toInt(), 130);
        // The job's own summary: the held round is the one unit of this run (the limit counts all rounds), left
        // pending; the paid tokens are the stage's so far.
        QCOMPARE(panel.progressText(), QStringLiteral("queries cancelled; run it again to carry on: 1 units, 0 done, "
                                                      "0 rejected, 0 failed, 2400 paid tokens"));
        j = job_row(db, 2);
        QCOMPARE(j.backend, std::string("slurm"));
        QCOMPARE(j.state, std::string("cancelled"));
        QCOMPARE(slurm_final(j.slurm_job_id), std::string("CANCELLED"));
        release();
    }
};

QTEST_MAIN(TestDockSlurmJobs)
#include "test_dock_slurm_jobs.moc"
