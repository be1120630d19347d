// The Evaluate dock: the arguments it gives `matrix eval`, a gold step-mode run started from the panel as a job (a
// process of its own, core/jobs) and followed to its end (progress, live accuracy, runFinished, the job's row), resume
// of a paused run as a job, reattaching to an evaluation job started before (as after reopening the window) and
// pausing (the job's processes stopped: no item finishes), continuing and cancelling it (a resumable run), reattaching
// to a `matrix eval` process started by hand, closing the main window while an evaluation job runs (the dialog counts
// and lists it, the job goes on), and the panel rendered to PNG ($MATRIX_SCREENSHOT_DIR keeps it). The
// same dock's Slurm job: tests/ui/test_dock_slurm_jobs.cpp.
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <map>

#include "core/eval/bench_store.h"
#include "core/eval/gta_loader.h"
#include "core/eval/eval_run.h"
#include "core/jobs/job_control.h"
#include "core/jobs/process.h"
#include "core/store/project.h"
#include "core/store/run_repo.h"
#include "core/store/trajectory_repo.h"
#include "tests/support/cli_run.h"
#include "tests/support/jobs_project.h"
#include "ui/models/job_list_model.h"
#include "ui/models/project_session.h"
#include "ui/views/evaluate_panel.h"
#include "tests/ui/close_dialog.h"
#include "ui/views/main_window.h"

using namespace matrix;
using namespace matrix::ui;
using matrix::testing::job_row;

namespace {
const std::string kGta = std::string(MATRIX_SHARED_DIR) + "/data/gta/dataset.json";
const QString k_model = QStringLiteral(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny/tiny-qwen2vl");

int items_done(const QString& db, int64_t run) {
    auto p = store::Project::open(db.toStdString());
    if (!p.ok()) return -1;
    auto list = eval::eval_run_statuses(p->db());
    if (!list.ok()) return -1;
    for (const auto& s : *list)
        if (s.run_id == run) return s.done;
    return -1;
}

// The state letter of /proc/PID/stat (R, S, T for stopped, ...).
char process_state(qint64 pid) {
    QFile f(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!f.open(QIODevice::ReadOnly)) return '?';
    const QByteArray t = f.readAll();
    const int close = t.lastIndexOf(')');
    return close > 0 && close + 2 < t.size() ? t.at(close + 2) : '?';
}
}  // namespace

class TestEvaluatePanel : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_db;

    // An end-to-end GTA run of `items` items on the tiny model, submitted as a job the way `matrix eval submit` does
    // (no panel involved); returns the job id (0 on failure, with a QWARN).
    int64_t submitEvalJob(const QString& name, int items = 40) {
        jobs::JobRequest req;
        req.kind = "eval";
        for (const QString& a : QStringList{"eval", "run", "--db", m_db, "--benchmark", "gta", "--mode", "e2e", "--model",
                                            k_model, "--limit", QString::number(items), "--name", name, "--set", "max_steps=3", "--set",
                                            "max_new_tokens=6", "--set", "greedy=true", "--set",
                                            "work_dir=" + m_dir.path() + "/runs-" + name})
            req.argv.push_back(a.toStdString());
        req.db_path = m_db.toStdString();
        req.binary = matrix::testing::matrix_binary().toStdString();
        auto project = store::Project::open(m_db.toStdString());
        if (!project.ok()) return 0;
        auto j = jobs::submit_job(project->db(), req);
        if (!j.ok()) {
            qWarning("%s", j.error().to_string().c_str());
            return 0;
        }
        return j->id;
    }

    // The panel's lists read from the project (benchmark datasets, adapters, unfinished runs); false on a timeout.
    static bool readLists(EvaluatePanel& panel) {
        QSignalSpy refreshed(&panel, &EvaluatePanel::refreshed);
        panel.refresh();
        return refreshed.wait(10000);
    }

    void openSession(ProjectSession& session) {
        QSignalSpy opened(&session, &ProjectSession::opened);
        session.open(m_db);
        QVERIFY(opened.wait(10000));
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        qputenv("OPENBLAS_NUM_THREADS", "1");  // the jobs inherit it
        m_db = m_dir.path() + "/eval.matrix";
        auto project = store::Project::open(m_db.toStdString());
        QVERIFY(project.ok());
        auto b = eval::load_gta(kGta);
        QVERIFY(b.ok());
        QVERIFY(eval::store_benchmark(*project, *b).ok());
    }

    void start_follows_the_process_to_the_end() {
        ProjectSession session;
        openSession(session);
        EvaluatePanel panel(&session);
        panel.setMatrixBinary(matrix::testing::matrix_binary());
        QVERIFY(readLists(panel));
        panel.setBenchmark("gta");
        panel.setMode("step");
        panel.setController("gold");
        panel.setLimit(40);
        panel.setWorkers(2);
        QCOMPARE(panel.startArguments(),
                 QStringList({"eval", "run", "--db", m_db, "--benchmark", "gta", "--mode", "step", "--dataset", "gta",
                              "--controller", "gold", "--limit", "40", "--workers", "2", "--seed", "0"}));
        // A judge is passed for Agent-X only (its metrics are Agent-X's).
        panel.setJudge("http://127.0.0.1:9/v1/chat/completions", "judge");
        QVERIFY(!panel.startArguments().contains("--judge-url"));
        QSignalSpy finished(&panel, &EvaluatePanel::runFinished);
        panel.start();
        QVERIFY(panel.isRunning());
        QVERIFY(finished.wait(60000));
        const qint64 runId = finished.first().at(0).toLongLong();
        QCOMPARE(finished.first().at(1).toString(), QStringLiteral("finished"));
        QVERIFY(runId > 0);
        QVERIFY2(panel.progressText().contains("40/40 items"), qPrintable(panel.progressText()));
        QVERIFY2(panel.progressText().contains("accuracy so far 100.0%"), qPrintable(panel.progressText()));
        QVERIFY(!panel.isRunning());
        // It ran as a job on this machine: the job's row names the run and its end.
        QVERIFY(panel.followedJob() > 0);
        const jobs::Job j = job_row(m_db, panel.followedJob());
        QCOMPARE(j.kind, std::string("eval"));
        QCOMPARE(j.backend, std::string("local"));
        QCOMPARE(j.state, std::string("finished"));
        QCOMPARE(j.exit_code.value_or(-1), 0);
        QCOMPARE(j.run_id.value_or(0), int64_t(runId));
        QCOMPARE(j.argv.at(0) + " " + j.argv.at(1), std::string("eval run"));
        QTRY_COMPARE_WITH_TIMEOUT(panel.unfinishedJobs(), 0, 5000);
        auto project = store::Project::open(m_db.toStdString());
        auto run = store::RunRepo(project->db()).get(runId);
        QCOMPARE((*run)->status, std::string("finished"));
        QCOMPARE(store::RunRepo(project->db()).results(runId)->size(), size_t(40));

        // The panel as a user sees it.
        panel.resize(1200, 560);
        panel.show();
        QTest::qWait(50);
        const QByteArray keep = qgetenv("MATRIX_SCREENSHOT_DIR");
        const QString png = (keep.isEmpty() ? m_dir.path() : QString::fromLocal8Bit(keep)) + "/evaluate_panel_finished.png";
        const QImage img = panel.grab().toImage();
        QVERIFY(img.save(png));
        QCOMPARE(QImage(png).size(), img.size());
        QVERIFY(img.width() >= 1200);

        panel.setBenchmark("agentx");
        const QStringList a = panel.startArguments();
        QCOMPARE(a.mid(a.indexOf("--judge-url")), QStringList({"--judge-url", "http://127.0.0.1:9/v1/chat/completions",
                                                                "--judge-model", "judge"}));
    }

    void resumes_a_paused_run() {
        int64_t runId = 0;
        {
            auto project = store::Project::open(m_db.toStdString());
            eval::EvalSettings s;
            s.mode = "step";
            s.controller = {{"kind", "gold"}};
            s.limit = 25;
            auto id = eval::create_eval_run(*project, s, "gold", m_dir.path().toStdString());
            QVERIFY(id.ok());
            runId = *id;
        }
        std::atomic<bool> pause{false};
        eval::EvalEvents ev;
        ev.on_item_done = [&](const eval::EvalProgress& p) {
            if (p.done == 7) pause = true;
        };
        auto out = eval::run_eval(m_db.toStdString(), runId, {}, ev, nullptr, &pause);
        QVERIFY(out.ok());
        QCOMPARE(out->status, std::string("paused"));

        ProjectSession session;
        openSession(session);
        EvaluatePanel panel(&session);
        panel.setMatrixBinary(matrix::testing::matrix_binary());
        QVERIFY(readLists(panel));
        QCOMPARE(panel.resumableRunId(), qint64(runId));
        QSignalSpy finished(&panel, &EvaluatePanel::runFinished);
        panel.resumeUnfinished();
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.first().at(0).toLongLong(), qint64(runId));
        QCOMPARE(finished.first().at(1).toString(), QStringLiteral("finished"));
        QVERIFY2(panel.progressText().contains("25/25 items"), qPrintable(panel.progressText()));
        const jobs::Job j = job_row(m_db, panel.followedJob());
        QCOMPARE(j.argv.at(0) + " " + j.argv.at(1), std::string("eval resume"));
        QCOMPARE(j.run_id.value_or(0), int64_t(runId));
        QCOMPARE(j.state, std::string("finished"));
    }

    // A job whose command fails (no such model folder): the dock says why, from the job's row, and the run it made (if
    // any) is not left running.
    void failed_job_says_why() {
        ProjectSession session;
        openSession(session);
        EvaluatePanel panel(&session);
        panel.setMatrixBinary(matrix::testing::matrix_binary());
        QVERIFY(readLists(panel));
        panel.setBenchmark("gta");
        panel.setMode("e2e");
        panel.setController("local");
        panel.setModelDir(m_dir.path() + "/no-such-model");
        panel.setLimit(3);
        QSignalSpy finished(&panel, &EvaluatePanel::runFinished);
        panel.start();
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.first().at(1).toString(), QStringLiteral("failed"));
        // The reason's first line and the command's own last word, not the log tail's header.
        QCOMPARE(panel.progressText(), "Failed: the command ended with exit code 1: matrix: " + m_dir.path() +
                                           "/no-such-model: cannot open tokenizer file");
        const jobs::Job j = job_row(m_db, panel.followedJob());
        QCOMPARE(j.state, std::string("failed"));
        QVERIFY(!panel.isRunning());
        if (const qint64 run = finished.first().at(0).toLongLong(); run > 0) {
            auto project = store::Project::open(m_db.toStdString());
            QVERIFY((*store::RunRepo(project->db()).get(run))->status != "running");
        }
    }

    // An evaluation job started before this panel existed (`matrix eval submit`, or the window that started it was
    // closed): the panel reattaches to it when the project opens, pauses it (its processes stopped: no item finishes
    // while paused), continues it, and cancels it; the run ends cancelled and is offered for Resume.
    void reattaches_pauses_continues_and_cancels_a_job() {
        const int64_t jobId = submitEvalJob("held");
        QVERIFY(jobId > 0);
        ProjectSession session;
        openSession(session);
        EvaluatePanel panel(&session);
        panel.setMatrixBinary(matrix::testing::matrix_binary());
        panel.refresh();
        QTRY_COMPARE_WITH_TIMEOUT(panel.followedJob(), qint64(jobId), 10000);
        QVERIFY(panel.isRunning());
        QTRY_COMPARE_WITH_TIMEOUT(panel.unfinishedJobs(), 1, 5000);
        QTRY_VERIFY_WITH_TIMEOUT(panel.progressText().contains(QRegularExpression("#\\d+: [1-9]\\d*/40 items")), 120000);
        const int64_t runId = job_row(m_db, jobId).run_id.value_or(0);
        QVERIFY(runId > 0);
        QCOMPARE(panel.currentRunId(), qint64(runId));

        panel.pause();
        QTRY_COMPARE_WITH_TIMEOUT(job_row(m_db, jobId).state, std::string("paused"), 5000);
        QTRY_VERIFY_WITH_TIMEOUT(panel.progressText().contains("paused"), 5000);
        const qint64 pid = job_row(m_db, jobId).pid;
        QCOMPARE(process_state(pid), 'T');
        const int before = items_done(m_db, runId);
        QTest::qWait(1500);
        QCOMPARE(items_done(m_db, runId), before);
        QVERIFY(panel.isRunning());

        panel.pause();  // Continue
        QTRY_COMPARE_WITH_TIMEOUT(job_row(m_db, jobId).state, std::string("running"), 5000);
        QVERIFY(process_state(pid) != 'T');
        QTRY_VERIFY_WITH_TIMEOUT(items_done(m_db, runId) > before, 60000);

        QSignalSpy finished(&panel, &EvaluatePanel::runFinished);
        panel.cancel();
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.first().at(0).toLongLong(), qint64(runId));
        QCOMPARE(finished.first().at(1).toString(), QStringLiteral("cancelled"));
        const jobs::Job j = job_row(m_db, jobId);
        QCOMPARE(j.state, std::string("cancelled"));
        const int done = items_done(m_db, runId);
        QVERIFY2(done > before && done < 40, qPrintable(QString::number(done)));
        QVERIFY(!panel.isRunning());
        QTRY_COMPARE_WITH_TIMEOUT(panel.resumableRunId(), qint64(runId), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(panel.unfinishedJobs(), 0, 5000);
    }

    // Closing the window while an evaluation job runs: the dialog counts it and lists it, "Close, keep them running"
    // closes, and the job goes on (then it is cancelled here).
    void closing_the_window_lists_the_eval_job_and_keeps_it() {
        const int64_t jobId = submitEvalJob("close", 200);
        QVERIFY(jobId > 0);
        {
            MainWindow w;
            w.openProject(m_db);
            QVERIFY(w.waitForIdle());
            auto* panel = w.findChild<EvaluatePanel*>();
            QVERIFY(panel);
            QTRY_COMPARE_WITH_TIMEOUT(panel->followedJob(), qint64(jobId), 10000);  // reattached when the project opened
            QTRY_COMPARE_WITH_TIMEOUT(panel->unfinishedJobs(), 1, 10000);
            w.show();
            const matrix::test::CloseAnswer said = matrix::test::closeAnswering(w, /*keep=*/true);
            QVERIFY(said.closed);
            QVERIFY2(said.text.startsWith("1 job(s) of this project are running."), qPrintable(said.text));
            QVERIFY2(said.listed.startsWith(QString("job %1 (eval, running): matrix eval run --db ").arg(jobId)),
                     qPrintable(said.listed));
        }
        const jobs::Job j = job_row(m_db, jobId);
        QVERIFY(!j.is_final());
        QVERIFY(jobs::process_alive(j.pid, j.pid_start));
        {
            auto project = store::Project::open(m_db.toStdString());
            QVERIFY(jobs::cancel_job(project->db(), jobId).ok());
        }
        auto end = testing::wait_job(m_db.toStdString(), jobId, [](const jobs::Job& x) { return x.is_final(); }, 60);
        QVERIFY(end);
        QVERIFY2(end->state == "cancelled", (end->state + ": " + end->reason).c_str());
    }

    void reattaches_to_a_running_process() {
        QProcess cli;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("OPENBLAS_NUM_THREADS", "1");
        cli.setProcessEnvironment(env);
        cli.start(matrix::testing::matrix_binary(),
                  {"eval", "run", "--db", m_db, "--benchmark", "gta", "--mode", "e2e", "--model", k_model, "--limit", "6",
                   "--set", "max_steps=3", "--set", "max_new_tokens=6", "--set", "greedy=true", "--set",
                   "work_dir=" + m_dir.path() + "/runs"});
        QVERIFY(cli.waitForStarted());
        QByteArray out;
        for (int i = 0; i < 600 && !out.contains("[1/6]"); ++i) {
            cli.waitForReadyRead(200);
            out += cli.readAllStandardOutput();
        }
        QVERIFY(out.contains("[1/6]"));
        ProjectSession session;
        openSession(session);
        EvaluatePanel panel(&session);
        QVERIFY(readLists(panel));
        QVERIFY(panel.isRunning());  // following the other process
        QCOMPARE(panel.followedJob(), qint64(0));  // not a job
        QCOMPARE(panel.unfinishedJobs(), 1);       // the close dialog counts it
        QSignalSpy finished(&panel, &EvaluatePanel::runFinished);
        QSignalSpy follow(&panel, &EvaluatePanel::followItem);
        QVERIFY(finished.wait(300000));
        QCOMPARE(finished.first().at(1).toString(), QStringLiteral("finished"));
        if (cli.state() != QProcess::NotRunning) QVERIFY(cli.waitForFinished(30000));
        QCOMPARE(cli.exitCode(), 0);
        QVERIFY2(panel.progressText().contains("6/6 items"), qPrintable(panel.progressText()));
        // "Follow the current item": each emission names one of the run's trajectories, its task, and no more
        // steps than that trajectory ends with; the last one is the run's newest trajectory.
        QVERIFY(!follow.isEmpty());
        auto project = store::Project::open(m_db.toStdString());
        QVERIFY(project.ok());
        auto trajectories = store::TrajectoryRepo(project->db()).list_for_run(finished.first().at(0).toLongLong());
        QVERIFY(trajectories.ok());
        QCOMPARE(int(trajectories->size()), 6);
        std::map<qint64, std::pair<qint64, int>> known;  // trajectory -> (task, steps)
        qint64 newest = 0;
        for (const auto& t : *trajectories) {
            known[t.id] = {t.task_id, t.n_steps};
            newest = std::max<qint64>(newest, t.id);
        }
        for (const QList<QVariant>& e : follow) {
            const auto it = known.find(e.at(1).toLongLong());
            QVERIFY(it != known.end());
            QCOMPARE(e.at(0).toLongLong(), it->second.first);
            QVERIFY(e.at(2).toInt() >= 0 && e.at(2).toInt() <= it->second.second);
        }
        QCOMPARE(follow.last().at(1).toLongLong(), newest);
    }
};

QTEST_MAIN(TestEvaluatePanel)
#include "test_evaluate_panel.moc"
