// `matrix jobs` and `matrix train submit` on this machine (core/jobs' local launcher), with real processes: a job
// outlives the shell that launched it (its whole process group SIGKILLed) and finishes with its run and adapter in
// the project; pause stops the supervisor and the trainer (state T, no new metrics) and resume continues them;
// cancel stops the run with a checkpoint (job cancelled, run paused) and a resumed job carries it on from that
// checkpoint; a command killed by a signal and a job whose processes all vanished are marked failed with the reason
// and the log's tail; the sbatch script and the log's run id parse, exactly.
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <QProcess>
#include <QThread>
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/jobs/job_control.h"
#include "core/jobs/process.h"
#include "core/jobs/slurm.h"
#include "core/jobs/supervisor.h"
#include "tests/support/cli_run.h"
#include "tests/support/jobs_project.h"

using namespace matrix;
using matrix::testing::quiet_blas;
using matrix::testing::run_matrix;

namespace {

std::vector<int64_t> children_of(int64_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
    std::vector<int64_t> out;
    for (int64_t c; f >> c;) out.push_back(c);
    return out;
}

// Field 3 (state) and 4 (ppid) of /proc/PID/stat.
std::pair<std::string, int64_t> state_and_parent(int64_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const size_t close = text.rfind(')');
    if (close == std::string::npos) return {"", 0};
    std::istringstream rest(text.substr(close + 1));
    std::string state;
    int64_t ppid = 0;
    rest >> state >> ppid;
    return {state, ppid};
}

int64_t job_id_from(const QByteArray& out) {
    // "job 3 started as pid 1234; log ..."
    const QList<QByteArray> words = out.split(' ');
    return words.size() > 1 && words[0] == "job" ? words[1].toLongLong() : 0;
}

}  // namespace

class TestCmdJobs : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    QString project(const QString& name) { return testing::jobs_project_at(m_dir.path(), name); }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void job_outlives_its_launcher_and_lands_in_the_project() {
        const QString db = project("survive");
        const QString out = m_dir.path() + "/survive-out";
        // The launcher is a shell in its own session that submits the job and stays; then its whole process group
        // is SIGKILLed, as a window killed with its children would be.
        QStringList submit = {"train", "submit"};
        submit += testing::jobs_train_args(db, out, 8, 4);
        QString cmd = matrix::testing::matrix_binary();
        for (const auto& a : submit) cmd += " '" + a + "'";
        QProcess shell;
        shell.setProcessEnvironment(quiet_blas());
        shell.start("setsid", {"sh", "-c", cmd + " > " + m_dir.path() + "/submit.out 2>&1; sleep 600"});
        QVERIFY(shell.waitForStarted());
        auto submitted = [&] {
            QFile f(m_dir.path() + "/submit.out");
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        };
        for (int i = 0; i < 200 && !submitted().contains("started as pid"); ++i) QTest::qWait(100);
        const QByteArray said = submitted();
        QVERIFY2(said.startsWith("job 1 started as pid "), said.constData());
        ::kill(-pid_t(shell.processId()), SIGKILL);  // the shell's process group (setsid made it a leader)
        QVERIFY(shell.waitForFinished(10000));

        auto job = testing::wait_job(db.toStdString(), 1, [](const jobs::Job& j) { return j.is_final(); }, 300);
        QVERIFY(job);
        QVERIFY2(job->state == "finished", (job->state + ": " + job->reason).c_str());
        QCOMPARE(job->exit_code.value_or(-1), 0);
        QCOMPARE(job->kind, std::string("train"));
        QCOMPARE(job->backend, std::string("local"));
        QCOMPARE(job->host, jobs::host_name());
        // The exact argv: `train` + the arguments after `submit`, --db made absolute.
        std::vector<std::string> expected = {"train"};
        for (const auto& a : testing::jobs_train_args(db, out, 8, 4)) expected.push_back(a.toStdString());
        QCOMPARE(job->argv, expected);
        QVERIFY(job->run_id.has_value());
        QVERIFY(job->pid_start > 0);
        QCOMPARE(job->log_path, jobs::default_job_log(db.toStdString(), 1));

        auto p = store::Project::open(db.toStdString());
        QVERIFY(p.ok());
        auto run = store::RunRepo(p->db()).get(*job->run_id);
        QVERIFY(run.ok() && *run);
        QCOMPARE((*run)->status, std::string("finished"));
        QCOMPARE((*run)->kind, std::string("sft"));
        QCOMPARE(testing::loss_points(db.toStdString(), *job->run_id), size_t(8));
        QVERIFY(std::filesystem::exists((out + "/adapter_model.safetensors").toStdString()));
        QVERIFY(std::filesystem::exists((out + "/adapter_config.json").toStdString()));
        // The log is the command's output with the supervisor's lines around it.
        const std::string log = jobs::log_tail(job->log_path, 1000);
        QVERIFY(log.find("[job 1 on " + jobs::host_name()) == 0);
        QVERIFY(log.find("[run " + std::to_string(*job->run_id) + "]") != std::string::npos);
        QVERIFY(log.find("adapter saved to") != std::string::npos);
        QCOMPARE(jobs::log_tail(job->log_path, 1), std::string("[job 1 finished: exit code 0]"));

        auto list = run_matrix({"jobs", "list", "--db", db});
        QCOMPARE(list.code, 0);
        QVERIFY2(list.out.contains(QByteArray("1    train  finished  pid ") + QByteArray::number(qint64(job->pid))),
                 list.out.constData());
    }

    void pause_resume_cancel_and_resume_the_run() {
        const QString db = project("steer");
        const QString out = m_dir.path() + "/steer-out";
        QStringList submit = {"train", "submit"};
        submit += testing::jobs_train_args(db, out, 100000, 2);
        auto r = run_matrix(submit, quiet_blas());
        QVERIFY2(r.code == 0, r.err.constData());
        const int64_t id = job_id_from(r.out);
        QCOMPARE(id, int64_t(1));
        const std::string path = db.toStdString();
        auto job = testing::wait_job(path, id, [&](const jobs::Job& j) {
            return j.run_id && testing::loss_points(path, *j.run_id) >= 3;
        }, 300);
        QVERIFY(job && job->run_id);
        const int64_t run_id = *job->run_id;
        const auto kids = children_of(job->pid);
        QCOMPARE(kids.size(), size_t(1));
        const int64_t trainer = kids[0];

        r = run_matrix({"jobs", "pause", "--db", db, "1"});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(r.out, QByteArray("job 1 paused\n"));
        QTest::qWait(300);
        QCOMPARE(state_and_parent(job->pid).first, std::string("T"));
        QCOMPARE(state_and_parent(trainer).first, std::string("T"));
        const size_t paused_at = testing::loss_points(path, run_id);
        QTest::qWait(1500);
        QCOMPARE(testing::loss_points(path, run_id), paused_at);
        r = run_matrix({"jobs", "show", "--db", db, "1"});
        QVERIFY(r.out.contains("\n  state: paused\n"));

        r = run_matrix({"jobs", "resume", "--db", db, "1"});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(r.out, QByteArray("job 1 running\n"));
        job = testing::wait_job(path, id, [&](const jobs::Job&) { return testing::loss_points(path, run_id) > paused_at + 1; }, 120);
        QVERIFY(testing::loss_points(path, run_id) > paused_at + 1);
        QCOMPARE(job->state, std::string("running"));

        r = run_matrix({"jobs", "cancel", "--db", db, "1", "--wait", "120"});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(r.out, QByteArray("job 1 cancelled\n"));
        job = testing::wait_job(path, id, [](const jobs::Job& j) { return j.is_final(); }, 5);
        QCOMPARE(job->state, std::string("cancelled"));
        QVERIFY(job->cancel_requested);
        QCOMPARE(job->exit_code.value_or(-1), 0);  // the trainer checkpointed and exited normally
        QCOMPARE(job->reason, std::string("cancelled on request; the command ended with exit code 0"));
        QVERIFY(!jobs::process_alive(trainer));
        // The run is resumable: paused with a checkpoint at the step it stopped.
        int64_t stopped_at = 0;
        {
            auto p = store::Project::open(path);
            auto run = store::RunRepo(p->db()).get(run_id);
            QCOMPARE((*run)->status, std::string("paused"));
            auto ck = store::RunRepo(p->db()).latest_checkpoint(run_id);
            QVERIFY(ck.ok() && *ck);
            stopped_at = (*ck)->step;
            QCOMPARE(int64_t(testing::loss_points(path, run_id)), stopped_at);
        }
        // A second job resumes the run from that checkpoint (the run id comes from its argv).
        r = run_matrix({"train", "submit", "resume", "--db", db, "--resume", QString::number(run_id)}, quiet_blas());
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(job_id_from(r.out), int64_t(2));
        auto second = testing::wait_job(path, 2, [&](const jobs::Job&) {
            return testing::loss_points(path, run_id) >= size_t(stopped_at + 2);
        }, 300);
        QVERIFY(second && second->run_id);
        QCOMPARE(*second->run_id, run_id);
        const std::string log2 = jobs::log_tail(second->log_path, 1000);
        QVERIFY2(log2.find("(step " + std::to_string(stopped_at) + ",") != std::string::npos, log2.c_str());
        r = run_matrix({"jobs", "cancel", "--db", db, "2", "--wait", "120"});
        QCOMPARE(r.out, QByteArray("job 2 cancelled\n"));
    }

    void crashed_jobs_are_marked_failed_with_their_reason() {
        const QString db = project("crash");
        const std::string path = db.toStdString();
        // 1) The command dies of a signal: the supervisor records it.
        QStringList submit = {"train", "submit"};
        submit += testing::jobs_train_args(db, m_dir.path() + "/crash-out", 100000, 1000);
        auto r = run_matrix(submit, quiet_blas());
        QVERIFY2(r.code == 0, r.err.constData());
        auto job = testing::wait_job(path, 1, [&](const jobs::Job& j) { return j.run_id.has_value(); }, 300);
        QVERIFY(job && job->run_id);
        auto kids = children_of(job->pid);
        QCOMPARE(kids.size(), size_t(1));
        QCOMPARE(::kill(pid_t(kids[0]), SIGSEGV), 0);
        job = testing::wait_job(path, 1, [](const jobs::Job& j) { return j.is_final(); }, 30);
        QCOMPARE(job->state, std::string("failed"));
        QCOMPARE(job->exit_code.value_or(-1), 128 + SIGSEGV);
        const std::string head = "the command ended with killed by signal 11 (Segmentation fault)";
        // The tail is the log's last 12 lines before the supervisor's closing line.
        const std::string log = jobs::log_tail(job->log_path, 13);
        QCOMPARE(log.substr(log.rfind('\n') + 1), std::string("[job 1 failed: killed by signal 11 (Segmentation fault)]"));
        QCOMPARE(job->reason, head + "; log tail:\n" + log.substr(0, log.rfind('\n')));

        // 2) Supervisor and command SIGKILLed together: nobody records the end; the monitor's liveness check does.
        r = run_matrix(submit, quiet_blas());
        QVERIFY2(r.code == 0, r.err.constData());
        job = testing::wait_job(path, 2, [&](const jobs::Job& j) { return j.run_id.has_value(); }, 300);
        QVERIFY(job && job->run_id);
        QCOMPARE(::killpg(pid_t(job->pid), SIGKILL), 0);
        for (int i = 0; i < 100 && jobs::process_alive(job->pid); ++i) QTest::qWait(50);
        QCOMPARE(testing::wait_job(path, 2, [](const jobs::Job&) { return true; }, 1)->state, std::string("running"));
        r = run_matrix({"jobs", "show", "--db", db, "2"});
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("\n  state: failed\n"), r.out.constData());
        const std::string why = "its process " + std::to_string(job->pid) + " on " + jobs::host_name() +
                                " ended without recording an end (killed, or the machine restarted); log tail:\n";
        QVERIFY2(r.out.contains(QByteArray::fromStdString("\n  reason: " + why)), r.out.constData());

        // 3) A pid reused by another process is not the job's: same pid, other start time -> not alive.
        QVERIFY(jobs::process_alive(getpid(), jobs::process_start_ticks(getpid())));
        QVERIFY(!jobs::process_alive(getpid(), jobs::process_start_ticks(getpid()) + 1));
    }

    // A cancel that comes at once, while the supervisor is still loading (a Cancel right after Start): the signal
    // waits until the supervisor can hear it (the launcher starts it with SIGTERM blocked), and the job records
    // itself cancelled before its command started, with no monitor's help. Before, the early SIGTERM killed the
    // supervisor silently and the row stayed "running" until a liveness check.
    void cancel_at_once_is_recorded_cancelled() {
        const QString db = project("at-once");
        const std::string path = db.toStdString();
        auto p = store::Project::open(path);
        QVERIFY(p.ok());
        for (int i = 0; i < 3; ++i) {
            jobs::JobRequest req;
            req.kind = "train";
            for (const QString& a : testing::jobs_train_args(db, m_dir.path() + "/at-once-" + QString::number(i), 100000, 1000))
                req.argv.push_back(a.toStdString());
            req.argv.insert(req.argv.begin(), "train");
            req.db_path = path;
            req.binary = testing::matrix_binary().toStdString();
            auto job = jobs::submit_job(p->db(), req);
            QVERIFY2(job.ok(), job.ok() ? "" : job.error().to_string().c_str());
            QVERIFY(jobs::cancel_job(p->db(), job->id).ok());
            // Only reads from here on: the supervisor itself must record the end.
            auto end = testing::wait_job(path, job->id, [](const jobs::Job& j) { return j.is_final(); }, 60);
            QVERIFY(end);
            QVERIFY2(end->state == "cancelled", (end->state + ": " + end->reason).c_str());
            QCOMPARE(end->reason, std::string("cancelled before its command started"));
            QVERIFY(!end->run_id);
            QCOMPARE(jobs::log_tail(end->log_path, 1),
                     "[job " + std::to_string(job->id) + ": cancelled before its command started]");
        }
        auto runs = p->db().query_int64("SELECT count(*) FROM runs");
        QVERIFY(runs.ok());
        QCOMPARE(*runs, int64_t(0));
    }

    // A job's process stopped inside a write transaction would keep the project's write lock while paused: every
    // other writer (the GUI, other jobs, the pause itself) would fail with "database is locked". pause_job stops the
    // job at a moment when it holds no write lock. Here the "job" is a Python process that holds a write transaction
    // 2/3 of the time (100 ms in, 50 ms out), paused each time while inside it; five pauses in a row each succeed, the lock is free while paused (a
    // write of ours goes through at once), no write of the job lands while paused, and writes resume after resume.
    // Before, the pause stopped the process wherever it was and then failed after its 5 s wait for the lock.
    void pause_stops_the_job_outside_a_write_transaction() {
        const QString db = project("locked");
        const std::string path = db.toStdString();
        auto p = store::Project::open(path);
        QVERIFY(p.ok());
        QVERIFY(p->db().exec("CREATE TABLE ticks(n INTEGER)").ok());
        jobs::Job row;
        row.kind = "train";
        row.argv = {"train", "sft"};
        row.log_path = (m_dir.path() + "/locked.log").toStdString();
        const int64_t id = *jobs::JobRepo(p->db()).create(row);
        const QString ready = m_dir.path() + "/locked.ready";
        const QString script =
            "import sqlite3, sys, time\n"
            "c = sqlite3.connect(sys.argv[1], timeout=60, isolation_level=None)\n"
            "open(sys.argv[2], 'w').write('ready')\n"
            "while True:\n"
            "    c.execute('BEGIN IMMEDIATE')\n"
            "    c.execute('INSERT INTO ticks VALUES (1)')\n"
            "    time.sleep(0.1)\n"
            "    c.execute('COMMIT')\n"
            "    time.sleep(0.05)\n";
        QProcess holder;  // setsid: its own process group, as a job's supervisor has
        holder.start("setsid", {"python3", "-c", script, db, ready});
        QVERIFY(holder.waitForStarted());
        const int64_t pid = holder.processId();
        QVERIFY(jobs::JobRepo(p->db()).set_started(id, jobs::host_name(), pid, jobs::process_start_ticks(pid)).ok());
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(ready), 10000);
        auto ticks = [&] { return *p->db().query_int64("SELECT count(*) FROM ticks"); };
        // Pause in the middle of the job's write transaction: right after one of its commits shows, it sleeps 50 ms
        // outside and then holds the lock for 100 ms; 100 ms after the commit it is inside.
        auto into_a_transaction = [&] {
            const int64_t seen = ticks();
            QElapsedTimer w;
            w.start();
            while (ticks() == seen && w.elapsed() < 5000) QThread::msleep(1);
            QThread::msleep(100);
        };
        for (int i = 0; i < 5; ++i) {
            into_a_transaction();
            QElapsedTimer t;
            t.start();
            const Status paused = jobs::pause_job(p->db(), id);
            QVERIFY2(paused.ok(), paused.ok() ? "" : paused.error().to_string().c_str());
            QVERIFY2(t.elapsed() < 4000, qPrintable(QString::number(t.elapsed())));
            QCOMPARE((*jobs::JobRepo(p->db()).get(id))->state, std::string("paused"));
            QTRY_VERIFY_WITH_TIMEOUT(jobs::process_stopped(pid), 2000);
            // The lock is free: a write of ours (with a 100 ms wait at most) goes through.
            p->db().set_busy_timeout_ms(100);
            QVERIFY(p->db().exec("BEGIN IMMEDIATE; DELETE FROM ticks; COMMIT").ok());
            p->db().set_busy_timeout_ms(5000);
            QTest::qWait(400);
            QCOMPARE(ticks(), int64_t(0));  // stopped: nothing of the job's landed
            QVERIFY(jobs::resume_job(p->db(), id).ok());
            QVERIFY(!jobs::process_stopped(pid));
        }
        QTRY_VERIFY_WITH_TIMEOUT(ticks() > 0, 5000);  // running again
        ::kill(pid_t(pid), SIGKILL);
        QVERIFY(holder.waitForFinished(5000));
    }

    void bad_requests_say_why() {
        const QString db = project("bad");
        auto r = run_matrix({"train", "submit", "sft", "--dataset", "demo"});
        QCOMPARE(r.code, 1);
        QCOMPARE(r.err, QByteArray("matrix: train submit: the command needs --db FILE (the job is recorded there)\n"));
        r = run_matrix({"train", "submit", "--nodes", "2", "sft", "--db", db});
        QCOMPARE(r.code, 1);
        QCOMPARE(r.err, QByteArray("matrix: train submit: --nodes is a Slurm option: add --slurm\n"));
        r = run_matrix({"jobs", "cancel", "--db", db, "7"});
        QCOMPARE(r.code, 1);
        QCOMPARE(r.err, QByteArray("matrix: no job 7\n"));
        r = run_matrix({"jobs", "show", "--db", db, "x"});
        QCOMPARE(r.code, 1);
        QCOMPARE(r.err, QByteArray("matrix: jobs show: the job id must be a number, not 'x'\n"));
        // A command that fails at once (unknown dataset) is a failed job with the command's own error in its reason.
        r = run_matrix({"train", "submit", "--wait", "sft", "--db", db, "--dataset", "nope", "--model",
                        QString::fromStdString(testing::tiny_model()), "--out", m_dir.path() + "/bad-out"}, quiet_blas());
        QCOMPARE(r.code, 1);
        QVERIFY2(r.out.contains("job 1 failed: the command ended with exit code 1; log tail:\n"), r.out.constData());
        QVERIFY2(r.out.contains("nope"), r.out.constData());
    }

    void eval_runs_as_a_job_too() {
        // `matrix eval submit`: the same launcher for evaluation (gold replay of 6 GTA items, step mode).
        const QString db = m_dir.path() + "/eval.matrix";
        auto r = run_matrix({"bench", "load", "--db", db, "--benchmark", "gta",
                             QString(MATRIX_SHARED_DIR) + "/data/gta/dataset.json"});
        QVERIFY2(r.code == 0, r.err.constData());
        r = run_matrix({"eval", "submit", "--wait", "run", "--db", db, "--benchmark", "gta", "--mode", "step",
                        "--controller", "gold", "--limit", "6"}, quiet_blas());
        QVERIFY2(r.code == 0, (r.out + r.err).constData());
        QVERIFY2(r.out.endsWith("job 1 finished\n"), r.out.constData());
        auto job = testing::wait_job(db.toStdString(), 1, [](const jobs::Job& j) { return j.is_final(); }, 5);
        QCOMPARE(job->kind, std::string("eval"));
        QVERIFY(job->run_id.has_value());
        auto p = store::Project::open(db.toStdString());
        auto run = store::RunRepo(p->db()).get(*job->run_id);
        QVERIFY(run.ok() && *run);
        QCOMPARE((*run)->kind, std::string("eval"));
        QCOMPARE((*run)->status, std::string("finished"));
        QCOMPARE(store::RunRepo(p->db()).results(*job->run_id)->size(), size_t(6));
    }

    void sbatch_script_and_run_ids() {
        jobs::Job j;
        j.id = 5;
        j.kind = "train";
        j.argv = {"train", "sft", "--db", "/p/x.matrix", "--config", "/p/c.json", "--set", "lr=2e-4", "--name", "a b"};
        j.cwd = "/p";
        j.log_path = "/p/x.runs/jobs/job-5.log";
        j.slurm.nodes = 2;
        j.slurm.gpus_per_node = 4;
        j.slurm.cpus_per_task = 8;
        j.slurm.time = "02:00:00";
        j.slurm.partition = "gpu";
        j.slurm.account = "lab";
        QCOMPARE(jobs::sbatch_script(j, "/p/x.matrix", "/usr/bin/matrix", 30),
                 std::string("#!/bin/sh\n"
                             "#SBATCH --job-name=matrix-train-5\n"
                             "#SBATCH --output=/p/x.runs/jobs/job-5.log\n"
                             "#SBATCH --open-mode=append\n"
                             "#SBATCH --chdir=/p\n"
                             "#SBATCH --nodes=2\n"
                             "#SBATCH --ntasks-per-node=4\n"
                             "#SBATCH --gpus-per-node=4\n"
                             "#SBATCH --cpus-per-task=8\n"
                             "#SBATCH --time=02:00:00\n"
                             "#SBATCH --partition=gpu\n"
                             "#SBATCH --account=lab\n"
                             "# MATRIX Workbench job 5 (train), written for project /p/x.matrix\n"
                             "# command: matrix train sft --db /p/x.matrix --config /p/c.json --set lr=2e-4 --name 'a b'\n"
                             "# torchrun environment: the first node of the allocation is the rendezvous\n"
                             "export MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\n"
                             "export MASTER_PORT=$((29500 + SLURM_JOB_ID % 1000))\n"
                             "exec /usr/bin/matrix jobs supervise --db /p/x.matrix --job 5 --grace 30 --srun\n"));
        j.slurm = {};
        const std::string one = jobs::sbatch_script(j, "/p/x.matrix", "/usr/bin/matrix", 20);
        QVERIFY(one.find("--srun") == std::string::npos);
        QVERIFY(one.find("MASTER_ADDR") == std::string::npos);
        QVERIFY(one.find("#SBATCH --ntasks-per-node=1\n") != std::string::npos);

        QCOMPARE(jobs::run_id_in_log("loading x\n[run 12]\nstep 1/3"), int64_t(12));
        QCOMPARE(jobs::run_id_in_log("[run 7: gta step, 12 items]\n"), int64_t(7));
        QCOMPARE(jobs::run_id_in_log("[resuming run 9]\n"), int64_t(9));
        QCOMPARE(jobs::run_id_in_log("x\nrun 4 paused: resume with ..."), int64_t(4));
        QCOMPARE(jobs::run_id_in_log("rerun 4 later\n[running]\n"), int64_t(0));

        QCOMPARE(jobs::slurm_to_state("PENDING"), std::string("queued"));
        QCOMPARE(jobs::slurm_to_state("RUNNING"), std::string("running"));
        QCOMPARE(jobs::slurm_to_state("SUSPENDED"), std::string("paused"));
        QCOMPARE(jobs::slurm_to_state("COMPLETED"), std::string("finished"));
        QCOMPARE(jobs::slurm_to_state("CANCELLED"), std::string("cancelled"));
        QCOMPARE(jobs::slurm_to_state("TIMEOUT"), std::string("failed"));
        QCOMPARE(jobs::slurm_to_state("OUT_OF_MEMORY"), std::string("failed"));
        QCOMPARE(jobs::slurm_to_state("WEIRD"), std::string(""));
    }
};

QTEST_GUILESS_MAIN(TestCmdJobs)
#include "test_cmd_jobs.moc"
