// A rank's heartbeat does not depend on its step length (core/training/rank_heartbeat.h): the built `matrix train`
// on the tiny fixture, with a 0.2 s heartbeat (MATRIX_RANK_HEARTBEAT_S; lost after 10 silent intervals = 2 s) and
// its step 2 held for 3 s by the test hook MATRIX_TEST_HOLD_STEP (a step longer than the lost threshold, as a big CPU
// batch or DPO's reference precompute would be), shows its rank as running all through the step; after kill -9 the
// rank stays running until the threshold has passed since its last beat, then shows lost. The job's row names its run
// from the moment the run exists. A job paused with SIGSTOP
// (`matrix jobs pause`) shows its rank paused however long it stays paused, and running again once resumed. The
// thread itself: beats every interval on its own connection, never touches a final state, stops on stop().
#include <signal.h>

#include <QProcess>
#include <QtTest>
#include <filesystem>
#include <fstream>

#include "core/jobs/job_control.h"
#include "core/store/run_rank_repo.h"
#include "core/training/rank_heartbeat.h"
#include "tests/support/cli_run.h"
#include "tests/support/jobs_project.h"

using namespace matrix;
namespace fs = std::filesystem;

namespace {

constexpr double kInterval = 0.2;
constexpr double kThreshold = store::kLostAfterHeartbeats * kInterval;  // 2 s

QProcessEnvironment train_env(const QString& hold) {
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("OPENBLAS_NUM_THREADS", "1");
    env.insert("OMP_NUM_THREADS", "1");
    env.insert("MATRIX_RANK_HEARTBEAT_S", QString::number(kInterval));
    if (!hold.isEmpty()) env.insert("MATRIX_TEST_HOLD_STEP", "2:" + hold);
    return env;
}

std::vector<store::RunRankStatus> rank_status(const std::string& db, int64_t run, double now) {
    auto p = store::Project::open(db);
    if (!p.ok()) return {};
    auto s = store::RunRankRepo(p->db()).status(run, now);
    return s.ok() ? std::move(s).value() : std::vector<store::RunRankStatus>{};
}

bool wait_for_file(const std::string& path, double timeout_s) {
    QElapsedTimer t;
    t.start();
    while (!fs::exists(path)) {
        if (t.elapsed() > timeout_s * 1000) return false;
        QTest::qWait(20);
    }
    return true;
}

}  // namespace

class TestRankHeartbeat : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    std::string path(const QString& name) { return m_dir.filePath(name).toStdString(); }
    std::string project(const QString& name) { return testing::jobs_project_at(m_dir.path(), name).toStdString(); }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFile::exists(testing::matrix_binary()), "the matrix binary is not built");
    }

    // The thread on its own: a beat every interval while the row runs, nothing after stop(), and it ends by itself
    // (without touching it) once the row has a final state.
    void thread_beats_and_stops() {
        const std::string db = project("thread");
        int64_t run = 0;
        {
            auto p = store::Project::open(db);
            QVERIFY(p.ok());
            store::Run r;
            r.kind = "sft";
            run = *store::RunRepo(p->db()).create(r);
            store::RunRank rk;
            rk.run_id = run;
            rk.last_heartbeat = 100.0;
            rk.heartbeat_every_s = 0.05;
            QVERIFY(store::RunRankRepo(p->db()).put(rk).ok());
        }
        auto last_beat = [&] {
            auto p = store::Project::open(db);
            return (*store::RunRankRepo(p->db()).list(run))[0];
        };
        train::RankHeartbeat hb(db, run, 0, 0.05);
        QTest::qWait(600);
        const int64_t n = hb.beats();
        QVERIFY2(n >= 4 && n <= 12, std::to_string(n).c_str());  // 0.6 s / 0.05 s = 12 at most (fewer on a busy machine)
        QVERIFY(last_beat().last_heartbeat > store::unix_now() - 0.5);
        hb.stop();
        const double at_stop = last_beat().last_heartbeat;
        const int64_t beats_at_stop = hb.beats();
        QTest::qWait(200);
        QCOMPARE(hb.beats(), beats_at_stop);
        QCOMPARE(last_beat().last_heartbeat, at_stop);

        // A final state is never overwritten: the thread finds no running row and ends by itself.
        {
            auto p = store::Project::open(db);
            QVERIFY(store::RunRankRepo(p->db()).finish(run, 0, "finished", 9).ok());
        }
        const double finished_at = last_beat().last_heartbeat;
        train::RankHeartbeat hb2(db, run, 0, 0.05);
        QTest::qWait(300);
        QCOMPARE(last_beat().state, std::string("finished"));
        QCOMPARE(last_beat().last_heartbeat, finished_at);
        QCOMPARE(hb2.beats(), int64_t(0));

        // A malformed interval is named.
        qputenv("MATRIX_RANK_HEARTBEAT_S", "0.2s");
        QCOMPARE(train::rank_heartbeat_interval().error,
                 std::string("MATRIX_RANK_HEARTBEAT_S must be a positive number of seconds, not '0.2s'"));
        qputenv("MATRIX_RANK_HEARTBEAT_S", "0.25");
        QCOMPARE(train::rank_heartbeat_interval().seconds, 0.25);
        qunsetenv("MATRIX_RANK_HEARTBEAT_S");
        QCOMPARE(train::rank_heartbeat_interval().seconds, store::kRankHeartbeatSeconds);
    }

    // A step longer than the threshold: running all through it; kill -9: lost once the threshold has passed.
    void long_step_is_running_then_kill_makes_it_lost() {
        const std::string db = project("long");
        const std::string hold = path("long.hold");
        std::ofstream(hold) << "hold\n";
        QProcess p;
        p.setProcessEnvironment(train_env(QString::fromStdString(hold)));
        QStringList args{"train"};
        args += testing::jobs_train_args(QString::fromStdString(db), QString::fromStdString(path("long-out")), 3, 100);
        args << "--set" << "log_every=1";
        p.start(testing::matrix_binary(), args);
        QVERIFY(p.waitForStarted());
        QVERIFY2(wait_for_file(hold + ".held", 120), p.readAllStandardError().constData());

        // Step 2 is held: 3 s (1.5 thresholds, 15 intervals) of polling, the rank always running at step 1.
        QElapsedTimer t;
        t.start();
        double max_age = 0;
        int polls = 0;
        while (t.elapsed() < 3000) {
            const auto st = rank_status(db, 1, store::unix_now());
            QCOMPARE(int(st.size()), 1);
            QCOMPARE(st[0].shown_state, std::string("running"));
            QCOMPARE(st[0].row.step, int64_t(1));
            QCOMPARE(st[0].row.heartbeat_every_s, kInterval);
            QCOMPARE(st[0].row.pid, int64_t(p.processId()));
            max_age = std::max(max_age, st[0].seconds_since_heartbeat);
            ++polls;
            QTest::qWait(50);
        }
        QVERIFY2(max_age < kThreshold, std::to_string(max_age).c_str());
        QVERIFY(polls >= 20);
        qInfo("held step 2 for 3.0 s: %d polls, all running, oldest heartbeat seen %.3f s (lost after %.1f s)", polls,
              max_age, kThreshold);

        // kill -9 during the held step: no more beats.
        ::kill(pid_t(p.processId()), SIGKILL);
        QVERIFY(p.waitForFinished(10000));
        const auto at_kill = rank_status(db, 1, store::unix_now());
        QCOMPARE(at_kill[0].shown_state, std::string("running"));  // within the threshold of its last beat
        const double last = at_kill[0].row.last_heartbeat;
        // The rule at exact times around the threshold after that last beat.
        QCOMPARE(rank_status(db, 1, last + kThreshold - 0.01)[0].shown_state, std::string("running"));
        QCOMPARE(rank_status(db, 1, last + kThreshold + 0.01)[0].shown_state, std::string("lost"));
        // And in real time: lost once the threshold has passed, with the row still saying running (nobody wrote).
        QTest::qWait(std::max(0, int((last + kThreshold + 0.3 - store::unix_now()) * 1000)));
        const auto after = rank_status(db, 1, store::unix_now());
        QCOMPARE(after[0].shown_state, std::string("lost"));
        QCOMPARE(after[0].row.state, std::string("running"));
        QCOMPARE(after[0].row.last_heartbeat, last);
        fs::remove(hold);
    }

    // A job paused with SIGSTOP beats no more, and shows paused (not lost) for as long as it stays paused; resumed,
    // it beats again; released from its held step it finishes with its final state.
    void paused_job_is_not_lost() {
        const std::string db = project("paused");
        const std::string hold = path("paused.hold");
        std::ofstream(hold) << "hold\n";
        QStringList args{"train", "submit"};
        args += testing::jobs_train_args(QString::fromStdString(db), QString::fromStdString(path("paused-out")), 3, 100);
        args << "--set" << "log_every=1";
        auto r = testing::run_matrix(args, train_env(QString::fromStdString(hold)));
        QVERIFY2(r.code == 0, r.err.constData());
        // The job names its run as soon as the run exists (the command links it as it creates it), not only once the
        // supervisor has read the run id in the log: a job paused at that moment (its supervisor stopped with it)
        // still shows its ranks paused, not lost.
        {
            QElapsedTimer t;
            t.start();
            bool seen = false;
            while (!seen && t.elapsed() < 120000) {
                auto p = store::Project::open(db);
                QVERIFY(p.ok());
                auto st = p->db().prepare("SELECT runs.id, jobs.run_id FROM runs LEFT JOIN jobs ON jobs.id=1");
                QVERIFY(st.ok());
                auto row = st->step();
                QVERIFY(row.ok());
                if (*row) {
                    seen = true;
                    QVERIFY2(!st->column_is_null(1), "the run exists but its job does not name it");
                    QCOMPARE(st->column_int64(1), st->column_int64(0));
                }
                if (!seen) QTest::qWait(5);
            }
            QVERIFY(seen);
        }
        QVERIFY(wait_for_file(hold + ".held", 120));
        auto job = testing::wait_job(db, 1, [](const jobs::Job& j) { return j.run_id.has_value(); }, 30);
        QVERIFY2(job && job->run_id, "the job never recorded its run");
        const int64_t run = *job->run_id;

        r = testing::run_matrix({"jobs", "pause", "--db", QString::fromStdString(db), "1"});
        QVERIFY2(r.code == 0, r.err.constData());
        QTest::qWait(int(kThreshold * 1000) + 500);
        auto st = rank_status(db, run, store::unix_now());
        QCOMPARE(st[0].shown_state, std::string("paused"));
        QCOMPARE(st[0].row.state, std::string("running"));
        QVERIFY2(st[0].seconds_since_heartbeat > kThreshold, std::to_string(st[0].seconds_since_heartbeat).c_str());

        r = testing::run_matrix({"jobs", "resume", "--db", QString::fromStdString(db), "1"});
        QVERIFY2(r.code == 0, r.err.constData());
        QTest::qWait(int(kInterval * 3 * 1000));
        st = rank_status(db, run, store::unix_now());
        QCOMPARE(st[0].shown_state, std::string("running"));
        QVERIFY2(st[0].seconds_since_heartbeat < kThreshold, std::to_string(st[0].seconds_since_heartbeat).c_str());

        fs::remove(hold);
        job = testing::wait_job(db, 1, [](const jobs::Job& j) { return j.is_final(); }, 120);
        QVERIFY(job);
        QCOMPARE(job->state, std::string("finished"));
        QTest::qWait(int(kThreshold * 1000) + 300);
        st = rank_status(db, run, store::unix_now());
        QCOMPARE(st[0].shown_state, std::string("finished"));
        QCOMPARE(st[0].row.step, int64_t(3));
    }
};

QTEST_GUILESS_MAIN(TestRankHeartbeat)
#include "test_rank_heartbeat.moc"
