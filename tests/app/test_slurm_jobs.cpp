// `matrix train submit --slurm` against a real Slurm: the one-node cluster that tests/slurm/slurm_cluster.sh starts
// on this machine as the CTest fixture "slurm" (SLURM_CONF points at it). A submitted training job on the tiny model
// finishes with its run and adapter in the project and Slurm saying COMPLETED; a running one is suspended and resumed
// (scontrol) and cancelled (scancel): the job is cancelled, the run paused at a checkpoint (resumable); a job the
// cluster cannot hold is refused by sbatch and recorded failed with sbatch's reason.
#include <QtTest>
#include <filesystem>
#include <fstream>

#include "core/jobs/job_control.h"
#include "core/jobs/process.h"
#include "core/jobs/slurm.h"
#include "tests/support/cli_run.h"
#include "tests/support/jobs_project.h"

using namespace matrix;
using matrix::testing::quiet_blas;
using matrix::testing::run_matrix;

namespace {

std::string read_file(const std::string& path) {
    std::ifstream f(path);
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

}  // namespace

class TestSlurmJobs : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    QString project(const QString& name) { return testing::jobs_project_at(m_dir.path(), name); }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        const QByteArray conf = qgetenv("SLURM_CONF");
        // The fixture (slurm_cluster_start) says why when it cannot start the cluster; this names what is missing.
        if (conf.isEmpty() || !QFile::exists(QString::fromLocal8Bit(conf)))
            QFAIL(qPrintable("no Slurm test cluster: SLURM_CONF='" + QString::fromLocal8Bit(conf) +
                             "' does not exist (the fixture slurm_cluster_start failed or was not run; see its output)"));
        auto sinfo = jobs::run_capture({"sinfo", "-h", "-o", "%T"}, 30);
        QVERIFY2(sinfo.ok(), sinfo.ok() ? "" : sinfo.error().to_string().c_str());
        QVERIFY2(sinfo->exit_code == 0, ("sinfo: " + sinfo->err).c_str());
    }

    void submitted_training_finishes_in_the_project() {
        const QString db = project("done");
        const QString out = m_dir.path() + "/done-out";
        QStringList args = {"train", "submit", "--slurm", "--cpus-per-task", "1", "--time", "00:10:00", "--partition",
                            "debug", "--wait"};
        args += testing::jobs_train_args(db, out, 6, 3);
        auto r = run_matrix(args, quiet_blas(), 600000);
        QVERIFY2(r.code == 0, (r.out + r.err).constData());
        const QList<QByteArray> lines = r.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 2);
        QVERIFY2(lines[0].startsWith("job 1 submitted to Slurm as "), lines[0].constData());
        QCOMPARE(lines[1], QByteArray("job 1 finished"));

        auto p = store::Project::open(db.toStdString());
        QVERIFY(p.ok());
        auto job = jobs::JobRepo(p->db()).get(1);
        QVERIFY(job.ok() && *job);
        const jobs::Job& j = **job;
        QCOMPARE(j.backend, std::string("slurm"));
        QCOMPARE(j.state, std::string("finished"));
        QCOMPARE(j.exit_code.value_or(-1), 0);
        QCOMPARE(lines[0].mid(28, lines[0].indexOf(';') - 28).toStdString(), j.slurm_job_id);
        QCOMPARE(j.host, jobs::host_name());  // the supervisor ran on the cluster's node, this machine
        QCOMPARE(j.slurm.cpus_per_task, 1);
        QCOMPARE(j.slurm.time, std::string("00:10:00"));
        QCOMPARE(j.slurm.partition, std::string("debug"));
        auto s = jobs::query_slurm_state(j.slurm_job_id);
        QVERIFY(s.ok());
        QCOMPARE(s->slurm, std::string("COMPLETED"));
        QCOMPARE(s->state, std::string("finished"));

        QVERIFY(j.run_id.has_value());
        auto run = store::RunRepo(p->db()).get(*j.run_id);
        QVERIFY(run.ok() && *run);
        QCOMPARE((*run)->status, std::string("finished"));
        QCOMPARE(testing::loss_points(db.toStdString(), *j.run_id), size_t(6));
        QVERIFY(std::filesystem::exists((out + "/adapter_model.safetensors").toStdString()));

        const std::string script = read_file(j.log_path + ".sbatch");
        for (const char* line : {"#SBATCH --job-name=matrix-train-1\n", "#SBATCH --cpus-per-task=1\n",
                                 "#SBATCH --time=00:10:00\n", "#SBATCH --partition=debug\n", "#SBATCH --nodes=1\n"})
            QVERIFY2(script.find(line) != std::string::npos, script.c_str());
        QVERIFY(script.find("#SBATCH --output=" + j.log_path + "\n") != std::string::npos);
        QVERIFY(script.find("# command: " + j.command_line() + "\n") != std::string::npos);
        const std::string log = read_file(j.log_path);
        QVERIFY2(log.find("adapter saved to") != std::string::npos, log.c_str());
        QCOMPARE(jobs::log_tail(j.log_path, 1), std::string("[job 1 finished: exit code 0]"));
    }

    void suspended_resumed_and_cancelled() {
        const QString db = project("cancel");
        const std::string path = db.toStdString();
        QStringList args = {"train", "submit", "--slurm", "--time", "00:30:00"};
        args += testing::jobs_train_args(db, m_dir.path() + "/cancel-out", 100000, 2);
        auto r = run_matrix(args, quiet_blas());
        QVERIFY2(r.code == 0, r.err.constData());
        auto job = testing::wait_job(path, 1, [&](const jobs::Job& j) {
            return j.run_id && testing::loss_points(path, *j.run_id) >= 3;
        }, 300);
        QVERIFY2(job && job->run_id, job ? (job->state + " " + job->reason).c_str() : "no job row");
        const int64_t run_id = *job->run_id;
        QCOMPARE(job->state, std::string("running"));

        r = run_matrix({"jobs", "pause", "--db", db, "1"});
        QVERIFY2(r.code == 0, r.err.constData());
        auto s = jobs::query_slurm_state(job->slurm_job_id);
        QVERIFY(s.ok());
        QCOMPARE(s->slurm, std::string("SUSPENDED"));
        QTest::qWait(500);
        const size_t paused_at = testing::loss_points(path, run_id);
        QTest::qWait(1500);
        QCOMPARE(testing::loss_points(path, run_id), paused_at);
        r = run_matrix({"jobs", "show", "--db", db, "1"});
        QVERIFY2(r.out.contains("\n  state: paused\n"), r.out.constData());
        r = run_matrix({"jobs", "resume", "--db", db, "1"});
        QVERIFY2(r.code == 0, r.err.constData());
        testing::wait_job(path, 1, [&](const jobs::Job&) { return testing::loss_points(path, run_id) > paused_at + 1; }, 120);
        QVERIFY(testing::loss_points(path, run_id) > paused_at + 1);

        r = run_matrix({"jobs", "cancel", "--db", db, "1", "--wait", "120"});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(r.out, QByteArray("job 1 cancelled\n"));
        job = testing::wait_job(path, 1, [](const jobs::Job& j) { return j.is_final(); }, 5);
        QCOMPARE(job->state, std::string("cancelled"));
        QVERIFY(job->cancel_requested);
        QVERIFY2(job->reason.rfind("cancelled on request; the command ended with exit code 0", 0) == 0, job->reason.c_str());
        // Slurm ends the allocation after our supervisor has recorded the end (COMPLETING until then).
        for (int i = 0; i < 300; ++i) {
            s = jobs::query_slurm_state(job->slurm_job_id);
            QVERIFY2(s.ok(), s.ok() ? "" : s.error().to_string().c_str());
            if (s->slurm != "COMPLETING" && s->slurm != "RUNNING") break;
            QTest::qWait(100);
        }
        QCOMPARE(s->slurm, std::string("CANCELLED"));
        QCOMPARE(s->state, std::string("cancelled"));
        // The run stopped at a checkpoint: paused, resumable with `matrix train resume`.
        auto p = store::Project::open(path);
        auto run = store::RunRepo(p->db()).get(run_id);
        QCOMPARE((*run)->status, std::string("paused"));
        auto ck = store::RunRepo(p->db()).latest_checkpoint(run_id);
        QVERIFY(ck.ok() && *ck);
        QCOMPARE(int64_t(testing::loss_points(path, run_id)), (*ck)->step);
        QVERIFY(std::filesystem::exists((*ck)->path));
    }

    void a_job_for_an_unknown_partition_is_refused_with_sbatchs_reason() {
        const QString db = project("refused");
        QStringList args = {"train", "submit", "--slurm", "--partition", "nosuch"};
        args += testing::jobs_train_args(db, m_dir.path() + "/refused-out", 2, 1);
        auto r = run_matrix(args, quiet_blas());
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.startsWith("matrix: job 1: "), r.err.constData());
        QVERIFY2(r.err.contains(": sbatch refused the job: sbatch: error: invalid partition specified: nosuch\n"),
                 r.err.constData());
        auto p = store::Project::open(db.toStdString());
        auto job = jobs::JobRepo(p->db()).get(1);
        QVERIFY(job.ok() && *job);
        QCOMPARE((*job)->state, std::string("failed"));
        QVERIFY((*job)->slurm_job_id.empty());
        QCOMPARE((*job)->reason,
                 std::string("sbatch refused the job: sbatch: error: invalid partition specified: nosuch"));
    }
};

QTEST_GUILESS_MAIN(TestSlurmJobs)
#include "test_slurm_jobs.moc"
