// Reading teacher answers (core/synth/teacher_reply.h) and the synthesis prompts (synth_prompts.h): every form of
// JSON answer the reference's templates produce, each malformed answer's exact reason, query normalisation, and
// prompts bundled, overridden per project (with their hash) and filled.
#include <QtTest>

#include "core/store/project.h"
#include "core/synth/synth_prompts.h"
#include "core/synth/teacher_reply.h"
#include "core/util/sha256.h"

using namespace matrix;
using namespace matrix::synth;

class TestTeacherReply : public QObject {
    Q_OBJECT
private slots:
    void extract_json_data() {
        QTest::addColumn<QString>("answer");
        QTest::addColumn<QString>("value");   // compact JSON, or "" when rejected
        QTest::addColumn<QString>("reason");  // the rejection's to_string()
        QTest::newRow("fenced") << "Sure.\n```json\n{\"correct\": \"yes\"}\n```\nbye" << "{\"correct\":\"yes\"}" << "";
        QTest::newRow("reference markers") << "'''\n### start json\n{\"a\": [1, 2]}\n### end json\n'''" << "{\"a\":[1,2]}" << "";
        QTest::newRow("json start markers") << "### json start\n{\"a\": 1}\n### json end" << "{\"a\":1}" << "";
        QTest::newRow("bare list") << "Here: [{\"query\": \"q}\"}] done" << "[{\"query\":\"q}\"}]" << "";
        QTest::newRow("broken fence, balanced later") << "```json\n{\"a\": \n```\n{\"b\": 2}" << "{\"b\":2}" << "";
        QTest::newRow("empty") << "  \n\t" << "" << "empty answer";
        QTest::newRow("no json") << "I cannot do that." << "" << "no JSON: I cannot do that.";
        QTest::newRow("bad json") << "```json\n{'a': 1}\n```" << "" << "bad JSON:  {'a': 1} ";
        QTest::newRow("huge") << QString(101, 'x') << "" << "answer too long: 101 characters, limit 100";
    }
    void extract_json() {
        QFETCH(QString, answer);
        QFETCH(QString, value);
        QFETCH(QString, reason);
        const ParsedJson p = synth::extract_json(answer.toStdString(), 100);
        QCOMPARE(p.ok(), !value.isEmpty());
        if (p.ok()) QCOMPARE(QString::fromStdString(p.value->dump()), value);
        else QCOMPARE(QString::fromStdString(p.rejection.to_string()), reason);
    }

    void fields() {
        const auto j = nlohmann::json::parse("{\"q\": \"x\", \"e\": \" \", \"n\": 3, \"yn\": \"Yes.\", \"m\": \"maybe\", \"l\": [\"a\", 1]}");
        QVERIFY(!require_string(j, "q"));
        QCOMPARE(require_string(j, "missing")->to_string(), std::string("wrong fields: 'missing' is missing"));
        QCOMPARE(require_string(j, "e")->to_string(), std::string("wrong fields: 'e' is empty"));
        QCOMPARE(require_string(j, "n")->to_string(), std::string("wrong fields: 'n' is a number, not a string"));
        QVERIFY(!require_yes_no(j, "yn"));
        QCOMPARE(require_yes_no(j, "m")->to_string(), std::string("wrong fields: 'm' is \"maybe\", not yes or no"));
        QCOMPARE(require_string_list(j, "l")->to_string(), std::string("wrong fields: 'l' holds a number, not only strings"));
        QCOMPARE(require_string(nlohmann::json::array(), "q")->to_string(), std::string("wrong fields: expected an object, got array"));
    }

    void python_block() {
        auto ok = extract_python("Extended content: x\n```python\nprint(1)\n```\n", 1000);
        QCOMPARE(*ok.code, std::string("print(1)\n"));
        auto none = extract_python("Extended content: only words", 1000);
        QVERIFY(!none.code);
        QCOMPARE(none.rejection.to_string(), std::string("no code: Extended content: only words"));
        QCOMPARE(extract_python("", 1000).rejection.to_string(), std::string("empty answer"));
    }

    void normalisation() {
        QCOMPARE(normalise_query("  What's the COST, in $?  "), std::string("what s the cost in"));
        QCOMPARE(normalise_query("Calculate: $50 for electricity, $30."), normalise_query("calculate 50 for  electricity 30"));
        QCOMPARE(normalise_query("Größe?"), std::string("größe"));
    }

    void prompts() {
        auto p = store::Project::open(":memory:");
        QVERIFY(p.ok());
        for (const std::string& name : synth_prompt_names()) {
            auto bundled = load_synth_prompt(p->db(), name);
            QVERIFY2(bundled.ok(), name.c_str());
            QVERIFY(!bundled->overridden);
            QCOMPARE(bundled->sha256, sha256_hex(bundled_synth_prompt(name)));
            QVERIFY(!bundled->system.empty());
        }
        QVERIFY(!set_synth_prompt_override(p->db(), "queries", "no marker").ok());
        QVERIFY(!set_synth_prompt_override(p->db(), "nope", "a\n=== user ===\nb").ok());
        const std::string mine = "Be brief.\n=== user ===\nWrite {{n}} tasks like {{examples}}.\n";
        QVERIFY(set_synth_prompt_override(p->db(), "queries", mine).ok());
        auto over = load_synth_prompt(p->db(), "queries");
        QVERIFY(over->overridden);
        QCOMPARE(over->system, std::string("Be brief."));
        QCOMPARE(over->user, std::string("Write {{n}} tasks like {{examples}}."));
        QCOMPARE(over->sha256, sha256_hex(mine));
        QCOMPARE(*fill_prompt(over->user, {{"n", "3"}, {"examples", "{{n}}"}}), std::string("Write 3 tasks like {{n}}."));
        QCOMPARE(fill_prompt(over->user, {{"n", "3"}}).error().message, std::string("prompt placeholder {{examples}} has no value"));
        QVERIFY(set_synth_prompt_override(p->db(), "queries", "").ok());
        QVERIFY(!load_synth_prompt(p->db(), "queries")->overridden);
    }
};

QTEST_GUILESS_MAIN(TestTeacherReply)
#include "test_teacher_reply.moc"
