// `matrix bench` end to end through the built binary: compare with three runs (JSON with every run against
// the baseline, --baseline, CSV) and the two-run JSON shape kept; GTA items without a score reported as
// "needs embedding model"; Agent-X judge metrics from `bench score --judge-url/--judge-model/--judge-key-env`
// against a stub OpenAI-compatible server this test runs on localhost (canned verdicts, an endpoint that is
// down, one that answers garbage), the verdicts stored and reused without asking again.
#include <QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/support/cli_run.h"

using nlohmann::json;

namespace {
const QString kData = QStringLiteral(MATRIX_SOURCE_DIR "/tests/data/bench/");
const QString kShared = QStringLiteral(MATRIX_SHARED_DIR);

struct Outcome {
    int code = -1;
    QString out, err;
};

Outcome runMatrix(const QStringList& args, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
    const matrix::testing::CliRun r = matrix::testing::run_matrix(args, env);
    return {r.code, QString::fromUtf8(r.out), QString::fromUtf8(r.err)};
}

// A tiny HTTP server on 127.0.0.1 in a thread: every request gets reply(request) as a 200 JSON response.
class StubServer {
public:
    explicit StubServer(std::function<std::string(const std::string&)> reply) : m_reply(std::move(reply)) {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        ::listen(m_fd, 16);
        socklen_t len = sizeof addr;
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len);
        m_port = ntohs(addr.sin_port);
        m_thread = std::thread([this] { serve(); });
    }
    ~StubServer() {
        m_stop = true;
        m_thread.join();
        ::close(m_fd);
    }
    QString url() const { return QStringLiteral("http://127.0.0.1:%1/v1/chat/completions").arg(m_port); }
    std::vector<std::string> requests() {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_requests;
    }

private:
    void serve() {
        while (!m_stop) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            const int c = ::accept(m_fd, nullptr, nullptr);
            if (c < 0) continue;
            std::string req;
            char buf[65536];
            for (;;) {
                const ssize_t n = ::recv(c, buf, sizeof buf, 0);
                if (n <= 0) break;
                req.append(buf, size_t(n));
                const size_t he = req.find("\r\n\r\n"), cl = req.find("Content-Length: ");
                if (he != std::string::npos && cl != std::string::npos &&
                    req.size() >= he + 4 + std::stoul(req.substr(cl + 16)))
                    break;
            }
            const std::string body = m_reply(req);
            const std::string resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
                                     std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
            ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
            ::close(c);
            std::lock_guard<std::mutex> lock(m_mutex);
            m_requests.push_back(req);
        }
    }
    std::function<std::string(const std::string&)> m_reply;
    int m_fd = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::mutex m_mutex;
    std::vector<std::string> m_requests;
    std::thread m_thread;
};

std::string chat_reply(const std::string& content) {
    return json{{"choices", json::array({{{"message", {{"role", "assistant"}, {"content", content}}}}})}}.dump();
}

// Canned verdicts: by task (the prompt holds the query) and metric (the prompt names it).
std::string canned(const std::string& req) {
    const bool coffee = req.find("two coffees") != std::string::npos;
    if (req.find("'grounding'") != std::string::npos) return chat_reply(coffee ? "0.9" : "0.4");
    if (req.find("'goal_accuracy'") != std::string::npos) return chat_reply(coffee ? "Score: 1" : "Score: 0");
    return chat_reply(coffee ? "0.75" : "0.25");
}
}  // namespace

class TestCmdBench : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_gta, m_agentx;

private slots:
    void initTestCase() {
        QVERIFY(QFileInfo::exists(matrix::testing::matrix_binary()));
        m_gta = m_dir.filePath("gta.db");
        QCOMPARE(runMatrix({"bench", "load", "--db", m_gta, "--benchmark", "gta", kShared + "/data/gta/dataset.json"}).code, 0);
        for (const QString& run : {QString("matrix-gta/run-a"), QString("matrix-gta/run-b")}) {
            QCOMPARE(runMatrix({"bench", "import-run", "--db", m_gta, "--benchmark", "gta", "--format", "matrix-gta", kData + run}).code, 0);
        }
        const Outcome c = runMatrix({"bench", "import-run", "--db", m_gta, "--benchmark", "gta", "--format", "jsonl",
                                     "--name", "run-c", kData + "gta-run-c.jsonl"});
        QCOMPARE(c.code, 0);
        QCOMPARE(c.out.trimmed().split('\n').last(), QString("3"));

        m_agentx = m_dir.filePath("agentx.db");
        QCOMPARE(runMatrix({"bench", "load", "--db", m_agentx, "--benchmark", "agentx", kData + "agentx/data.json"}).code, 0);
        const Outcome x = runMatrix({"bench", "import-run", "--db", m_agentx, "--benchmark", "agentx", "--format", "jsonl",
                                     kData + "agentx-run.jsonl"});
        QCOMPARE(x.code, 0);
        QCOMPARE(x.out.trimmed().split('\n').last(), QString("1"));
    }

    void score_reports_items_not_scored() {
        const Outcome o = runMatrix({"bench", "score", "--db", m_gta, "--run", "1", "--json"});
        QCOMPARE(o.code, 0);
        const json j = json::parse(o.out.toStdString());
        QCOMPARE(j["n_not_scored"].get<int>(), 2);
        QCOMPARE(j["not_scored"][0], json({{"task_id", "8"}, {"group", "subjective"}, {"reason", "needs embedding model"}}));
        QCOMPARE(j["not_scored"][1]["reason"].get<std::string>(), std::string("needs embedding model"));
        QCOMPARE(j["metrics"]["answer_acc"].get<double>(), 60.0);
        const Outcome text = runMatrix({"bench", "score", "--db", m_gta, "--run", "1"});
        QVERIFY(text.out.contains("not scored (needs embedding model): 1 image_generation 1 subjective"));
    }

    void compare_three_runs() {
        const QString csv = m_dir.filePath("three.csv");
        const Outcome o = runMatrix({"bench", "compare", "--db", m_gta, "1", "2", "3", "--json", "--csv", csv});
        QCOMPARE(o.code, 0);
        const json j = json::parse(o.out.toStdString());
        QCOMPARE(j["run_ids"], json::array({1, 2, 3}));
        QCOMPARE(j["baseline_run"].get<int>(), 1);
        QCOMPARE(j["runs"], json::array({"#1 run-a", "#2 run-b", "#3 run-c"}));
        const json& m = j["metrics"][0];
        QCOMPARE(m["name"].get<std::string>(), std::string("answer_acc"));
        QCOMPARE(m["ci_method"].get<std::string>(), std::string("wilson"));
        QCOMPARE(m["runs"][2]["value"].get<double>(), 60.0);
        QCOMPARE(m["runs"][1]["diff"].get<double>(), -20.0);
        QVERIFY(m["runs"][0]["diff"].is_null());
        QVERIFY(std::abs(m["runs"][0]["ci"][0].get<double>() - 23.07242813) < 1e-6);
        const json& vb = j["versus_baseline"][1];
        QCOMPARE(vb["gained_tasks"], json::array({"2"}));
        QCOMPARE(vb["lost_tasks"], json::array({"0", "29"}));
        QCOMPARE(j["versus_baseline"][2]["gained_tasks"], json::array({"2", "3"}));
        QCOMPARE(j["versus_baseline"][2]["lost_tasks"], json::array({"1", "29"}));
        QCOMPARE(j["outcomes"]["solved_only_by"][0]["tasks"], json::array({"29"}));
        QCOMPARE(j["outcomes"]["solved_only_by"][2]["tasks"], json::array({"3"}));
        QCOMPARE(j["outcomes"]["solved_by_all"].get<int>(), 0);
        QCOMPARE(j["not_scored"][2]["reasons"]["needs embedding model"].get<int>(), 2);
        QCOMPARE(j["tasks"][4]["outcome"].get<std::string>(), std::string("not scored (needs embedding model)"));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(f.readAll());
        QVERIFY(text.contains("\n29,objective,1,0,0,only #1 run-a\n"));

        // Another baseline.
        const Outcome b = runMatrix({"bench", "compare", "--db", m_gta, "1", "2", "3", "--baseline", "3", "--json"});
        QCOMPARE(b.code, 0);
        const json jb = json::parse(b.out.toStdString());
        QCOMPARE(jb["baseline"].get<int>(), 2);
        QCOMPARE(jb["versus_baseline"][0]["gained_tasks"], json::array({"1", "29"}));
        // Text output names every run against the baseline.
        const Outcome t = runMatrix({"bench", "compare", "--db", m_gta, "1", "2", "3"});
        QCOMPARE(t.code, 0);
        QVERIFY(t.out.contains("#3 run-c vs baseline: gained 2, lost 2, both 1, neither 0 (of 5 paired)"));
        QVERIFY(t.out.contains("#1 run-a: 2 tasks not scored (needs embedding model)"));
        // Errors.
        QVERIFY(runMatrix({"bench", "compare", "--db", m_gta, "1", "2", "3", "--baseline", "7"}).code != 0);
        QVERIFY(runMatrix({"bench", "compare", "--db", m_gta, "1", "1"}).code != 0);
        QVERIFY(runMatrix({"bench", "compare", "--db", m_gta, "1"}).code != 0);
    }

    void compare_two_runs_keeps_its_shape() {
        const Outcome o = runMatrix({"bench", "compare", "--db", m_gta, "1", "2", "--json"});
        QCOMPARE(o.code, 0);
        const json j = json::parse(o.out.toStdString());
        QCOMPARE(j["run_a"].get<int>(), 1);
        QCOMPARE(j["run_b"].get<int>(), 2);
        QCOMPARE(j["flips"]["only_a"].get<int>(), 2);
        QCOMPARE(j["flips"]["only_b"].get<int>(), 1);
        QCOMPARE(j["metrics"][0]["a"].get<double>(), 60.0);
        QCOMPARE(j["not_scored"]["a"]["needs embedding model"].get<int>(), 2);
        QCOMPARE(j["tasks"][4]["not_scored_a"].get<std::string>(), std::string("needs embedding model"));
        // --baseline naming the second run swaps A and B.
        const Outcome s = runMatrix({"bench", "compare", "--db", m_gta, "1", "2", "--baseline", "2", "--json"});
        const json js = json::parse(s.out.toStdString());
        QCOMPARE(js["run_a"].get<int>(), 2);
        QCOMPARE(js["flips"]["only_a"].get<int>(), 1);
    }

    void judge_from_the_cli() {
        StubServer server(canned);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("MY_JUDGE_KEY", "sekret");
        const Outcome o = runMatrix({"bench", "score", "--db", m_agentx, "--run", "1", "--json", "--judge-url", server.url(),
                                     "--judge-model", "stub-judge", "--judge-key-env", "MY_JUDGE_KEY"},
                                    env);
        QVERIFY2(o.code == 0, qPrintable(o.err));
        const auto requests = server.requests();
        QCOMPARE(int(requests.size()), 16);  // 2 tasks x 8 metrics
        QVERIFY(requests[0].find("Authorization: Bearer sekret\r\n") != std::string::npos);
        QVERIFY(requests[0].find("\"model\":\"stub-judge\"") != std::string::npos);
        const json j = json::parse(o.out.toStdString());
        QCOMPARE(j["metrics"]["judge_grounding"].get<double>(), 65.0);       // (0.9 + 0.4) / 2
        QCOMPARE(j["metrics"]["judge_goal_accuracy"].get<double>(), 50.0);   // (1 + 0) / 2
        QCOMPARE(j["metrics"]["judge_faithfulness"].get<double>(), 50.0);    // (0.75 + 0.25) / 2
        QCOMPARE(j["tasks"][1]["detail"]["judge_grounding"].get<double>(), 0.4);
        bool noted = false;
        for (const auto& n : j["notes"]) noted |= n.get<std::string>() == "judge metrics from stub-judge at " + server.url().toStdString();
        QVERIFY(noted);

        // Scoring again without a judge keeps the stored verdicts and asks nobody.
        const Outcome again = runMatrix({"bench", "score", "--db", m_agentx, "--run", "1", "--json"});
        QCOMPARE(again.code, 0);
        QCOMPARE(json::parse(again.out.toStdString())["metrics"]["judge_grounding"].get<double>(), 65.0);
        QCOMPARE(int(server.requests().size()), 16);
        // A comparison (run against itself imported again) has the judge metrics with bootstrap intervals.
        QCOMPARE(runMatrix({"bench", "import-run", "--db", m_agentx, "--benchmark", "agentx", "--format", "jsonl",
                            kData + "agentx-run.jsonl"}).code, 0);
        const Outcome cmp = runMatrix({"bench", "compare", "--db", m_agentx, "1", "2", "--json"});
        QCOMPARE(cmp.code, 0);
        bool found = false;
        const json jc = json::parse(cmp.out.toStdString());
        for (const auto& m : jc["metrics"]) {
            if (m["name"] == "judge_grounding") {
                found = true;
                QCOMPARE(m["a"].get<double>(), 65.0);
                QVERIFY(m["b"].is_null());  // run 2 was never judged
                QCOMPARE(m["ci_method"].get<std::string>(), std::string("bootstrap"));
                QVERIFY(m["a_ci"][0].get<double>() >= 40.0 && m["a_ci"][1].get<double>() <= 90.0);
            }
        }
        QVERIFY(found);
    }

    void judge_errors() {
        // Down: nothing listens on port 1.
        Outcome down = runMatrix({"bench", "score", "--db", m_agentx, "--run", "2", "--judge-url",
                                  "http://127.0.0.1:1/v1/chat/completions", "--judge-model", "m"});
        QCOMPARE(down.code, 1);
        QVERIFY2(down.err.contains("judge: all 16 requests failed, nothing stored: "), qPrintable(down.err));
        QVERIFY2(down.err.trimmed().endsWith("127.0.0.1:1/v1/chat/completions: cannot connect"), qPrintable(down.err));
        // Garbage: a 200 reply that is not a chat completion; the first task's 8 requests, then it stops asking.
        {
            StubServer garbage([](const std::string&) { return std::string("<html>busy</html>"); });
            Outcome g = runMatrix({"bench", "score", "--db", m_agentx, "--run", "2", "--judge-url", garbage.url(),
                                   "--judge-model", "m"});
            QCOMPARE(g.code, 1);
            QVERIFY2(g.err.contains("all 16 requests failed, nothing stored: judge reply is not JSON"), qPrintable(g.err));
            QCOMPARE(int(garbage.requests().size()), 8);
        }
        // No number in the reply, or one outside [0, 1].
        {
            StubServer words([](const std::string&) { return chat_reply("It is quite good."); });
            Outcome w = runMatrix({"bench", "score", "--db", m_agentx, "--run", "2", "--judge-url", words.url(),
                                   "--judge-model", "m"});
            QCOMPARE(w.code, 1);
            QVERIFY2(w.err.contains("judge reply holds no score: It is quite good."), qPrintable(w.err));
        }
        // Nothing was stored for run 2.
        const json j = json::parse(runMatrix({"bench", "score", "--db", m_agentx, "--run", "2", "--json"}).out.toStdString());
        QVERIFY(!j["metrics"].contains("judge_grounding"));
        QVERIFY(j["notes"][0].get<std::string>().find("not configured") != std::string::npos);
        // Option errors: one line on stderr, exit 2.
        Outcome half = runMatrix({"bench", "score", "--db", m_agentx, "--run", "2", "--judge-url", "http://127.0.0.1:1/"});
        QCOMPARE(half.code, 2);
        QVERIFY(half.err.contains("give both --judge-url and --judge-model"));
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.remove("NO_SUCH_JUDGE_KEY");
        Outcome key = runMatrix({"bench", "score", "--db", m_agentx, "--run", "2", "--judge-url", "http://127.0.0.1:1/",
                                 "--judge-model", "m", "--judge-key-env", "NO_SUCH_JUDGE_KEY"},
                                env);
        QCOMPARE(key.code, 2);
        QVERIFY(key.err.contains("NO_SUCH_JUDGE_KEY"));
        Outcome scheme = runMatrix({"bench", "score", "--db", m_agentx, "--run", "2", "--judge-url", "ftp://127.0.0.1:1/v1",
                                    "--judge-model", "m"});
        QCOMPARE(scheme.code, 2);
        QVERIFY(scheme.err.contains("--judge-url must be an http:// or https:// URL"));
        // A GTA run has no judge metrics.
        Outcome gta = runMatrix({"bench", "score", "--db", m_gta, "--run", "1", "--judge-url", "http://127.0.0.1:1/",
                                 "--judge-model", "m"});
        QCOMPARE(gta.code, 1);
        QVERIFY(gta.err.contains("judge metrics are defined for Agent-X runs only"));
    }
};

QTEST_GUILESS_MAIN(TestCmdBench)
#include "test_cmd_bench.moc"
