// Replays the code of the 60 real M-TRACE records through the sandbox, one sandbox per record (its state carried
// from step to step, its system prompt's import list as the policy), with the MATRIX tools unavailable here.
// A step is comparable when its code calls no MATRIX tool, opens none of the record's files (not shipped), and every earlier step of its record reproduced its
// recorded observation (so the interpreter state is the one the record had); every comparable step must print
// exactly what the record says it printed. The counts are asserted and reported.
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include "core/agent/agent_loop.h"
#include "core/agent/sandbox.h"
#include "core/agent/tool.h"
#include "core/conversation/action.h"
#include "core/conversation/observation.h"

using namespace matrix;
using namespace matrix::agent;

class TestMtraceReplay : public QObject {
    Q_OBJECT

private slots:
    void comparable_steps_reproduce_their_observations() {
        std::ifstream in(MATRIX_SHARED_DIR "/data/mtrace/mtrace-subset-60.json");
        QVERIFY(in.good());
        const auto records = nlohmann::json::parse(in);
        QCOMPARE(records.size(), size_t(60));
        QTemporaryDir dir;
        const ToolRegistry tools = matrix_tools_without_backends("not available in the replay test");

        int steps = 0, with_tools = 0, comparable = 0, reproduced = 0, final_steps = 0, after_divergence = 0;
        QStringList differences;
        for (size_t r = 0; r < records.size(); ++r) {
            const auto& conv = records[r]["conversations"];
            SandboxOptions o;
            o.work_dir = (dir.path() + "/r" + QString::number(r)).toStdString();
            o.tools = tools.specs();
            o.step_timeout_s = 20;
            if (auto listed = authorized_imports_in_prompt(conv[0]["value"].get<std::string>())) o.authorized_imports = *listed;
            auto sandbox = Sandbox::start(o, [&](const std::string& name, const nlohmann::json& a, int c, const std::string& cwd) {
                return tools.call(name, a, ToolCallContext{cwd, -1, c});
            });
            QVERIFY2(sandbox.ok(), sandbox.ok() ? "" : sandbox.error().to_string().c_str());
            // The record's files (images, attachments) are not shipped: code that opens them cannot reproduce.
            std::vector<std::string> files;
            const auto& image = records[r]["image"];
            if (image.is_string()) files.push_back(image.get<std::string>());
            if (image.is_object())
                for (const auto& [key, path] : image.items()) files.push_back(path.get<std::string>());
            for (std::string& f : files) f = f.substr(f.find_last_of('/') + 1);
            bool in_sync = true;
            int k = 0;
            for (size_t i = 0; i < conv.size(); ++i) {
                if (conv[i]["from"] != "assistant") continue;
                const int step = k++;
                ++steps;
                const auto parsed = conversation::parse_action(conv[i]["value"].get<std::string>());
                if (!parsed.has_code) {
                    continue;  // a parse-error step: nothing runs (the record's runtime answered with the error)
                }
                bool uses_tool = false;
                for (const auto& call : parsed.tool_calls) uses_tool |= call.known && call.name != "final_answer";
                auto result = (*sandbox)->execute(parsed.code, step);
                QVERIFY(result.ok());
                if (parsed.is_final) {
                    ++final_steps;
                    continue;
                }
                for (const std::string& f : files) uses_tool |= !f.empty() && parsed.code.find(f) != std::string::npos;
                if (uses_tool) {
                    ++with_tools;
                    in_sync = false;  // the tool's answer is not reproducible here, nor what depends on it
                    continue;
                }
                if (!in_sync) {
                    ++after_divergence;
                    continue;
                }
                if (i + 1 >= conv.size()) continue;
                const auto observed = conversation::parse_observation(conv[i + 1]["value"].get<std::string>());
                if (!observed.well_formed || observed.is_error) {
                    in_sync = false;  // an error turn (e.g. the rate-limit errors of the data) is not a program output
                    continue;
                }
                ++comparable;
                if (!result->error && result->output == observed.text) {
                    ++reproduced;
                } else {
                    in_sync = false;
                    differences << QString("record %1 step %2: expected %3, got %4")
                                       .arg(r)
                                       .arg(step)
                                       .arg(QString::fromStdString(observed.text.substr(0, 120)).toHtmlEscaped())
                                       .arg(QString::fromStdString(result->error.value_or(result->output).substr(0, 120)));
                }
            }
        }
        qInfo("M-TRACE replay: %d assistant steps, %d call MATRIX tools or open the record's files, %d final, %d after a divergence, "
              "%d comparable, %d reproduced", steps, with_tools, final_steps, after_divergence, comparable, reproduced);
        for (const QString& d : differences) qInfo("%s", qPrintable(d));
        QCOMPARE(steps, 165);
        QCOMPARE(with_tools, 70);
        QCOMPARE(final_steps, 60);
        QCOMPARE(comparable, 11);
        QCOMPARE(reproduced, 11);
    }
};

QTEST_GUILESS_MAIN(TestMtraceReplay)
#include "test_mtrace_replay.moc"
