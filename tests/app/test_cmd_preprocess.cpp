// `matrix preprocess` end to end: runs the built binary on the fixture images and compares the written
// safetensors with HF's pixel values and grids; bad input gives one clear stderr line and exit 1/2.
#include <QtTest>

#include "tests/support/cli_run.h"

#include <cmath>
#include <cstring>

#include "core/util/safetensors.h"

using namespace matrix;

namespace {
const QString k_fixture = QStringLiteral(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny");
using Run = matrix::testing::CliRun;
Run run(const QStringList& args) { return matrix::testing::run_matrix(args); }
}  // namespace

class TestCmdPreprocess : public QObject {
    Q_OBJECT
private slots:
    void matches_fixture_data() {
        QTest::addColumn<QString>("image");
        QTest::addColumn<double>("tolerance");
        QTest::newRow("img_a") << "img_a.png" << 1e-5;
        QTest::newRow("img_b") << "img_b.png" << 1e-5;
        QTest::newRow("img_c resized") << "img_c.png" << 0.016;  // one 8-bit level, see test_qwen2vl_preprocess
    }
    void matches_fixture() {
        QFETCH(QString, image);
        QFETCH(double, tolerance);
        QTemporaryDir dir;
        QString out = dir.filePath("p.safetensors");
        Run r = run({"preprocess", "--image", k_fixture + "/" + image, "--min-pixels", "3136", "--max-pixels",
                     "125440", "--out", out});
        QVERIFY2(r.code == 0, r.err.constData());
        auto got = SafetensorsFile::open(out.toStdString());
        auto ref = SafetensorsFile::open((k_fixture + "/reference.safetensors").toStdString());
        QVERIFY(got.ok() && ref.ok());
        const TensorView* pv = (*got)->find("pixel_values");
        const TensorView* grid = (*got)->find("grid_thw");
        QVERIFY(pv && grid);
        QCOMPARE(pv->dtype, DType::F32);
        QCOMPARE(grid->dtype, DType::I64);
        QCOMPARE(grid->shape, (std::vector<int64_t>{1, 3}));
        const TensorView* rpv = (*ref)->find("pixel_values." + image.toStdString());
        const TensorView* rgrid = (*ref)->find("grid_thw." + image.toStdString());
        QCOMPARE(pv->shape, rpv->shape);
        QVERIFY(std::memcmp(grid->data, rgrid->data, 24) == 0);
        const float* a = reinterpret_cast<const float*>(pv->data);
        const float* b = reinterpret_cast<const float*>(rpv->data);
        double max_abs = 0;
        for (int64_t i = 0; i < pv->numel(); ++i) max_abs = std::max(max_abs, double(std::fabs(a[i] - b[i])));
        QVERIFY2(max_abs <= tolerance, qPrintable(QString::number(max_abs)));
        QVERIFY(r.out.contains("grid_thw"));
    }
    void two_images_concatenate() {
        QTemporaryDir dir;
        QString out = dir.filePath("p.safetensors");
        Run r = run({"preprocess", "--image", k_fixture + "/img_a.png", "--image", k_fixture + "/img_b.png",
                     "--min-pixels", "3136", "--max-pixels", "125440", "--out", out});
        QCOMPARE(r.code, 0);
        auto got = SafetensorsFile::open(out.toStdString());
        QVERIFY(got.ok());
        QCOMPARE((*got)->find("pixel_values")->shape, (std::vector<int64_t>{120, 1176}));
        QCOMPARE((*got)->find("grid_thw")->shape, (std::vector<int64_t>{2, 3}));
    }
    void errors() {
        QTemporaryDir dir;
        Run missing = run({"preprocess", "--image", "/no/such.png", "--out", dir.filePath("x.safetensors")});
        QCOMPARE(missing.code, 1);
        QVERIFY(missing.err.contains("/no/such.png"));
        QCOMPARE(missing.err.count('\n'), 1);
        Run bad_n = run({"preprocess", "--image", k_fixture + "/img_a.png", "--max-pixels", "lots", "--out",
                         dir.filePath("x.safetensors")});
        QCOMPARE(bad_n.code, 2);
        Run no_out = run({"preprocess", "--image", k_fixture + "/img_a.png"});
        QCOMPARE(no_out.code, 2);
        QVERIFY(no_out.err.contains("--out"));
    }
};

QTEST_GUILESS_MAIN(TestCmdPreprocess)
#include "test_cmd_preprocess.moc"
