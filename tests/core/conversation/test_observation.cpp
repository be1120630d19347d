// Tests for observation turns (core/conversation/observation.h): every observation / error turn of the real
// M-TRACE subset parses with the right step and text and renders back byte for byte; the runtime's error
// texts rebuild the real error turns; hand-written header variants.
#include <QtTest>

#include <fstream>
#include <regex>
#include <nlohmann/json.hpp>

#include "core/conversation/observation.h"

using namespace matrix::conversation;
using nlohmann::json;

namespace {
const json& mtrace() {
    static const json d = [] {
        std::ifstream f(MATRIX_SHARED_DIR "/data/mtrace/mtrace-subset-60.json");
        return json::parse(f);
    }();
    return d;
}
}  // namespace

class TestObservation : public QObject {
    Q_OBJECT
private slots:
    void mtrace_observation_turns() {
        int observations = 0, errors = 0;
        for (const json& rec : mtrace()) {
            const json& conv = rec["conversations"];
            int assistant_turns = 0;
            bool first_user = true;
            for (const json& turn : conv) {
                if (turn["from"] == "assistant") ++assistant_turns;
                if (turn["from"] != "user") continue;
                const std::string v = turn["value"].get<std::string>();
                if (first_user) {  // the task turn has no header
                    first_user = false;
                    const ParsedObservation o = parse_observation(v);
                    QVERIFY(!o.well_formed && o.step == -1 && o.text == v);
                    continue;
                }
                const ParsedObservation o = parse_observation(v);
                QVERIFY(o.well_formed);
                QCOMPARE(o.step, assistant_turns - 1);  // k counts assistant steps from 0
                const std::string head = "[OUTPUT OF STEP " + std::to_string(o.step) + "] ";
                if (o.is_error) {
                    ++errors;
                    QCOMPARE(o.text, v.substr(head.size() + 7));
                } else {
                    ++observations;
                    QCOMPARE(o.text, v.substr(head.size() + 13));
                }
            }
        }
        QCOMPARE(observations, 92);
        QCOMPARE(errors, 13);
    }

    void observations_data() {
        QTest::addColumn<QString>("turn");
        QTest::addColumn<int>("step");
        QTest::addColumn<bool>("is_error");
        QTest::addColumn<bool>("well_formed");
        QTest::addColumn<QString>("text");
        QTest::newRow("observation") << "[OUTPUT OF STEP 0] Observation:\n3.0\n" << 0 << false << true << "3.0\n";
        QTest::newRow("observation same line") << "[OUTPUT OF STEP 12] Observation: done" << 12 << false << true << "done";
        QTest::newRow("empty observation") << "[OUTPUT OF STEP 3] Observation:" << 3 << false << true << "";
        QTest::newRow("error") << "[OUTPUT OF STEP 1] Error: Code execution failed\nretry" << 1 << true << true
                               << "Code execution failed\nretry";
        QTest::newRow("no header") << "just printed text" << -1 << false << false << "just printed text";
        QTest::newRow("bad step") << "[OUTPUT OF STEP x] Observation:\n1" << -1 << false << false
                                  << "[OUTPUT OF STEP x] Observation:\n1";
        QTest::newRow("unknown label") << "[OUTPUT OF STEP 2] Result: 5" << 2 << false << false << "Result: 5";
    }
    void observations() {
        QFETCH(QString, turn);
        QFETCH(int, step);
        QFETCH(bool, is_error);
        QFETCH(bool, well_formed);
        QFETCH(QString, text);
        const ParsedObservation o = parse_observation(turn.toStdString());
        QCOMPARE(o.step, step);
        QCOMPARE(o.is_error, is_error);
        QCOMPARE(o.well_formed, well_formed);
        QCOMPARE(QString::fromStdString(o.text), text);
    }

    void render() {
        QCOMPARE(render_observation(0, "2\n"), std::string("[OUTPUT OF STEP 0] Observation:\n2\n"));
        QCOMPARE(render_observation(3, "boom", true), std::string("[OUTPUT OF STEP 3] Error: boom"));
        QCOMPARE(render_observation(12, ""), std::string("[OUTPUT OF STEP 12] Observation:\n"));
        QCOMPARE(render_error_turn(1, execution_error("name 'x' is not defined")),
                 std::string("[OUTPUT OF STEP 1] Error: Code execution failed due to the following error:\n"
                             "name 'x' is not defined\nNow let's retry: take care not to repeat previous errors! "
                             "If you have retried several times, try a completely different approach.\n"));
        QCOMPARE(parsing_error("x"), std::string("Error in code parsing: x. Make sure to provide correct code"));
        QCOMPARE(with_retry_suffix("m"), "m" + std::string(k_retry_suffix));
    }

    // Every real turn renders back byte for byte from its parsed parts, and every real error turn is one of the
    // runtime's two error texts plus the retry suffix (8 parsing errors, all the missing-fence message, and 5
    // execution errors).
    void mtrace_turns_round_trip() {
        int turns = 0, parsing = 0, execution = 0;
        const std::string blob = parsing_error(code_blob_error("'NoneType' object has no attribute 'group'"));
        for (const json& rec : mtrace()) {
            bool first_user = true;
            for (const json& turn : rec["conversations"]) {
                if (turn["from"] != "user") continue;
                if (first_user) {
                    first_user = false;
                    continue;
                }
                const std::string v = turn["value"].get<std::string>();
                const ParsedObservation o = parse_observation(v);
                QVERIFY(o.well_formed);
                QCOMPARE(render_observation(o.step, o.text, o.is_error), v);
                ++turns;
                if (!o.is_error) continue;
                QVERIFY(o.text.size() > k_retry_suffix.size());
                const std::string message = o.text.substr(0, o.text.size() - k_retry_suffix.size());
                QCOMPARE(render_error_turn(o.step, message), v);
                if (message.rfind(k_parsing_error_prefix, 0) == 0) {
                    QCOMPARE(message, blob);
                    ++parsing;
                } else {
                    QVERIFY(message.rfind(k_execution_error_prefix, 0) == 0);
                    QCOMPARE(execution_error(message.substr(k_execution_error_prefix.size())), message);
                    ++execution;
                }
            }
        }
        QCOMPARE(turns, 105);
        QCOMPARE(parsing, 8);
        QCOMPARE(execution, 5);
    }

    // parse_logged_observation is the run importer's former regex, by hand: same verdict, error flag and
    // text on every case (the reference regex is built here).
    void logged_observations_match_regex() {
        const std::regex re("^\\[OUTPUT OF STEP (\\d+)\\]\\s*(?:->\\s*)?(Observation|Error):?[ \\t]*\\n?");
        const std::vector<std::string> cases = {
            "[OUTPUT OF STEP 0] Observation:\n3.0\n", "[OUTPUT OF STEP 12] Error: boom\nretry",
            "[OUTPUT OF STEP 1] -> Observation:\nx", "[OUTPUT OF STEP 1]->Error x", "[OUTPUT OF STEP 1]\n\nObservation\n\ny",
            "[OUTPUT OF STEP 1] Observation:  \t\nz", "[OUTPUT OF STEP 1] Observation: \r\nz",
            "[OUTPUT OF STEP 1] Observations: many", "[OUTPUT OF STEP 1] Result: 5", " [OUTPUT OF STEP 1] Observation:\nlead",
            "[OUTPUT OF STEP ] Observation:", "[OUTPUT OF STEP x] Observation:", "[OUTPUT OF STEP 123456789012] Error:",
            "[OUTPUT OF STEP 2] - > Observation:", "[OUTPUT OF STEP 2] ->", "[OUTPUT OF STEP 2]", "",
            "text\n[OUTPUT OF STEP 2] Observation:\nlater", "[OUTPUT OF STEP 2] Error::x", "[OUTPUT OF STEP 2]\vError\f:"};
        for (const std::string& c : cases) {
            std::smatch m;
            const bool matched = std::regex_search(c, m, re);
            const ParsedObservation o = parse_logged_observation(c);
            QVERIFY2(o.well_formed == matched, c.c_str());
            if (!matched) continue;
            QVERIFY2(o.is_error == (m[2] == "Error"), c.c_str());
            QVERIFY2(o.text == c.substr(size_t(m.length(0))), c.c_str());
        }
        QCOMPARE(parse_logged_observation("[OUTPUT OF STEP 7] Observation:\nok").step, 7);
    }

    void matrix_filter() {
        QVERIFY(matrix_error_observation("Code execution failed: NameError"));
        QVERIFY(matrix_error_observation("ERROR"));
        QVERIFY(matrix_error_observation("an eRRor."));
        QVERIFY(!matrix_error_observation("All fine"));
        QVERIFY(!matrix_error_observation("erro"));
    }
};

QTEST_GUILESS_MAIN(TestObservation)
#include "test_observation.moc"
