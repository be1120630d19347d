// `matrix eval` end to end with the built binary: GTA step mode with the gold controller on all 229 items
// (ToolAcc = ArgAcc = 100, both scorers, the run id last); end-to-end on GTA items with the tiny fixture Qwen2-VL,
// killed with SIGKILL in the middle and resumed (every item gets its row, finished items are not redone, both
// scorers); an endpoint-driven run against a local OpenAI-compatible server with --workers 4; the error exits.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <csignal>
#include <signal.h>
#include <chrono>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/store/project.h"
#include "core/store/run_repo.h"
#include "core/store/trajectory_repo.h"
#include "tests/support/cli_run.h"
#include "tests/support/local_http_server.h"

using namespace matrix;
using matrix::testing::quiet_blas;
using matrix::testing::run_matrix;
using nlohmann::json;

namespace {
const QString k_model = QStringLiteral(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny/tiny-qwen2vl");
const QString k_gta = QStringLiteral(MATRIX_SHARED_DIR "/data/gta/dataset.json");
const QString k_agentx = QStringLiteral(MATRIX_SOURCE_DIR "/tests/data/bench/agentx/data.json");

// OpenBLAS's own threads busy-wait against each other on a small shared machine; one thread is what the
// tiny model needs (the figures in bench/results/eval.md say the same).
int64_t last_run_id(const QByteArray& out) {
    const QList<QByteArray> lines = out.trimmed().split('\n');
    if (lines.isEmpty() || !lines.last().startsWith("run ")) return -1;
    return lines.last().mid(4).toLongLong();
}

// Items named in progress lines "[k/n] ID: ..." of an output.
std::set<std::string> items_in(const QByteArray& out) {
    std::set<std::string> s;
    for (const QByteArray& line : out.split('\n')) {
        if (!line.startsWith('[')) continue;
        const int a = line.indexOf("] "), b = line.indexOf(": ", a);
        if (a > 0 && b > a) s.insert(line.mid(a + 2, b - a - 2).toStdString());
    }
    return s;
}

}  // namespace

class TestCmdEval : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    QString project_with_gta(const QString& name) {
        const QString db = m_dir.path() + "/" + name;
        auto r = run_matrix({"bench", "load", "--db", db, "--benchmark", "gta", k_gta});
        return r.code == 0 ? db : QString();
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void step_mode_gold_controller_on_all_items() {
        const QString db = project_with_gta("step.matrix");
        QVERIFY(!db.isEmpty());
        auto r = run_matrix({"eval", "run", "--db", db, "--benchmark", "gta", "--mode", "step", "--controller", "gold",
                             "--workers", "2", "--name", "gold check"});
        QVERIFY2(r.code == 0, r.err.constData());
        const int64_t run_id = last_run_id(r.out);
        QVERIFY(run_id > 0);
        QVERIFY(r.out.contains("[229/229] "));
        QVERIFY(r.out.contains(" tool_acc=100 "));
        QVERIFY(r.out.contains("official: arg_acc=100 "));
        QVERIFY(r.out.contains("\nmatrix: accuracy="));
        QCOMPARE(int(items_in(r.out).size()), 229);
        auto project = store::Project::open(db.toStdString());
        store::RunRepo runs(project->db());
        auto run = runs.get(run_id);
        QCOMPARE((*run)->name, std::string("gold check"));
        QCOMPARE((*run)->status, std::string("finished"));
        QCOMPARE(runs.results(run_id)->size(), size_t(229));
        // Shown beside imported runs: `matrix bench list` / compare read the same tables.
        auto list = run_matrix({"bench", "list", "--db", db});
        QCOMPARE(list.code, 0);
        QVERIFY(list.out.contains("gold check"));
    }

    void e2e_tiny_model_killed_then_resumed() {
        const QString db = project_with_gta("e2e.matrix");
        QVERIFY(!db.isEmpty());
        QProcess p;
        p.setProcessEnvironment(quiet_blas());
        p.start(matrix::testing::matrix_binary(),
                {"eval", "run", "--db", db, "--benchmark", "gta", "--mode", "e2e", "--model", k_model, "--limit", "5",
                 "--seed", "3", "--set", "max_steps=3", "--set", "max_new_tokens=6", "--set", "greedy=true",
                 "--set", "work_dir=" + m_dir.path() + "/runs"});
        QVERIFY(p.waitForStarted());
        QByteArray before;
        // Kill -9 as soon as two items are finished (more are still to come).
        for (int i = 0; i < 600 && !before.contains("[2/5]"); ++i) {
            p.waitForReadyRead(500);
            before += p.readAllStandardOutput();
        }
        QVERIFY2(before.contains("[2/5]"), p.readAllStandardError().constData());
        ::kill(pid_t(p.processId()), SIGKILL);
        QVERIFY(p.waitForFinished(30000));
        before += p.readAllStandardOutput();
        QCOMPARE(p.exitStatus(), QProcess::CrashExit);
        const std::set<std::string> done_before = items_in(before);
        QVERIFY(done_before.size() >= 2 && done_before.size() < 5);

        int64_t run_id = 0;
        std::map<std::string, std::pair<int64_t, std::string>> kept_rows;  // key -> trajectory, answer
        {
            auto project = store::Project::open(db.toStdString());
            store::RunRepo runs(project->db());
            auto list = runs.list(std::string("eval"));
            QCOMPARE(list->size(), size_t(1));
            run_id = list->front().id;
            QCOMPARE(list->front().status, std::string("running"));  // killed: nobody could mark it
            const auto rows = runs.results(run_id).value();
            for (const auto& row : rows) kept_rows[row.task_key] = {row.trajectory_id.value_or(0), row.answer.value_or("")};
        }
        auto again = run_matrix({"eval", "resume", "--db", db, "--run", QString::number(run_id)}, quiet_blas(), 600000);
        QVERIFY2(again.code == 0, again.err.constData());
        QCOMPARE(last_run_id(again.out), run_id);
        const std::set<std::string> done_after = items_in(again.out);
        for (const auto& k : done_after) QVERIFY2(!done_before.count(k), k.c_str());  // never redone
        QCOMPARE(done_before.size() + done_after.size(), size_t(5));
        QVERIFY(again.out.contains("[5/5] "));
        QVERIFY(again.err.contains("resuming: " + QByteArray::number(qlonglong(done_before.size())) + " of 5 items"));

        auto project = store::Project::open(db.toStdString());
        store::RunRepo runs(project->db());
        const auto rows = *runs.results(run_id);
        QCOMPARE(rows.size(), size_t(5));  // rows = items
        for (const auto& row : rows) {
            if (done_before.count(row.task_key)) QCOMPARE(row.trajectory_id.has_value(), true);
            // A random model never calls final_answer: forced answers, each with its trajectory.
            QVERIFY2(row.answer.has_value() || row.error.has_value(), row.task_key.c_str());
            const json scores = json::parse(row.scores);
            QVERIFY2(scores.contains("official") && scores.contains("matrix"), row.scores.c_str());
            const json extra = json::parse(row.extra.value_or("{}"));
            QCOMPARE(extra["status"].get<std::string>(), std::string("forced"));
        }
        // The items finished before the kill keep their trajectory and answer; no item got a second trajectory.
        for (const auto& row : rows) {
            if (!done_before.count(row.task_key)) continue;
            QVERIFY(kept_rows.count(row.task_key));
            QCOMPARE(row.trajectory_id.value_or(-1), kept_rows[row.task_key].first);
            QVERIFY2(row.answer.value_or("") == kept_rows[row.task_key].second, (row.task_key + ": [" + row.answer.value_or("") + "] vs [" + kept_rows[row.task_key].second + "]").c_str());
        }
        QCOMPARE(store::TrajectoryRepo(project->db()).list_for_run(run_id)->size(), size_t(5));
        auto run = runs.get(run_id);
        QCOMPARE((*run)->status, std::string("finished"));
        const json config = json::parse((*run)->config);
        QCOMPARE(config["mode"].get<std::string>(), std::string("e2e"));
        QCOMPARE(config["controller"]["kind"].get<std::string>(), std::string("local"));
        QCOMPARE(config["seed"].get<int>(), 3);
        // The tool plugins are built with the tests: OCR has its Tesseract backend and is recorded so.
        QCOMPARE(config["tool_status"]["ocr"]["available"].get<bool>(), true);
        QVERIFY2(config["tool_status"]["ocr"]["backend"].get<std::string>().rfind("tesseract", 0) == 0,
                 config["tool_status"]["ocr"].dump().c_str());
        QVERIFY(config["prompts"]["system_prompt"].is_string());
        QCOMPARE(config["sampling"]["max_steps"].get<int>(), 3);
        const json summary = json::parse((*run)->summary);
        QVERIFY(summary.contains("official") && summary.contains("matrix"));
        QVERIFY(summary["official"]["metrics"].contains("p_f1"));  // tool-category F1s
    }

    void endpoint_run_with_four_workers() {
        const QString db = project_with_gta("endpoint.matrix");
        QVERIFY(!db.isEmpty());
        std::atomic<int> calls{0};
        matrix::testing::LocalHttpServer server([&](const httplib::Request&, httplib::Response& res) {
            ++calls;
            std::this_thread::sleep_for(std::chrono::milliseconds(150));
            const json reply = {
                {"id", "c"}, {"object", "chat.completion"}, {"model", "served"},
                {"choices", json::array({{{"index", 0},
                                          {"message", {{"role", "assistant"},
                                                       {"content", "Thought: the menu says 12.\nCode:\n```py\nfinal_answer(\"12\")\n```"}}},
                                          {"finish_reason", "stop"}}})}};
            res.set_content(reply.dump(), "application/json");
        });
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        auto r = run_matrix({"eval", "run", "--db", db, "--benchmark", "gta", "--mode", "e2e", "--endpoint",
                             QString::fromStdString(server.url("/v1")), "--endpoint-model", "served", "--limit", "8",
                             "--workers", "4", "--set", "api_key_env=MATRIX_TEST_NO_SUCH_KEY",
                             "--set", "work_dir=" + m_dir.path() + "/endpoint-runs"},
                            env, 600000);
        QVERIFY2(r.code == 0, r.err.constData());
        const int64_t run_id = last_run_id(r.out);
        QVERIFY(r.out.contains("[8/8] "));
        QCOMPARE(calls.load(), 8);  // one step each: final_answer at once
        QVERIFY2(server.max_in_flight() >= 2 && server.max_in_flight() <= 4,
                 QByteArray::number(server.max_in_flight()).constData());
        auto project = store::Project::open(db.toStdString());
        store::RunRepo runs(project->db());
        const auto rows = *runs.results(run_id);
        QCOMPARE(rows.size(), size_t(8));
        for (const auto& row : rows) QCOMPARE(row.answer.value_or(""), std::string("12"));
        // Item 0's gold answer is 12: right under both scorers.
        for (const auto& row : rows) {
            if (row.task_key != "0") continue;
            const json scores = json::parse(row.scores);
            QCOMPARE(scores["official"].get<double>(), 1.0);
            QCOMPARE(scores["matrix"].get<double>(), 1.0);
        }
        const json config = json::parse((*runs.get(run_id))->config);
        QCOMPARE(config["eval"]["workers"].get<int>(), 4);
        QCOMPARE(config["controller"]["url"].get<std::string>(), server.url("/v1"));
    }

    // Agent-X end to end with a judge: the controller and the judge are two models behind one local server; the
    // judge's verdicts (by task and metric) land with the run and its judge metrics come out of the run itself.
    void agentx_e2e_with_judge() {
        const QString db = m_dir.path() + "/agentx.matrix";
        QCOMPARE(run_matrix({"bench", "load", "--db", db, "--benchmark", "agentx", k_agentx}).code, 0);
        std::atomic<int> controller_calls{0}, judge_calls{0};
        matrix::testing::LocalHttpServer server([&](const httplib::Request& req, httplib::Response& res) {
            const json body = json::parse(req.body);
            std::string content;
            if (body.value("model", "") == "judge") {
                ++judge_calls;
                const bool coffee = req.body.find("two coffees") != std::string::npos;
                if (req.body.find("'grounding'") != std::string::npos) content = coffee ? "0.9" : "0.4";
                else if (req.body.find("'goal_accuracy'") != std::string::npos) content = coffee ? "Score: 1" : "Score: 0";
                else content = coffee ? "0.75" : "0.25";
            } else {
                ++controller_calls;
                content = "Thought: done.\nCode:\n```py\nfinal_answer(\"$7.00\")\n```";
            }
            const json reply = {{"id", "c"}, {"object", "chat.completion"}, {"model", body.value("model", "")},
                                {"choices", json::array({{{"index", 0},
                                                          {"message", {{"role", "assistant"}, {"content", content}}},
                                                          {"finish_reason", "stop"}}})}};
            res.set_content(reply.dump(), "application/json");
        });
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("MATRIX_TEST_JUDGE_KEY", "sekret");
        auto r = run_matrix({"eval", "run", "--db", db, "--benchmark", "agentx", "--mode", "e2e", "--endpoint",
                             QString::fromStdString(server.url("/v1")), "--endpoint-model", "served",
                             "--judge-url", QString::fromStdString(server.url("/v1/chat/completions")),
                             "--judge-model", "judge", "--judge-key-env", "MATRIX_TEST_JUDGE_KEY",
                             "--set", "work_dir=" + m_dir.path() + "/agentx-runs"},
                            env, 600000);
        QVERIFY2(r.code == 0, r.err.constData());
        const int64_t run_id = last_run_id(r.out);
        QCOMPARE(controller_calls.load(), 3);  // one step each: final_answer at once
        const int per_task = judge_calls.load() / 3;
        QVERIFY(per_task > 0 && judge_calls.load() == 3 * per_task);
        QVERIFY2(r.out.contains(QByteArray("judge: ") + QByteArray::number(3 * per_task) + " of " +
                                QByteArray::number(3 * per_task) + " verdicts stored"), r.out.constData());
        // The official scores (printed with the run) hold the judge metrics: ax-001 is the coffee task.
        auto s = run_matrix({"bench", "score", "--db", db, "--run", QString::number(run_id), "--json"});
        QCOMPARE(s.code, 0);
        const json j = json::parse(s.out.toStdString());
        QCOMPARE(j["metrics"]["judge_grounding"].get<double>(), 100.0 * (0.9 + 0.4 + 0.4) / 3);
        QCOMPARE(j["metrics"]["judge_goal_accuracy"].get<double>(), 100.0 * 1 / 3);
        QCOMPARE(j["metrics"]["judge_faithfulness"].get<double>(), 100.0 * (0.75 + 0.25 + 0.25) / 3);
        // The judge is recorded with the run (not its key), so a resume judges the same way.
        auto project = store::Project::open(db.toStdString());
        const json config = json::parse((*store::RunRepo(project->db()).get(run_id))->config);
        QCOMPARE(config["eval"]["judge"]["model"].get<std::string>(), std::string("judge"));
        QCOMPARE(config["eval"]["judge"]["key_env"].get<std::string>(), std::string("MATRIX_TEST_JUDGE_KEY"));
        QVERIFY(config.dump().find("sekret") == std::string::npos);
        // A judge on a GTA run is refused before anything runs.
        auto g = run_matrix({"eval", "run", "--db", db, "--benchmark", "gta", "--mode", "step", "--controller", "gold",
                             "--judge-url", "http://127.0.0.1:1/v1/chat/completions", "--judge-model", "judge"});
        QCOMPARE(g.code, 2);
        QVERIFY2(g.err.contains("matrix eval run: --judge-url applies to Agent-X runs"), g.err.constData());
    }

    void errors_name_the_problem() {
        const QString db = project_with_gta("err.matrix");
        auto none = run_matrix({"eval", "run", "--db", db, "--benchmark", "gta", "--mode", "step"});
        QCOMPARE(none.code, 1);
        QCOMPARE(none.err.trimmed(),
                 QByteArray("matrix: eval run: give one of --model DIR, --endpoint URL --endpoint-model NAME, --controller gold"));
        auto gold_e2e = run_matrix({"eval", "run", "--db", db, "--benchmark", "gta", "--mode", "e2e", "--controller", "gold"});
        QCOMPARE(gold_e2e.code, 1);
        QCOMPARE(gold_e2e.err.trimmed(), QByteArray("matrix: eval run: the gold controller answers step-by-step mode only "
                                                    "(e2e has no gold step to replay)"));
        auto gaia = run_matrix({"eval", "run", "--db", db, "--benchmark", "gaia", "--mode", "e2e", "--controller", "gold"});
        QCOMPARE(gaia.code, 1);
        auto mode = run_matrix({"eval", "run", "--db", db, "--benchmark", "gta", "--mode", "fast", "--controller", "gold"});
        QCOMPARE(mode.code, 1);
        QCOMPARE(mode.err.trimmed(), QByteArray("matrix: eval run: --mode must be step or e2e"));
        auto resume = run_matrix({"eval", "resume", "--db", db, "--run", "42"});
        QCOMPARE(resume.code, 1);
        QCOMPARE(resume.err.trimmed(), QByteArray("matrix: no eval run 42"));
        auto sub = run_matrix({"eval", "fly"});
        QCOMPARE(sub.code, 1);
        auto help = run_matrix({"eval", "--help"});
        QCOMPARE(help.code, 0);
        QVERIFY(help.out.contains("--controller gold|perturbed"));
    }
};

QTEST_GUILESS_MAIN(TestCmdEval)
#include "test_cmd_eval.moc"
