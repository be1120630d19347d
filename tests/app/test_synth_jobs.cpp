// `matrix synth submit` (a synthesis stage as a job, core/jobs) and `matrix synth run --seed-tasks`: real `matrix`
// processes against a scripted OpenAI-compatible teacher on 127.0.0.1 that answers each queries round with three
// new tasks named after the round's seed (so every round's tasks differ and a redone round would show as duplicates).
//   - seeds from task ids: the requests the teacher receives carry exactly the chosen tasks' texts, in the examples
//     block; bad ids are refused naming the id; --seed-tasks-file reads the same ids;
//   - submit: the job is recorded with kind synth, runs detached, finishes with the stage's exact counts;
//   - pause / resume / cancel through `matrix jobs`: paused, the processes are stopped and the teacher gets no
//     request; cancelled while the teacher holds a round's request, the store is consistent (exactly the rounds
//     answered before, 3 tasks each, no duplicate, every delivered reply recorded once, the held one never) and a
//     second run completes the stage without paying any request twice.
#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/jobs/job_control.h"
#include "core/jobs/process.h"
#include "core/store/project.h"
#include "tests/support/cli_run.h"
#include "tests/support/jobs_project.h"
#include "tests/support/local_http_server.h"
#include "tests/support/scripted_teacher.h"

using namespace matrix;
using json = nlohmann::json;
using testing::run_matrix;

namespace {

const QString k_mtrace = QStringLiteral(MATRIX_SHARED_DIR "/data/mtrace/mtrace-subset-60.json");

int64_t count(const QString& db, const std::string& sql) {
    auto p = store::Project::open(db.toStdString());
    if (!p.ok()) qFatal("%s", p.error().to_string().c_str());
    auto n = p->db().query_int64(sql);
    if (!n.ok()) qFatal("%s: %s", sql.c_str(), n.error().to_string().c_str());
    return *n;
}

std::string text_of(const QString& db, int64_t task_id) {
    auto p = store::Project::open(db.toStdString());
    auto t = p->db().query_text("SELECT query FROM tasks WHERE id=" + std::to_string(task_id));
    return t.ok() && *t ? **t : std::string();
}

std::string all_text(const json& message) { return matrix::testing::ScriptedTeacher::all_text(message); }

int64_t job_id_of(const QByteArray& out) {
    const QList<QByteArray> words = out.split(' ');
    return words.size() > 1 && words[0] == "job" ? words[1].toLongLong() : 0;
}

}  // namespace

class TestSynthJobs : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::unique_ptr<testing::LocalHttpServer> m_server;
    std::mutex m_mutex;
    std::vector<std::string> m_users;           // the user message of every queries request, in arrival order
    std::map<std::string, int> m_bodies;        // request body -> times answered
    int64_t m_prompt_tokens = 0, m_completion_tokens = 0;
    int m_delay_ms = 0;
    int m_requests = 0;          // requests arrived
    int m_hold_at = 0;           // this request (1-based) waits until released; its client is gone by then
    bool m_held = false, m_release = false;
    std::condition_variable m_cv;

    void handle(const httplib::Request& http, httplib::Response& res) {
        const json req = json::parse(http.body, nullptr, false);
        bool dropped = false;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            if (++m_requests == m_hold_at) {
                m_held = true;
                m_cv.notify_all();
                m_cv.wait(lock, [this] { return m_release; });
                dropped = true;  // its client was cancelled meanwhile: never delivered, never recorded
            }
        }
        if (m_delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(m_delay_ms));
        const std::string seed = std::to_string(req.value("seed", int64_t(0)));
        const json list = json::array({
            {{"query", "Add the numbers in the attached table for round " + seed + "."}, {"tools", json::array()}, {"needs", "none"}},
            {{"query", "What is 12 times 12 for round " + seed + "?"}, {"tools", json::array()}, {"needs", "none"}},
            {{"query", "Name the capital of France for round " + seed + "."}, {"tools", json::array()}, {"needs", "none"}},
        });
        const std::string content = "```json\n" + list.dump() + "\n```";
        const int64_t prompt = int64_t(http.body.size() / 4), completion = int64_t(content.size() / 4 + 1);
        if (!dropped) {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_users.push_back(all_text(req["messages"].back()));
            ++m_bodies[http.body];
            m_prompt_tokens += prompt;
            m_completion_tokens += completion;
        }
        json choice = {{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", "stop"}};
        res.set_content(json{{"id", "c"}, {"object", "chat.completion"}, {"model", req.value("model", "")},
                             {"choices", {choice}},
                             {"usage", {{"prompt_tokens", prompt}, {"completion_tokens", completion},
                                        {"total_tokens", prompt + completion}}}}
                            .dump(),
                        "application/json");
    }

    void reset() {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_users.clear();
        m_bodies.clear();
        m_prompt_tokens = m_completion_tokens = 0;
        m_delay_ms = 0;
        m_requests = 0;
        m_hold_at = 0;
        m_held = m_release = false;
    }

    void release() {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_release = true;
        m_cv.notify_all();
    }
    bool held() {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_held;
    }

    size_t served() {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_users.size();
    }

    QString project(const QString& name) {
        QDir().mkpath(m_dir.path() + "/" + name);
        const QString db = m_dir.path() + "/" + name + "/p.matrix";
        auto r = run_matrix({"import", "--db", db, "--format", "mtrace", "--dataset", "seeds", k_mtrace});
        if (r.code != 0) qFatal("import: %s", r.err.constData());
        return db;
    }

    QStringList run_args(const QString& db) const {
        return {"run", "--db", db, "--stage", "queries", "--endpoint", QString::fromStdString(m_server->url("/v1")),
                "--endpoint-model", "teacher", "--seed", "7", "--set", "retry_base_delay_ms=10", "--set", "per_round=3"};
    }

    // The store's accounting against what the teacher served: every served request recorded once, paid once.
    void check_accounting(const QString& db) {
        std::lock_guard<std::mutex> lock(m_mutex);
        QCOMPARE(count(db, "SELECT count(*) FROM synth_usage WHERE cached=0"), int64_t(m_users.size()));
        QCOMPARE(count(db, "SELECT COALESCE(SUM(prompt_tokens),0) FROM synth_usage WHERE cached=0"), m_prompt_tokens);
        QCOMPARE(count(db, "SELECT COALESCE(SUM(completion_tokens),0) FROM synth_usage WHERE cached=0"), m_completion_tokens);
        for (const auto& [body, n] : m_bodies) QCOMPARE(n, 1);
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_server = std::make_unique<testing::LocalHttpServer>(
            [this](const httplib::Request& q, httplib::Response& r) { handle(q, r); });
    }

    void cleanup() { release(); }

    void seed_tasks_reach_the_teacher() {
        reset();
        const QString db = project("seeds");
        const int64_t a = count(db, "SELECT id FROM tasks ORDER BY id LIMIT 1 OFFSET 4");
        const int64_t b = count(db, "SELECT id FROM tasks ORDER BY id LIMIT 1 OFFSET 17");
        const int64_t other = count(db, "SELECT id FROM tasks ORDER BY id LIMIT 1 OFFSET 30");
        const std::string ta = text_of(db, a), tb = text_of(db, b), tother = text_of(db, other);
        QVERIFY(!ta.empty() && !tb.empty() && ta != tb);
        auto r = run_matrix(QStringList{"synth"} + run_args(db) << "--limit" << "2" << "--seed-tasks" << QString("%1,%2").arg(b).arg(a));
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY2(r.out.contains("stage queries: finished, 2 units, 2 done, 0 rejected, 0 failed"), r.out.constData());
        QCOMPARE(served(), size_t(2));
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            for (const std::string& user : m_users) {
                // The examples block: the two chosen tasks' texts, JSON-quoted one per line, and no other task's.
                QVERIFY2(user.find(json(ta).dump() + "\n") != std::string::npos, user.c_str());
                QVERIFY2(user.find(json(tb).dump() + "\n") != std::string::npos, user.c_str());
                QVERIFY(user.find(json(tother).dump()) == std::string::npos);
            }
        }
        // Recorded with each round's output: the ids as given and the two texts as its examples.
        auto p = store::Project::open(db.toStdString());
        auto seeds = p->db().query_text("SELECT json_extract(output,'$.seed_tasks') FROM synth_items WHERE stage='queries' "
                                        "AND item_key='round-0'");
        QVERIFY2(seeds.ok(), seeds.ok() ? "" : seeds.error().to_string().c_str());
        QCOMPARE(seeds->value_or(""), "[" + std::to_string(b) + "," + std::to_string(a) + "]");
        QCOMPARE(count(db, "SELECT json_array_length(output,'$.examples') FROM synth_items WHERE item_key='round-0'"),
                 int64_t(2));
        QCOMPARE(count(db, "SELECT count(*) FROM tasks t JOIN datasets d ON d.id=t.dataset_id WHERE d.name='synth'"), int64_t(6));

        // The same ids from a file (commas, spaces and lines); a third round.
        const QString file = m_dir.path() + "/seeds/ids.txt";
        std::ofstream(file.toStdString()) << b << "\n " << a << ",\n";
        auto f = run_matrix(QStringList{"synth"} + run_args(db) << "--limit" << "3" << "--seed-tasks-file" << file);
        QVERIFY2(f.code == 0, f.err.constData());
        QCOMPARE(served(), size_t(3));
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            QVERIFY(m_users[2].find(json(ta).dump() + "\n") != std::string::npos);
            QVERIFY(m_users[2].find(json(tb).dump() + "\n") != std::string::npos);
        }

        // Bad ids: refused before anything is asked, naming the id.
        auto missing = run_matrix(QStringList{"synth"} + run_args(db) << "--limit" << "4" << "--seed-tasks" << QString("%1,999999").arg(a));
        QCOMPARE(missing.code, 1);
        QCOMPARE(missing.err.trimmed(),
                 QByteArray("matrix: synth run: seed task 999999 does not exist in the project"));
        auto word = run_matrix(QStringList{"synth"} + run_args(db) << "--limit" << "4" << "--seed-tasks" << "12,x");
        QCOMPARE(word.code, 1);
        QCOMPARE(word.err.trimmed(), QByteArray("matrix: synth run: --seed-tasks: \"x\" is not a task id"));
        auto both = run_matrix(QStringList{"synth"} + run_args(db) << "--seed-tasks" << "1" << "--seed-tasks-file" << file);
        QCOMPARE(both.code, 1);
        QCOMPARE(both.err.trimmed(), QByteArray("matrix: synth run: give --seed-tasks or --seed-tasks-file, not both"));
        QCOMPARE(served(), size_t(3));
    }

    void submit_runs_the_stage_as_a_job() {
        reset();
        const QString db = project("submit");
        auto r = run_matrix(QStringList{"synth", "submit", "--wait"} + run_args(db) + QStringList{"--limit", "2", "--seed-dataset", "seeds"});
        QVERIFY2(r.code == 0, (r.out + r.err).constData());
        const int64_t id = job_id_of(r.out);
        QCOMPARE(id, int64_t(1));
        QVERIFY2(r.out.contains("job 1 finished"), r.out.constData());
        auto p = store::Project::open(db.toStdString());
        auto job = jobs::JobRepo(p->db()).get(1);
        QVERIFY(job.ok() && *job);
        QCOMPARE((*job)->kind, std::string("synth"));
        QCOMPARE((*job)->state, std::string("finished"));
        QCOMPARE((*job)->exit_code.value_or(-1), 0);
        QCOMPARE((*job)->argv[0], std::string("synth"));
        QCOMPARE((*job)->argv[1], std::string("run"));
        const std::string log = jobs::log_tail((*job)->log_path, 50);
        QVERIFY2(log.find("stage queries: finished, 2 units, 2 done, 0 rejected, 0 failed") != std::string::npos, log.c_str());
        QCOMPARE(count(db, "SELECT count(*) FROM tasks t JOIN datasets d ON d.id=t.dataset_id WHERE d.name='synth'"), int64_t(6));
        check_accounting(db);
        auto list = run_matrix({"jobs", "list", "--db", db});
        QCOMPARE(list.code, 0);
        QVERIFY2(list.out.contains("1    synth  finished"), list.out.constData());
    }

    void pause_resume_and_cancel_keep_the_store_consistent() {
        reset();
        m_delay_ms = 300;  // each round takes a while: the job is paused between or inside rounds
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_hold_at = 4;  // the fourth round's request is still with the teacher when the job is cancelled
        }
        const QString db = project("control");
        auto r = run_matrix(QStringList{"synth", "submit"} + run_args(db) + QStringList{"--limit", "12", "--seed-dataset", "seeds"});
        QVERIFY2(r.code == 0, (r.out + r.err).constData());
        const int64_t id = job_id_of(r.out);
        QVERIFY(id > 0);
        const std::string path = db.toStdString();
        auto rounds = [&] { return count(db, "SELECT count(*) FROM synth_items WHERE stage='queries'"); };
        QTRY_VERIFY_WITH_TIMEOUT(rounds() >= 1, 60000);

        auto pause = run_matrix({"jobs", "pause", "--db", db, QString::number(id)});
        QVERIFY2(pause.code == 0, pause.err.constData());
        auto job = testing::wait_job(path, id, [](const jobs::Job& j) { return j.state == "paused"; }, 10);
        QVERIFY(job);
        QTRY_VERIFY_WITH_TIMEOUT(jobs::process_stopped(job->pid), 5000);
        std::this_thread::sleep_for(std::chrono::milliseconds(m_delay_ms + 300));  // a request already in flight lands
        const size_t before = served();
        const int64_t rounds_before = rounds();
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        QCOMPARE(served(), before);  // stopped: no new request
        QCOMPARE(rounds(), rounds_before);
        QVERIFY(rounds_before < 4);

        auto resume = run_matrix({"jobs", "resume", "--db", db, QString::number(id)});
        QVERIFY2(resume.code == 0, resume.err.constData());
        QVERIFY(testing::wait_job(path, id, [](const jobs::Job& j) { return j.state == "running"; }, 10));
        QTRY_VERIFY_WITH_TIMEOUT(held(), 60000);  // rounds 0-2 answered, round 3 with the teacher

        auto cancel = run_matrix({"jobs", "cancel", "--db", db, QString::number(id), "--wait", "60"});
        QVERIFY2(cancel.code == 0, cancel.err.constData());
        QCOMPARE(cancel.out.trimmed(), QByteArray("job " + QByteArray::number(qint64(id)) + " cancelled"));
        auto ended = testing::wait_job(path, id, [](const jobs::Job& j) { return j.is_final(); }, 5);
        QVERIFY(ended);
        QCOMPARE(ended->state, std::string("cancelled"));
        QCOMPARE(ended->exit_code.value_or(-1), 130);
        // The supervisor records the end, then exits: gone within moments.
        QTRY_VERIFY_WITH_TIMEOUT(!jobs::process_alive(ended->pid, ended->pid_start), 5000);
        const std::string log = jobs::log_tail(ended->log_path, 40);
        QVERIFY2(log.find("stage queries: cancelled, 12 units, 3 done, 0 rejected") != std::string::npos, log.c_str());
        release();  // the teacher answers the held request to nobody

        // Consistent after the cancel: the three answered rounds with three tasks each, nothing twice, every
        // delivered reply recorded once and the undelivered one not at all.
        QCOMPARE(rounds(), int64_t(3));
        const std::string synth_tasks = "FROM tasks t JOIN datasets d ON d.id=t.dataset_id WHERE d.name='synth'";
        QCOMPARE(count(db, "SELECT count(*) " + synth_tasks), int64_t(9));
        QCOMPARE(count(db, "SELECT count(DISTINCT t.query) " + synth_tasks), int64_t(9));
        QCOMPARE(served(), size_t(3));
        check_accounting(db);

        // Run again: the remaining nine rounds only (the held one asked again, now answered); 12 rounds, 36
        // distinct tasks, every reply paid once and recorded once.
        m_delay_ms = 0;
        auto again = run_matrix(QStringList{"synth"} + run_args(db) << "--limit" << "12" << "--seed-dataset" << "seeds");
        QVERIFY2(again.code == 0, again.err.constData());
        QVERIFY2(again.out.contains("stage queries: finished, 9 units, 9 done, 0 rejected, 0 failed"), again.out.constData());
        QCOMPARE(rounds(), int64_t(12));
        QCOMPARE(count(db, "SELECT count(*) " + synth_tasks), int64_t(36));
        QCOMPARE(count(db, "SELECT count(DISTINCT t.query) " + synth_tasks), int64_t(36));
        QCOMPARE(served(), size_t(12));
        check_accounting(db);
    }
};

QTEST_GUILESS_MAIN(TestSynthJobs)
#include "test_synth_jobs.moc"
