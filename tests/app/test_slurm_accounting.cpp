// sacct against a real Slurm with accounting: the test cluster (tests/slurm/slurm_cluster.sh, fixture "slurm") with
// slurmdbd and MariaDB (slurm_accounting.sh) and MinJobAge=2. Three `matrix train submit --slurm` jobs: one that
// finishes, one that fails (no such dataset: exit 1), one cancelled while it trains. Once slurmctld has purged them
// (squeue no longer knows them), query_slurm_state answers from sacct with Slurm's word and exit code, `matrix jobs
// show` prints it, and a job whose end our store never got takes its state from sacct. Where the cluster runs
// without accounting (slurm_accounting.sh could not start MariaDB or slurmdbd), every test is skipped with the reason
// the fixture recorded; test_slurm_jobs runs either way.
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
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

// squeue -j ID: whether the controller still holds the job (an Error when squeue could not be asked).
Result<bool> squeue_knows(const std::string& id) {
    MATRIX_TRY(auto c, jobs::run_capture({"squeue", "-h", "-t", "all", "-j", id, "-o", "%T"}, 30));
    if (c.exit_code == 0) return !c.out.empty();
    if (c.err.find("Invalid job id") != std::string::npos) return false;
    return make_error("squeue: " + c.err);
}

}  // namespace

class TestSlurmAccounting : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    QStringList submit(const QString& db, const QStringList& command) {
        return QStringList{"train", "submit", "--slurm", "--cpus-per-task", "1", "--time", "00:10:00"} + command;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        const QString conf = QString::fromLocal8Bit(qgetenv("SLURM_CONF"));
        if (conf.isEmpty() || !QFile::exists(conf))
            QFAIL(qPrintable("no Slurm test cluster: SLURM_CONF='" + conf +
                             "' does not exist (the fixture slurm_cluster_start failed or was not run; see its output)"));
        const std::string dir = QFileInfo(conf).absolutePath().toStdString();
        if (std::filesystem::exists(dir + "/accounting.off"))
            QSKIP(qPrintable("the test cluster runs without accounting: " +
                             QString::fromStdString(read_file(dir + "/accounting.off"))));
        QVERIFY2(std::filesystem::exists(dir + "/accounting.on"),
                 "slurm_cluster.sh wrote neither accounting.on nor accounting.off");
        auto c = jobs::run_capture({"sacctmgr", "-n", "-P", "show", "cluster", "format=cluster"}, 30);
        QVERIFY2(c.ok(), c.ok() ? "" : c.error().to_string().c_str());
        QCOMPARE(QString::fromStdString(c->out).trimmed(), QString("matrixtest"));
    }

    void purged_jobs_answer_from_sacct() {
        const QString db = m_dir.path() + "/acct.matrix";
        const std::string path = db.toStdString();
        QVERIFY(testing::make_jobs_project(path).ok());
        const QString model = QString::fromStdString(testing::tiny_model());

        // 1: finishes (2 steps); 2: fails at once (no such dataset, exit 1); 3: trains until it is cancelled.
        auto r = run_matrix(submit(db, testing::jobs_train_args(db, m_dir.path() + "/ok-out", 2, 1)), quiet_blas());
        QVERIFY2(r.code == 0, r.err.constData());
        r = run_matrix(submit(db, {"sft", "--db", db, "--dataset", "nosuch", "--model", model, "--out",
                                   m_dir.path() + "/bad-out"}),
                       quiet_blas());
        QVERIFY2(r.code == 0, r.err.constData());
        r = run_matrix(submit(db, testing::jobs_train_args(db, m_dir.path() + "/cancel-out", 100000, 2)), quiet_blas());
        QVERIFY2(r.code == 0, r.err.constData());
        auto job3 = testing::wait_job(path, 3, [&](const jobs::Job& j) {
            return j.run_id && testing::loss_points(path, *j.run_id) >= 1;
        }, 300);
        QVERIFY2(job3 && job3->run_id, job3 ? (job3->state + " " + job3->reason).c_str() : "no job row");
        r = run_matrix({"jobs", "cancel", "--db", db, "3", "--wait", "120"});
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(r.out, QByteArray("job 3 cancelled\n"));
        std::vector<jobs::Job> ended;
        for (int64_t id = 1; id <= 3; ++id) {
            auto j = testing::wait_job(path, id, [](const jobs::Job& j) { return j.is_final(); }, 300);
            QVERIFY2(j && j->is_final(), ("job " + std::to_string(id) + " did not end").c_str());
            QVERIFY(!j->slurm_job_id.empty());
            ended.push_back(*j);
        }
        QCOMPARE(ended[0].state, std::string("finished"));
        QCOMPARE(ended[1].state, std::string("failed"));
        QCOMPARE(ended[2].state, std::string("cancelled"));

        // slurmctld purges ended jobs MinJobAge (2 s) after their end, at its next purge pass (every 60 s).
        QElapsedTimer waited;
        waited.start();
        for (const auto& j : ended) {
            for (;;) {
                auto known = squeue_knows(j.slurm_job_id);
                QVERIFY2(known.ok(), known.ok() ? "" : known.error().to_string().c_str());
                if (!*known) break;
                QVERIFY2(waited.elapsed() < 150000, ("squeue still holds Slurm job " + j.slurm_job_id).c_str());
                QTest::qWait(500);
            }
        }
        qInfo("squeue forgot the three jobs after %.1f s more", waited.elapsed() / 1000.0);

        // Slurm's word and exit code, from sacct.
        struct Want { const char* slurm; const char* state; const char* exit_code; };
        const Want want[] = {{"COMPLETED", "finished", "0:0"}, {"FAILED", "failed", "1:0"}, {"CANCELLED", "cancelled", "0:0"}};
        for (size_t k = 0; k < 3; ++k) {
            auto s = jobs::query_slurm_state(ended[k].slurm_job_id);
            QVERIFY2(s.ok(), s.ok() ? "" : s.error().to_string().c_str());
            QCOMPARE(s->source, std::string("sacct"));
            QCOMPARE(s->slurm, std::string(want[k].slurm));
            QCOMPARE(s->state, std::string(want[k].state));
            QCOMPARE(s->exit_code, std::string(want[k].exit_code));
            r = run_matrix({"jobs", "show", "--db", db, QString::number(k + 1)});
            QVERIFY2(r.code == 0, r.err.constData());
            const QByteArray line = QByteArray("\n  slurm: ") + want[k].slurm + ", exit code " + want[k].exit_code +
                                    " (sacct)\n";
            QVERIFY2(r.out.endsWith(line), r.out.constData());
            QVERIFY2(r.out.contains(QByteArray("\n  state: ") + want[k].state + "\n"), r.out.constData());
        }

        // A job whose end never reached the store (its supervisor killed before it could record it: here its row is
        // set back to running) takes its state from sacct once squeue has forgotten it.
        {
            auto p = store::Project::open(path);
            QVERIFY(p->db().exec("UPDATE jobs SET state='running', finished_at=NULL, exit_code=NULL, reason=NULL "
                                 "WHERE id=2").ok());
        }
        r = run_matrix({"jobs", "show", "--db", db, "2"});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY2(r.out.contains("\n  state: failed\n"), r.out.constData());
        QVERIFY2(r.out.contains(QByteArray("\n  reason: Slurm job ") + ended[1].slurm_job_id.c_str() +
                                " FAILED (exit 1:0); log tail:\n"),
                 r.out.constData());
    }
};

QTEST_GUILESS_MAIN(TestSlurmAccounting)
#include "test_slurm_accounting.moc"
