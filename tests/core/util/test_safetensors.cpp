// safetensors reader/writer: reads the HF-written fixture (shapes, dtypes, values) and round-trips a file.
#include <QtTest>

#include <cstring>

#include "core/util/safetensors.h"

using namespace matrix;

class TestSafetensors : public QObject {
    Q_OBJECT
private slots:
    void reads_hf_fixture() {
        auto f = SafetensorsFile::open(std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny/tiny-qwen2vl/model.safetensors");
        QVERIFY2(f.ok(), f.ok() ? "" : f.error().to_string().c_str());
        auto t = (*f)->find("visual.patch_embed.proj.weight");
        QVERIFY(t);
        QCOMPARE(t->dtype, DType::F32);
        QCOMPARE(t->shape, (std::vector<int64_t>{32, 3, 2, 14, 14}));
        QVERIFY((*f)->find("lm_head.weight"));
        QVERIFY(!(*f)->find("no.such.tensor"));
    }
    void round_trip() {
        QTemporaryDir dir;
        std::string path = dir.filePath("x.safetensors").toStdString();
        std::vector<float> a{1.5f, -2.f, 3.25f, 0.f, 7.f, 8.f};
        std::vector<int64_t> b{1, 2, 3};
        QVERIFY(write_safetensors(path, {{"a", DType::F32, {2, 3}, a.data()}, {"b", DType::I64, {3}, b.data()}},
                                  {{"format", "pt"}}).ok());
        auto f = SafetensorsFile::open(path);
        QVERIFY(f.ok());
        QCOMPARE((*f)->tensors().size(), size_t(2));
        QCOMPARE((*f)->tensors()[0].name, std::string("a"));
        QCOMPARE((*f)->metadata().at("format"), std::string("pt"));
        auto ta = (*f)->find("a");
        QCOMPARE(ta->shape, (std::vector<int64_t>{2, 3}));
        QVERIFY(std::memcmp(ta->data, a.data(), 24) == 0);
        QVERIFY(std::memcmp((*f)->find("b")->data, b.data(), 24) == 0);
    }
    void rejects_corrupt_header() {
        QTemporaryDir dir;
        std::string path = dir.filePath("bad.safetensors").toStdString();
        FILE* fp = fopen(path.c_str(), "wb");
        uint64_t n = 1000;
        fwrite(&n, 8, 1, fp);
        fwrite("{}", 2, 1, fp);
        fclose(fp);
        auto f = SafetensorsFile::open(path);
        QVERIFY(!f.ok());
        QVERIFY(f.error().to_string().find("exceeds file size") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestSafetensors)
#include "test_safetensors.moc"
