// Steps <-> turns (core/conversation/steps.h) and the task turn (user_prompt.h): every M-TRACE record of the
// real subset becomes steps and the steps give back exactly its turns; observation_raw only where the turn is
// not the canonical rendering; the Pref-X sample and the demo's Pref-X file round-trip through
// steps_of_prefx_history / append_prefx_step; task turn helpers on hand-written cases.
#include <QtTest>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/conversation/action.h"
#include "core/conversation/observation.h"
#include "core/conversation/prefx_history.h"
#include "core/conversation/steps.h"
#include "core/conversation/user_prompt.h"

using namespace matrix;
using namespace matrix::conversation;
using nlohmann::json;

namespace {
json load(const std::string& path) {
    std::ifstream f(path);
    return json::parse(f);
}
}  // namespace

class TestSteps : public QObject {
    Q_OBJECT
private slots:
    void mtrace_round_trip() {
        const json d = load(MATRIX_SHARED_DIR "/data/mtrace/mtrace-subset-60.json");
        size_t records = 0, n_steps = 0, raw = 0, errors = 0;
        for (const json& rec : d) {
            const json& conv = rec["conversations"];
            std::vector<store::Step> steps;
            size_t first = 0;
            while (first < conv.size() && (conv[first]["from"] == "system" || first == 1)) ++first;
            QCOMPARE(first, size_t(2));  // system, task
            for (size_t i = first; i < conv.size(); ++i)
                QVERIFY(add_mtrace_turn(steps, conv[i]["from"].get<std::string>(), conv[i]["value"].get<std::string>()));
            json back = json::array();
            QVERIFY(for_each_mtrace_turn(steps, [&](const char* from, const std::string& value) {
                back.push_back({{"from", from}, {"value", value}});
                return true;
            }));
            QCOMPARE(back, json(std::vector<json>(conv.begin() + long(first), conv.end())));
            for (const store::Step& s : steps) {
                raw += s.observation_raw ? 1 : 0;
                errors += s.is_error ? 1 : 0;
                QCOMPARE(s.idx, int(&s - steps.data()));
                QCOMPARE(step_action(s), *s.action);
            }
            n_steps += steps.size();
            ++records;
        }
        QCOMPARE(records, size_t(60));
        QCOMPARE(n_steps, size_t(165));
        QCOMPARE(raw, size_t(0));  // every real observation turn is the canonical rendering
        QCOMPARE(errors, size_t(13));
        // Stopping early.
        std::vector<store::Step> steps;
        QVERIFY(add_mtrace_turn(steps, "assistant", "Thought: a\n\nCode:\n```py\nprint(1)\n```"));
        QVERIFY(add_mtrace_turn(steps, "user", "[OUTPUT OF STEP 0] Observation:\n1"));
        int visited = 0;
        QVERIFY(!for_each_mtrace_turn(steps, [&](const char*, const std::string&) { return ++visited < 1; }));
        QCOMPARE(visited, 1);
    }

    void placing_turns() {
        std::vector<store::Step> steps;
        // An observation before any action, two observations in a row, an unknown role.
        QVERIFY(add_mtrace_turn(steps, "user", "[OUTPUT OF STEP 0] Observation:\nearly"));
        QVERIFY(add_mtrace_turn(steps, "user", "no header"));
        QVERIFY(!add_mtrace_turn(steps, "system", "again"));
        QCOMPARE(steps.size(), size_t(2));
        QVERIFY(!steps[0].action && !steps[0].observation_raw);
        QCOMPARE(*steps[0].observation, std::string("early"));
        QCOMPARE(steps[1].idx, 1);
        QCOMPARE(*steps[1].observation, std::string("no header"));
        QCOMPARE(*steps[1].observation_raw, std::string("no header"));
        QCOMPARE(*observation_turn(steps[1]), std::string("no header"));
        // A wrong step number is kept verbatim too.
        store::Step s = step_from_action(3, "Thought: t\n\nCode:\n```py\nocr('a.jpg')\n```<end_action>");
        QCOMPARE(s.thought, std::string("t"));
        QCOMPARE(s.code, std::string("ocr('a.jpg')"));
        QCOMPARE(s.tool_calls.size(), size_t(1));
        QCOMPARE(s.tool_calls[0].arguments, std::string("{\"image_path\":\"a.jpg\"}"));
        set_step_observation(s, "[OUTPUT OF STEP 2] Error: boom");
        QVERIFY(s.is_error);
        QCOMPARE(*s.observation, std::string("boom"));
        QCOMPARE(*s.observation_raw, std::string("[OUTPUT OF STEP 2] Error: boom"));
        s.observation_raw.reset();
        QCOMPARE(*observation_turn(s), std::string("[OUTPUT OF STEP 3] Error: boom"));
        store::Step bare;
        QVERIFY(!observation_turn(bare));
        bare.thought = "x";
        bare.code = "y";
        QCOMPARE(step_action(bare), render_action("x", "y"));
    }

    void prefx_round_trip_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("records");
        QTest::addColumn<int>("with_history");
        QTest::newRow("sample") << QStringLiteral(MATRIX_SOURCE_DIR "/tests/data/prefx/prefx-sample.json") << 5 << 1;
        QTest::newRow("demo") << QStringLiteral(MATRIX_SOURCE_DIR "/resources/demo/prefx_demo.json") << 28 << 19;
    }
    // History -> steps -> history gives the same turns (task turn kept as is).
    void prefx_round_trip() {
        QFETCH(QString, file);
        QFETCH(int, records);
        QFETCH(int, with_history);
        const json d = load(file.toStdString());
        QCOMPARE(int(d.size()), records);
        int n_with_history = 0;
        for (const json& rec : d) {
            const json& history = rec["conversations"];
            const auto steps = steps_of_prefx_history(history);
            json back = json::array({history[0]});
            for (const store::Step& s : steps) append_prefx_step(back, *s.action, *observation_turn(s));
            QCOMPARE(back, history);
            n_with_history += steps.empty() ? 0 : 1;
            // Display turns: all of them, in order.
            const auto turns = prefx_history_turns(history.dump());
            QCOMPARE(turns.size(), history.size());
            for (size_t i = 0; i < turns.size(); ++i) {
                QCOMPARE(turns[i].from, history[i]["from"].get<std::string>());
                QCOMPARE(turns[i].value, history[i]["value"].get<std::string>());
            }
        }
        QCOMPARE(n_with_history, with_history);
        QVERIFY(prefx_history_turns("not json").empty());
        QVERIFY(prefx_history_turns("{}").empty());
        const auto odd = prefx_history_turns("[1, {\"value\": \"v\"}, {\"from\": 3, \"value\": \"w\"}, {\"from\": \"gpt\"}]");
        QCOMPARE(odd.size(), size_t(2));
        QCOMPARE(odd[0].from, std::string());
        QCOMPARE(odd[1].value, std::string("w"));
    }

    void task_turns() {
        const UserPrompt u = parse_user_prompt(
            "Picture 1: <img>data/a.png</img>\nPicture 2: <img>data/b.png</img>\nTask: Compare them.\n"
            "Attachment: x/a.png; x/b.png; ");
        QCOMPARE(u.pictures, (std::vector<std::string>{"data/a.png", "data/b.png"}));
        QCOMPARE(u.task, std::string("Compare them."));
        QCOMPARE(u.attachments, (std::vector<std::string>{"x/a.png", "x/b.png"}));
        const UserPrompt p = parse_user_prompt("<image>\n<image>\nTask: What?\n Attachment: a.jpg; b.jpg; ");
        QCOMPARE(p.image_placeholders, 2);
        QCOMPARE(p.task, std::string("What?"));
        QCOMPARE(p.attachments.size(), size_t(2));
        QCOMPARE(task_turn("Count."), std::string("Task: Count."));
        QCOMPARE(prefx_task_turn(2, "Task: What?"), std::string("<image>\n<image>\nTask: What?"));
        QCOMPARE(prefx_task_turn(0, "Task: What?"), std::string("Task: What?"));
        QCOMPARE(strip_picture_lines("Picture 1: <img>a.png</img>\nTask: x"), std::string("Task: x"));
        // Consecutive lines all go (a regex that consumed each line's newline used to keep every second one).
        QCOMPARE(strip_picture_lines("Picture 1: <img>a.png</img>\nPicture 2: <img>b.png</img>\nTask: x"),
                 std::string("Task: x"));
        QCOMPARE(strip_picture_lines("Task: x\nPicture 1: <img>a.png</img>\nmore"), std::string("Task: x\nmore"));
        QCOMPARE(std::string(task_query_of_turn("<image>\nTask: What is it?\n Attachment: a.jpg; ")),
                 std::string("What is it?\n "));
        QCOMPARE(std::string(task_query_of_turn("plain question")), std::string("plain question"));
    }
};

QTEST_GUILESS_MAIN(TestSteps)
#include "test_steps.moc"
