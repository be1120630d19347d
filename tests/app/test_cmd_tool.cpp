// `matrix tool` end to end (the built binary): --list with every tool's status and the plugins found (a user
// plugin through MATRIX_PLUGIN_PATH included), calls printing JSON, a tool error as exit 1 with one stderr line,
// an engine lent by --model (the tiny fixture), and bad settings. The user's own folders are kept out (XDG_*).
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include "tests/support/cli_run.h"

using namespace matrix;

namespace {
const QString k_fixture = QStringLiteral(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny");
}

class TestCmdTool : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QProcessEnvironment m_env;

    testing::CliRun run(const QStringList& args) { return testing::run_matrix(args, m_env); }
    static nlohmann::json json_of(const testing::CliRun& r) { return nlohmann::json::parse(r.out.toStdString(), nullptr, false); }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_env = QProcessEnvironment::systemEnvironment();
        m_env.insert("XDG_CONFIG_HOME", m_dir.path());
        m_env.insert("XDG_DATA_HOME", m_dir.path());
        m_env.remove("MATRIX_TOOL_SETTINGS");
        m_env.insert("MATRIX_PLUGIN_PATH", MATRIX_EXAMPLE_PLUGIN_DIR);
    }

    void lists_tools_and_plugins() {
        auto r = run({"tool", "--list", "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const nlohmann::json j = json_of(r);
        QCOMPARE(j["tools"]["ocr"]["available"].get<bool>(), true);
        QCOMPARE(j["tools"]["word_count"]["backend"].get<std::string>(), std::string("example plugin"));
        QCOMPARE(j["tools"]["visualizer"]["available"].get<bool>(), false);
        QCOMPARE(j["plugins"]["folders"].back().get<std::string>(), std::string(MATRIX_EXAMPLE_PLUGIN_DIR));
        auto plain = run({"tool", "--list"});
        QCOMPARE(plain.code, 0);
        const QString out = QString::fromUtf8(plain.out);
        QVERIFY2(out.contains("\nocr\tavailable\ttesseract 5."), plain.out.constData());
        QVERIFY(out.contains("\nask_search_agent\tunavailable\tno search backend configured"));
        QVERIFY(out.startsWith("visualizer\tunavailable\tno model configured"));
        QVERIFY(out.endsWith("word_count\tavailable\texample plugin\n"));
    }

    void calls_print_json() {
        auto r = run({"tool", "ocr", "--arg", "image_path=" MATRIX_SHARED_DIR "/data/images/receipt.jpg"});
        QVERIFY2(r.code == 0, r.err.constData());
        const nlohmann::json j = json_of(r);
        QCOMPARE(j["ok"].get<bool>(), true);
        QCOMPARE(j["tool"].get<std::string>(), std::string("ocr"));
        QVERIFY(j["result"].get<std::string>().find("$23.32") != std::string::npos);

        auto words = run({"tool", "word_count", "--arg", "text=three words here"});
        QCOMPARE(json_of(words)["result"].get<int>(), 3);

        auto seg = run({"tool", "segmentation", "--workdir", m_dir.path(), "--arg", "image_path=" + k_fixture + "/img_a.png",
                        "--arg-json", "prompt=[[2, 2, 20, 20]]"});
        QVERIFY2(seg.code == 0, seg.err.constData());
        const std::string overlay = json_of(seg)["result"]["overlay"].get<std::string>();
        QCOMPARE(overlay, (m_dir.path() + "/segmentation_overlay_0.png").toStdString());
        QVERIFY(QFileInfo::exists(QString::fromStdString(overlay)));
    }

    void errors() {
        auto missing = run({"tool", "facedetection", "--arg", "image_path=missing.png"});
        QCOMPARE(missing.code, 1);
        QCOMPARE(json_of(missing)["error"].get<std::string>(), std::string("facedetection: no such file: missing.png"));
        QCOMPARE(missing.err, QByteArray("matrix: tool facedetection: facedetection: no such file: missing.png\n"));
        auto unknown = run({"tool", "teleport"});
        QCOMPARE(unknown.code, 1);
        QVERIFY(unknown.err.startsWith("matrix: tool: no tool named \"teleport\" (known: visualizer, "));
        auto badarg = run({"tool", "ocr", "--arg", "image_path"});
        QCOMPARE(badarg.err, QByteArray("matrix: tool: --arg needs key=value, got \"image_path\"\n"));
        auto badjson = run({"tool", "segmentation", "--arg-json", "prompt=[1,"});
        QCOMPARE(badjson.err, QByteArray("matrix: tool: --arg-json prompt: not JSON\n"));
        const QString settings = m_dir.filePath("tools.json");
        QFile f(settings);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("[1, 2]");
        f.close();
        auto bad = run({"tool", "--list", "--settings", settings});
        QCOMPARE(bad.code, 1);
        QCOMPARE(bad.err, ("matrix: tool: " + settings + ": the tool settings are not a JSON object\n").toUtf8());
        QCOMPARE(run({"tool"}).code, 1);
    }

    // The agent's code calls the tools through the sandbox's stubs; relative paths are the code's folder's.
    void tools_from_agent_code() {
        const QString work = m_dir.filePath("replay");
        QVERIFY(QDir().mkpath(work));
        QVERIFY(QFile::copy(QStringLiteral(MATRIX_SOURCE_DIR "/tests/data/images/astronaut.jpg"), work + "/astronaut.jpg"));
        const QString actions = m_dir.filePath("actions.json");
        QFile f(actions);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(nlohmann::json::array({"faces = facedetection(image_path='astronaut.jpg')\nprint(len(faces), faces[0])",
                                       "print(facedetection(image_path='nobody.jpg'))",
                                       "print(word_count(text='one two'))"})
                    .dump()
                    .c_str());
        f.close();
        auto r = run({"agent", "replay", "--actions", actions, "--workdir", work, "--json", "--tools", "facedetection,word_count"});
        QVERIFY2(r.code == 0, r.err.constData());
        const nlohmann::json steps = json_of(r);
        QCOMPARE(steps[0]["observation"].get<std::string>(), std::string("1 [154, 44, 293, 183]\n"));
        QVERIFY(steps[0]["error"].is_null());
        QVERIFY2(steps[1]["error"].get<std::string>().find("facedetection: no such file: nobody.jpg") != std::string::npos,
                 steps[1].dump().c_str());
        QCOMPARE(steps[2]["observation"].get<std::string>(), std::string("2\n"));
    }

    void engine_lent_by_model() {
#ifndef MATRIX_HAVE_TORCH
        QSKIP("this build has no LibTorch engine");
#else
        auto r = run({"tool", "objectlocation", "--model", k_fixture + "/tiny-qwen2vl", "--arg", "object=cat", "--arg",
                      "image_path=" + k_fixture + "/img_a.png"});
        QVERIFY2(r.code == 0, r.err.constData());
        const nlohmann::json j = json_of(r);
        QVERIFY(j["result"].is_array());
        auto list = run({"tool", "--list", "--json", "--model", k_fixture + "/tiny-qwen2vl"});
        QCOMPARE(json_of(list)["tools"]["visualizer"]["backend"].get<std::string>(),
                 "local Qwen2-VL " + (k_fixture + "/tiny-qwen2vl").toStdString() + " (f32, cpu)");
#endif
    }
};

QTEST_GUILESS_MAIN(TestCmdTool)
#include "test_cmd_tool.moc"
