// The training panel with jobs (ui/views/training_panel_jobs.cpp over core/jobs): Train starts a `matrix train`
// process recorded in the project and the panel follows it from the store (log, curves, the end); a job keeps running
// when its panel and session are destroyed, and a new panel on the reopened project reattaches to it, pauses and
// continues it (the process stopped, then running) and cancels it (the run paused at a checkpoint); closing the main
// window while it runs asks, and the job outlives the window.
#include <QtTest>
#include <QComboBox>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTimer>
#include <signal.h>

#include "core/jobs/job_control.h"
#include "core/jobs/process.h"
#include "core/store/run_repo.h"
#include "tests/support/jobs_project.h"
#include "tests/ui/close_dialog.h"
#include "ui/models/job_list_model.h"
#include "ui/models/project_session.h"
#include "ui/views/main_window.h"
#include "ui/views/training_panel.h"

using namespace matrix;

namespace {

template <class W>
W* field(QWidget& panel, const char* key) {
    return panel.findChild<W*>(QString(key));
}

void configure(ui::TrainingPanel& panel, const QString& out, int epochs) {
    panel.setMatrixBinary(MATRIX_BINARY_DIR "/app/matrix");
    panel.setModelDir(QString::fromStdString(testing::tiny_model()));
    panel.setDataset("demo");
    panel.setOutputDir(out);
    field<QSpinBox>(panel, "lora_r")->setValue(4);
    field<QSpinBox>(panel, "epochs")->setValue(epochs);
    field<QSpinBox>(panel, "max_length")->setValue(512);
    field<QSpinBox>(panel, "save_every")->setValue(2);
}

QString logText(ui::TrainingPanel& panel) {
    auto* log = panel.findChild<QPlainTextEdit*>();
    return log ? log->toPlainText() : QString();
}

}  // namespace

class TestTrainingJobs : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        qputenv("OPENBLAS_NUM_THREADS", "1");  // the jobs inherit the workbench's environment
    }

    void train_button_runs_a_job_and_follows_it() {
        const QString db = m_dir.filePath("one.matrix");
        QVERIFY(testing::make_jobs_project(db.toStdString()).ok());
        ui::ProjectSession session;
        ui::TrainingPanel panel;
        panel.setSession(&session);
        session.open(db);
        QVERIFY(session.waitForIdle());
        panel.setProjectPath(db);
        QCOMPARE(panel.runMode(), QString("local"));
        configure(panel, m_dir.filePath("one-out"), 2);
        QSignalSpy done(&panel, &ui::TrainingPanel::trainingFinished);
        panel.startTraining();
        QVERIFY2(done.wait(300000), qPrintable(logText(panel)));
        QCOMPARE(done.first().at(0).toString(), QString("finished"));
        QCOMPARE(done.first().at(2).toString(), m_dir.filePath("one-out"));
        QCOMPARE(panel.followedJob(), qint64(1));
        QCOMPARE(panel.chartPointCount(), 6);  // 3 samples x 2 epochs, read from the store as the trainer wrote them
        QVERIFY(logText(panel).contains("adapter saved to " + m_dir.filePath("one-out")));
        QVERIFY(logText(panel).contains("[job 1 finished: exit code 0]"));
        auto* jobsModel = panel.jobsModel();
        jobsModel->refresh();
        QVERIFY(session.waitForIdle());
        QCOMPARE(jobsModel->rowCount(), 1);
        const jobs::Job* j = jobsModel->job(0);
        QCOMPARE(j->state, std::string("finished"));
        QCOMPARE(j->argv[0], std::string("train"));
        QCOMPARE(j->argv[1], std::string("sft"));
        // Every key of the form as --set, so the job trains what the form shows.
        const auto& a = j->argv;
        QVERIFY(std::find(a.begin(), a.end(), "lora_r=4") != a.end());
        QVERIFY(std::find(a.begin(), a.end(), "epochs=2") != a.end());
        QCOMPARE(int(std::count(a.begin(), a.end(), "--set")), int(train::config_fields().size()));
        QCOMPARE(jobsModel->unfinishedCount(), 0);
    }

    void job_outlives_its_panel_and_is_reattached_paused_and_cancelled() {
        const QString db = m_dir.filePath("two.matrix");
        QVERIFY(testing::make_jobs_project(db.toStdString()).ok());
        int64_t pid = 0;
        {
            ui::ProjectSession session;
            ui::TrainingPanel panel;
            panel.setSession(&session);
            session.open(db);
            QVERIFY(session.waitForIdle());
            panel.setProjectPath(db);
            configure(panel, m_dir.filePath("two-out"), 100000);
            panel.startTraining();
            QTRY_VERIFY_WITH_TIMEOUT(panel.chartPointCount() >= 2, 300000);
            QCOMPARE(panel.unfinishedJobs(), 1);
            pid = panel.jobsModel()->jobById(1)->pid;
        }  // the panel and its session are gone, as when the window closes
        QVERIFY(jobs::process_alive(pid));

        ui::ProjectSession session;
        ui::TrainingPanel panel;
        panel.setSession(&session);
        session.open(db);
        panel.setProjectPath(db);
        QTRY_COMPARE_WITH_TIMEOUT(panel.followedJob(), qint64(1), 10000);
        QVERIFY2(logText(panel).contains(QString("Reattached to job 1 (process %1 on %2), running.")
                                             .arg(pid)
                                             .arg(QString::fromStdString(jobs::host_name()))),
                 qPrintable(logText(panel)));
        QVERIFY(panel.isTraining());
        QTRY_VERIFY_WITH_TIMEOUT(panel.chartPointCount() >= 3, 60000);  // curves from the store, older steps too

        panel.pauseTraining();
        QTRY_COMPARE_WITH_TIMEOUT(QString::fromStdString(panel.jobsModel()->jobById(1)->state), QString("paused"), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(jobs::process_stopped(pid), 5000);
        auto buttons = panel.findChildren<QPushButton*>();
        QTRY_VERIFY_WITH_TIMEOUT(std::any_of(buttons.begin(), buttons.end(), [](auto* b) { return b->text() == "Continue"; }),
                                 5000);
        panel.pauseTraining();  // Continue
        QTRY_COMPARE_WITH_TIMEOUT(QString::fromStdString(panel.jobsModel()->jobById(1)->state), QString("running"), 10000);
        QVERIFY(!jobs::process_stopped(pid));

        QSignalSpy done(&panel, &ui::TrainingPanel::trainingFinished);
        panel.cancelTraining();
        QVERIFY(done.wait(120000));
        QCOMPARE(done.first().at(0).toString(), QString("cancelled"));
        const qint64 runId = done.first().at(1).toLongLong();
        QVERIFY(runId > 0);
        auto p = store::Project::open(db.toStdString());
        auto run = store::RunRepo(p->db()).get(runId);
        QCOMPARE((*run)->status, std::string("paused"));  // resumable from its checkpoint
        // The supervisor records the job's end, then exits (about 0.1 s later here): the panel may see the end first.
        QTRY_VERIFY_WITH_TIMEOUT(!jobs::process_alive(pid), 5000);
    }

    void closing_the_window_asks_and_leaves_the_job_running() {
        const QString db = m_dir.filePath("three.matrix");
        QVERIFY(testing::make_jobs_project(db.toStdString()).ok());
        // A job started from the shell: the window only sees it in the project.
        jobs::JobRequest req;
        req.kind = "train";
        req.argv = {"train", "sft", "--db", db.toStdString(), "--dataset", "demo", "--model", testing::tiny_model(),
                    "--out", m_dir.filePath("three-out").toStdString(), "--set", "lora_r=4", "--set", "epochs=100000"};
        req.db_path = db.toStdString();
        req.binary = MATRIX_BINARY_DIR "/app/matrix";
        jobs::Job job;
        {
            auto p = store::Project::open(db.toStdString());
            auto j = jobs::submit_job(p->db(), req);
            QVERIFY2(j.ok(), j.ok() ? "" : j.error().to_string().c_str());
            job = *j;
        }
        // The job runs (its first step is in its log) before the window opens.
        QTRY_VERIFY_WITH_TIMEOUT(jobs::log_tail(job.log_path, 200).find("step 1/") != std::string::npos, 120000);
        ui::MainWindow w;
        w.openProject(db);
        QVERIFY(w.waitForIdle());
        auto* panel = w.findChild<ui::TrainingPanel*>();
        QVERIFY(panel);
        QTRY_COMPARE_WITH_TIMEOUT(panel->unfinishedJobs(), 1, 10000);
        w.show();
        // First answer Cancel: the window stays; then close and keep the job.
        const matrix::test::CloseAnswer cancelled = matrix::test::closeAnswering(w, /*keep=*/false);
        QVERIFY(!cancelled.closed);
        QVERIFY(cancelled.text.startsWith("1 job(s) of this project are running. They keep running after the window closes"));
        QVERIFY(w.isVisible());
        QVERIFY(matrix::test::closeAnswering(w, /*keep=*/true).closed);
        QVERIFY(jobs::process_alive(job.pid, job.pid_start));
        {
            auto p = store::Project::open(db.toStdString());
            QVERIFY(jobs::cancel_job(p->db(), job.id).ok());
        }
        auto end = testing::wait_job(db.toStdString(), job.id, [](const jobs::Job& j) { return j.is_final(); }, 120);
        QVERIFY(end);
        QVERIFY2(end->state == "cancelled", (end->state + ": " + end->reason).c_str());
    }
};

QTEST_MAIN(TestTrainingJobs)
#include "test_training_jobs.moc"
