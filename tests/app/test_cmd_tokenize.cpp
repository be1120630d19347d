// `matrix tokenize` end to end: runs the built binary and compares its output with the fixture's HF ids.
#include <QtTest>

#include "tests/support/cli_run.h"

#include <nlohmann/json.hpp>

#include <fstream>

namespace {
const QString k_tok_dir = QStringLiteral(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny/tiny-qwen2vl");
using Run = matrix::testing::CliRun;
Run run(const QStringList& args) { return matrix::testing::run_matrix(args); }
}  // namespace

class TestCmdTokenize : public QObject {
    Q_OBJECT
private slots:
    void plain_ids() {
        Run r = run({"tokenize", "--tokenizer", k_tok_dir, "--text", "Hello world"});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QByteArray("39 68 75 319 284 290 560\n"));
    }
    void json_every_fixture_case() {
        std::ifstream in(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny/tokenizer_cases.json");
        auto cases = nlohmann::json::parse(in);
        QTemporaryDir dir;
        int i = 0;
        for (const auto& c : cases) {
            // Through a file, so newlines, tabs and \r survive exactly.
            QString path = dir.filePath(QString("case%1.txt").arg(i++));
            std::ofstream(path.toStdString(), std::ios::binary) << c["text"].get<std::string>();
            Run r = run({"tokenize", "--tokenizer", k_tok_dir + "/tokenizer.json", "--file", path, "--json"});
            QCOMPARE(r.code, 0);
            auto j = nlohmann::json::parse(r.out.toStdString());
            QCOMPARE(j["ids"], c["ids"]);
            QCOMPARE(j["tokens"], c["tokens"]);
            QCOMPARE(j["decoded"], c["decoded"]);
        }
    }
    void no_special() {
        Run r = run({"tokenize", "--tokenizer", k_tok_dir, "--text", "<|im_end|>", "--no-special"});
        QCOMPARE(r.code, 0);
        QVERIFY(!r.out.split(' ').contains("1802"));
        QVERIFY(r.out.trimmed().split(' ').size() > 1);
    }
    void decode_ids() {
        Run r = run({"tokenize", "--tokenizer", k_tok_dir, "--ids", "1801, 84 438 198 39 68 75 319 284 290 560 1802"});
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QByteArray("<|im_start|>user\nHello world<|im_end|>\n"));
        Run skip = run({"tokenize", "--tokenizer", k_tok_dir, "--ids", "[1801,39,68,75,319,1802]", "--skip-special"});
        QCOMPARE(skip.code, 0);
        QCOMPARE(skip.out, QByteArray("Hello\n"));
        Run bad = run({"tokenize", "--tokenizer", k_tok_dir, "--ids", "1 99999"});
        QCOMPARE(bad.code, 1);
        QVERIFY(bad.err.contains("99999"));
        Run junk = run({"tokenize", "--tokenizer", k_tok_dir, "--ids", "1 x"});
        QCOMPARE(junk.code, 2);
    }
    void errors() {
        Run missing = run({"tokenize", "--tokenizer", "/no/such/dir", "--text", "x"});
        QCOMPARE(missing.code, 1);
        QVERIFY(missing.err.contains("/no/such/dir"));
        QCOMPARE(missing.err.count('\n'), 1);
        Run both = run({"tokenize", "--tokenizer", k_tok_dir, "--text", "x", "--file", "y"});
        QCOMPARE(both.code, 2);
        Run help = run({"tokenize", "--help"});
        QCOMPARE(help.code, 0);
        QVERIFY(help.out.contains("usage: matrix tokenize"));
    }
};

QTEST_GUILESS_MAIN(TestCmdTokenize)
#include "test_cmd_tokenize.moc"
