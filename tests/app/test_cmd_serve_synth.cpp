// `matrix synth` with `matrix serve` on the tiny fixture Qwen2-VL as the teacher: a real OpenAI-compatible server
// whose answers are random text. The content cannot be checked; the structure and the error handling can: every
// query round is rejected with one of the malformed-answer reasons (never stored as tasks), the agent runs its
// steps and ends (answered, forced or without answer) on the tasks given to it, the verifier's random answers are
// rejected with their reason, and every request's tokens are recorded (completion within max_tokens).
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/store/dataset_repo.h"
#include "core/store/project.h"
#include "core/store/task_repo.h"
#include "tests/support/cli_run.h"

using namespace matrix;
using json = nlohmann::json;

namespace {
const QString k_model = QStringLiteral(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny/tiny-qwen2vl");
}  // namespace

class TestCmdServeSynth : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QProcess m_serve;
    QString m_url;

    int64_t count(store::Project& p, const std::string& sql) {
        auto n = p.db().query_int64(sql);
        if (!n.ok()) qFatal("%s", n.error().to_string().c_str());
        return *n;
    }

    testing::CliRun stage(const QString& db, const QString& name, const QStringList& extra) {
        QStringList args = {"synth", "run", "--db", db, "--stage", name, "--endpoint", m_url, "--endpoint-model",
                            "tiny-qwen2vl", "--set", "max_tokens=24", "--set", "retry_base_delay_ms=10"};
        return testing::run_matrix(args + extra, QProcessEnvironment::systemEnvironment(), 600000);
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_serve.start(testing::matrix_binary(), {"serve", "--model", k_model, "--port", "0"});
        QVERIFY(m_serve.waitForStarted(10000));
        QByteArray out;
        int port = -1;
        for (int i = 0; i < 600 && port < 0 && m_serve.state() == QProcess::Running; ++i) {
            m_serve.waitForReadyRead(100);
            out += m_serve.readAllStandardOutput();
            const int at = out.indexOf("listening on http://127.0.0.1:");
            if (at >= 0 && out.indexOf('\n', at) > 0) port = out.mid(at + 30, out.indexOf(' ', at + 30) - at - 30).toInt();
        }
        QVERIFY2(port > 0, out.constData());
        m_url = QStringLiteral("http://127.0.0.1:%1/v1").arg(port);
    }

    void cleanupTestCase() {
        m_serve.terminate();
        if (!m_serve.waitForFinished(20000)) m_serve.kill();
    }

    void random_teacher_is_handled() {
        const QString db = m_dir.path() + "/p.matrix";
        const QString seeds = m_dir.path() + "/seeds.json";
        std::ofstream(seeds.toStdString()) << json::array({"What is 2 + 2?", "Read the table and sum the prices."}).dump();
        const std::set<std::string> malformed = {"no JSON", "bad JSON", "wrong fields", "empty answer", "answer too long"};

        // Queries: random text is never a list of queries; each round rejected with its reason, no task made.
        auto q = stage(db, "queries", {"--seed-file", seeds, "--limit", "2"});
        QVERIFY2(q.code == 0, q.err.constData());
        QVERIFY2(q.out.contains("stage queries: finished, 2 units, 0 done, 2 rejected, 0 failed"), q.out.constData());
        auto p = store::Project::open(db.toStdString());
        QCOMPARE(count(*p, "SELECT count(*) FROM tasks WHERE source='synth'"), int64_t(0));
        {
            auto st = p->db().prepare("SELECT reason FROM synth_rejects WHERE stage='queries'");
            int n = 0;
            while (*st->step()) {
                ++n;
                QVERIFY2(malformed.count(st->column_text(0)), st->column_text(0).c_str());
            }
            QCOMPARE(n, 2);
        }
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_usage WHERE stage='queries' AND model='tiny-qwen2vl' AND cached=0 "
                           "AND prompt_tokens>100 AND completion_tokens BETWEEN 1 AND 24"), int64_t(2));

        // Two tasks that need nothing, as the queries stage would have made them.
        {
            auto ds = store::DatasetRepo(p->db()).find("synth");
            QVERIFY(ds.ok() && ds->has_value());
            store::TaskRepo tasks(p->db());
            for (int k = 0; k < 2; ++k) {
                store::Task t;
                t.dataset_id = (*ds)->id;
                t.ordinal = k;
                t.record_key = "hand-" + std::to_string(k);
                t.external_id = t.record_key;
                t.query = k == 0 ? "What is 17 times 23?" : "What is the square root of 144?";
                t.prompt_text = "Task: " + t.query + "\n";
                t.source = "synth";
                t.extra = json{{"synth", {{"needs", "none"}}}}.dump();
                QVERIFY(tasks.insert(t).ok());
            }
        }
        // Trajectories: the agent takes its 2 steps of random text (parse errors) and ends; each task done or
        // rejected with a reason, none failed, the agent run's steps stored.
        auto t = stage(db, "trajectories", {"--set", "max_steps=2"});
        QVERIFY2(t.code == 0, t.err.constData());
        QVERIFY2(t.out.contains("stage trajectories: finished, 2 units"), t.out.constData());
        QVERIFY2(t.out.contains(", 0 failed"), t.out.constData());
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_items WHERE stage='trajectories' AND status IN ('done','rejected')"),
                 int64_t(2));
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_items WHERE stage='trajectories' AND status='rejected' AND "
                           "reason NOT LIKE 'no answer%' AND reason NOT LIKE 'agent failed%'"), int64_t(0));
        QVERIFY(count(*p, "SELECT count(*) FROM steps s JOIN trajectories tr ON tr.id=s.trajectory_id WHERE tr.source='run'") >= 2);
        // Each task: at least its steps' requests (2) or a rejected first answer; the agent's 512 new tokens at most.
        const int64_t agent_requests = count(*p, "SELECT count(*) FROM synth_usage WHERE stage='trajectories'");
        QVERIFY2(agent_requests >= 2, qPrintable(QString::number(agent_requests)));
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_usage WHERE stage='trajectories' AND completion_tokens BETWEEN 1 AND 512"),
                 agent_requests);
        const int64_t done = count(*p, "SELECT count(*) FROM synth_items WHERE stage='trajectories' AND status='done'");
        QCOMPARE(count(*p, "SELECT count(*) FROM trajectories WHERE source='synth'"), done);

        // Verifier: random text is not {"correct": "yes"|"no"}: rejected with its reason, verdict left unknown.
        auto v = stage(db, "verify-trajectories", {});
        QVERIFY2(v.code == 0, v.err.constData());
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_items WHERE stage='verify-trajectories'"), done);
        auto st = p->db().prepare("SELECT r.reason, t.verdict FROM synth_rejects r JOIN tasks t ON t.id=r.task_id "
                                  "WHERE r.stage='verify-trajectories'");
        while (*st->step()) {
            QVERIFY2(malformed.count(st->column_text(0)), st->column_text(0).c_str());
            QCOMPARE(st->column_text(1), std::string("unknown"));
        }
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_usage WHERE cached=0 AND prompt_tokens=0"), int64_t(0));
    }
};

QTEST_GUILESS_MAIN(TestCmdServeSynth)
#include "test_cmd_serve_synth.moc"
