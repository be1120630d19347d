// `matrix agent` end to end with the built binary: replay (a JSON list of code strings in one sandbox state),
// run on the tiny fixture Qwen2-VL (a random model: it never writes a code block, so every step is a parse error
// and the step limit ends in a forced answer; the trajectory is stored step by step with its run), resume of a
// finished run, and the error exits.
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/store/project.h"
#include "core/store/run_repo.h"
#include "core/store/trajectory_repo.h"
#include "tests/support/cli_run.h"

using namespace matrix;
using matrix::testing::run_matrix;

namespace {
const QString k_model = QStringLiteral(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny/tiny-qwen2vl");
const QString k_image = QStringLiteral(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny/img_a.png");
}  // namespace

class TestCmdAgent : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void replay_prints_each_observation() {
        const QString actions = m_dir.path() + "/actions.json";
        std::ofstream(actions.toStdString()) << nlohmann::json::array(
            {"x = 20\nprint('x =', x)", "print(x + 1)\nprint(undefined)", "import os", "y = x * 2",
             "final_answer(y)"}).dump();
        auto r = run_matrix({"agent", "replay", "--actions", actions, "--workdir", m_dir.path() + "/replay", "--json"});
        QCOMPARE(r.code, 0);
        const auto out = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(out.dump(), nlohmann::json::parse(R"([
            {"observation": "x = 20\n", "error": null},
            {"observation": "21\n", "error": "NameError: name 'undefined' is not defined"},
            {"observation": "", "error": "ImportError: Import of os is not allowed. Authorized imports are: ['math', 're', 'json', 'datetime', 'time', 'collections', 'itertools', 'statistics', 'random', 'unicodedata', 'queue', 'numpy', 'pandas', 'PIL', 'cv2']"},
            {"observation": "", "error": null},
            {"observation": "", "error": null, "final_answer": 40}
        ])").dump());
        QVERIFY(r.err.contains("[sandbox: "));
        // Bad input: a list of something else.
        std::ofstream(actions.toStdString()) << "[1, 2]";
        auto bad = run_matrix({"agent", "replay", "--actions", actions, "--workdir", m_dir.path() + "/replay2"});
        QCOMPARE(bad.code, 1);
        QCOMPARE(bad.err.trimmed(), QByteArray("matrix: " + actions.toUtf8() + ": element 0 is not a string"));
    }

    void run_on_the_tiny_model_then_resume() {
        const QString db = m_dir.path() + "/agent.matrix";
        auto r = run_matrix({"agent", "run", "--db", db, "--model", k_model, "--task", "Describe the picture.",
                             "--image", k_image, "--max-steps", "3", "--seed", "7", "--set", "max_new_tokens=6",
                             "--set", "greedy=true", "--set", "work_dir=" + m_dir.path() + "/runs"},
                            QProcessEnvironment::systemEnvironment(), 300000);
        QVERIFY2(r.code == 0, r.err.constData());
        const QList<QByteArray> lines = r.out.trimmed().split('\n');
        QVERIFY(lines.last().startsWith("trajectory "));
        const int64_t trajectory_id = lines.last().mid(11).toLongLong();
        QVERIFY(r.out.contains("step 0 [error]\n"));
        QVERIFY(r.out.contains("task 1: forced (forced after max_steps): "));

        auto project = store::Project::open(db.toStdString());
        QVERIFY(project.ok());
        auto t = store::TrajectoryRepo(project->db()).get(trajectory_id, true);
        QVERIFY(t.ok() && t->has_value());
        const store::Trajectory& traj = **t;
        QCOMPARE(traj.source, std::string("run"));
        QCOMPARE(traj.steps.size(), size_t(3));
        for (const store::Step& s : traj.steps) {
            QVERIFY(s.is_error);
            QVERIFY(s.observation->rfind("Error in code parsing: the reply has no code block.", 0) == 0);
            const auto extra = nlohmann::json::parse(*s.extra);
            QCOMPARE(extra["tokens"].get<int>(), 6);  // max_new_tokens, greedy on a random model: no stop string
            QCOMPARE(extra["finish_reason"].get<std::string>(), std::string("length"));
        }
        const auto extra = nlohmann::json::parse(*traj.extra);
        QCOMPARE(extra["status"].get<std::string>(), std::string("forced"));
        QCOMPARE(extra["stop_reason"].get<std::string>(), std::string("max_steps"));
        QVERIFY(traj.final_answer.has_value());
        // The run row records what made it.
        auto run = store::RunRepo(project->db()).get(*traj.run_id);
        QVERIFY(run.ok() && run->has_value());
        QCOMPARE((*run)->kind, std::string("agent"));
        QCOMPARE((*run)->status, std::string("finished"));
        const auto config = nlohmann::json::parse((*run)->config);
        QCOMPARE(config["loop"]["seed"].get<int>(), 7);
        QCOMPARE(config["loop"]["max_steps"].get<int>(), 3);
        QCOMPARE(config["controller"]["kind"].get<std::string>(), std::string("local"));
        // Tools as the build's plugins give them: ocr by Tesseract, visualizer by the run's own model.
        QCOMPARE(config["tool_status"]["ocr"]["available"].get<bool>(), true);
        QCOMPARE(config["tool_status"]["ocr"]["backend"].get<std::string>().substr(0, 12), std::string("tesseract 5."));
        QCOMPARE(config["tool_status"]["visualizer"]["available"].get<bool>(), true);
        QVERIFY(config["tool_status"]["visualizer"]["backend"].get<std::string>().find("(the run's model, loaded when it starts)") !=
                std::string::npos);
        QCOMPARE(config["tool_status"]["image_generator"]["available"].get<bool>(), false);
        QVERIFY(config["sandbox"]["work_dir"].get<std::string>().find("/runs/run-") != std::string::npos);
        QVERIFY(config["sandbox"]["bubblewrap"].is_string());  // "usable" or why not, kept after the work folder is set
        // The image reached the model: the task's media row, and the prompt text names it.
        // Resume of a finished run keeps it as it is.
        auto again = run_matrix({"agent", "resume", "--db", db, "--run", QString::number(*traj.run_id)},
                                QProcessEnvironment::systemEnvironment(), 300000);
        QVERIFY2(again.code == 0, again.err.constData());
        QVERIFY(again.out.contains("task 1: forced"));
        QCOMPARE(store::TrajectoryRepo(project->db()).get(trajectory_id, true).value()->steps.size(), size_t(3));
    }

    void errors_name_the_problem() {
        const QString db = m_dir.path() + "/err.matrix";
        auto none = run_matrix({"agent", "run", "--db", db, "--task", "x"});
        QCOMPARE(none.code, 1);
        QCOMPARE(none.err.trimmed(), QByteArray("matrix: agent run: give --model DIR or --endpoint URL --endpoint-model NAME"));
        auto both = run_matrix({"agent", "run", "--db", db, "--model", k_model});
        QCOMPARE(both.code, 1);
        QCOMPARE(both.err.trimmed(), QByteArray("matrix: agent run: give exactly one of --task-id ID and --task TEXT"));
        auto key = run_matrix({"agent", "run", "--db", db, "--model", k_model, "--task", "x", "--set", "colour=red"});
        QCOMPARE(key.code, 1);
        QCOMPARE(key.err.trimmed(), QByteArray("matrix: unknown --set key \"colour\" (see matrix agent --help)"));
        auto tool = run_matrix({"agent", "run", "--db", db, "--model", k_model, "--task", "x", "--tools", "ocr,telepathy"});
        QCOMPARE(tool.code, 1);
        QVERIFY(tool.err.contains("unknown tool \"telepathy\""));
        auto sub = run_matrix({"agent", "fly"});
        QCOMPARE(sub.code, 1);
        QCOMPARE(sub.err.trimmed(), QByteArray("matrix: agent: unknown subcommand \"fly\" (run, resume, replay)"));
        auto resume = run_matrix({"agent", "resume", "--db", m_dir.path() + "/missing.matrix", "--run", "1"});
        QCOMPARE(resume.code, 1);
    }
};

QTEST_GUILESS_MAIN(TestCmdAgent)
#include "test_cmd_agent.moc"
