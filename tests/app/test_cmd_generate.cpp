// `matrix generate` end to end: runs the built binary on the fixture model with case 1's chat (system prompt, two
// images, the task text of reference.json's prompt1), greedy, 24 new tokens, and compares stdout with the decoded
// text of HF's greedy continuation `case1.generated`; bad input gives one clear stderr line and a non-zero exit.
#include <QtTest>

#include <cstring>
#include <vector>

#include "core/tokenizer/tokenizer.h"
#include "core/util/safetensors.h"
#include "tests/support/cli_run.h"

using namespace matrix;

namespace {
const QString k_fixture = QStringLiteral(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny");
using Run = matrix::testing::CliRun;
Run run(const QStringList& args) { return matrix::testing::run_matrix(args); }

QStringList case1_args() {
    return {"generate",
            "--model", k_fixture + "/tiny-qwen2vl",
            "--image", k_fixture + "/img_a.png",
            "--image", k_fixture + "/img_b.png",
            "--system", "You are a helpful assistant.",
            "--prompt", "Task: How many objects are in the two pictures?\nAttachment: img_a.png; img_b.png",
            "--max-new-tokens", "24"};
}
}  // namespace

class TestCmdGenerate : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        // `generate` exists only in builds with the engine (LibTorch) and image support (OpenCV).
        Run help = run({"generate", "--help"});
        if (help.code != 0) QSKIP("this matrix binary has no generate subcommand (built without LibTorch)");
    }

    void greedy_equals_fixture() {
        auto ref = SafetensorsFile::open((k_fixture + "/reference.safetensors").toStdString());
        QVERIFY(ref.ok());
        const TensorView* gen = (*ref)->find("case1.generated");
        QVERIFY(gen && gen->dtype == DType::I64 && gen->shape == std::vector<int64_t>({1, 24}));
        std::vector<int32_t> ids;
        for (int64_t i = 0; i < 24; ++i) {
            int64_t v;
            std::memcpy(&v, gen->data + i * 8, 8);
            ids.push_back(static_cast<int32_t>(v));
        }
        auto tk = tok::Tokenizer::load((k_fixture + "/tiny-qwen2vl").toStdString());
        QVERIFY(tk.ok());
        const std::string want = tk->decode(ids) + "\n";

        Run r = run(case1_args());
        QVERIFY2(r.code == 0, r.err.constData());
        QCOMPARE(r.out, QByteArray::fromStdString(want));
        // The chat rendered to case 1's 90 prompt tokens; 24 tokens generated, stopped by the length limit.
        QVERIFY2(r.err.startsWith("[90 prompt tokens"), r.err.constData());
        QVERIFY2(r.err.contains("finish: length"), r.err.constData());
    }

    void errors() {
        Run no_prompt = run({"generate", "--model", k_fixture + "/tiny-qwen2vl"});
        QCOMPARE(no_prompt.code, 2);
        Run bad_model = run({"generate", "--model", "/no/such/model", "--prompt", "x"});
        QCOMPARE(bad_model.code, 1);
        QVERIFY(bad_model.err.contains("/no/such/model"));
        QCOMPARE(bad_model.err.count('\n'), 1);
        Run bad_image = run({"generate", "--model", k_fixture + "/tiny-qwen2vl", "--image", "/no/such.png", "--prompt", "x"});
        QCOMPARE(bad_image.code, 1);
        QVERIFY(bad_image.err.contains("/no/such.png"));
    }
};

QTEST_GUILESS_MAIN(TestCmdGenerate)
#include "test_cmd_generate.moc"
