// Qwen2-VL preprocessing against HF's Qwen2VLImageProcessor outputs in the fixture: grids exact for every
// image, pixel values within 1e-5 where no resize happens (img_a, img_b), and for the resized img_c the
// values close to PIL's bicubic (bounds below); smart_resize rules; decoding of JPEG, grayscale, RGBA and
// 16-bit files; errors that name the file.
#include <QtTest>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>

#include "core/image/qwen2vl_preprocess.h"
#include "core/image/resize_bicubic.h"
#include "core/image/smart_resize.h"
#include "core/util/safetensors.h"

using namespace matrix;
using namespace matrix::vision;

namespace {
const std::string k_fixture = std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny";

PreprocessConfig fixture_config() {
    PreprocessConfig c;  // reference.json: min_pixels 3136, max_pixels 125440, CLIP mean/std
    c.min_pixels = 3136;
    c.max_pixels = 125440;
    return c;
}

struct Diff {
    double mean_abs = 0, max_abs = 0;
};
Diff diff(const std::vector<float>& a, const float* b, size_t n) {
    Diff d;
    for (size_t i = 0; i < n; ++i) {
        double e = std::fabs(double(a[i]) - double(b[i]));
        d.mean_abs += e;
        d.max_abs = std::max(d.max_abs, e);
    }
    d.mean_abs /= double(n);
    return d;
}
}  // namespace

class TestQwen2vlPreprocess : public QObject {
    Q_OBJECT
    std::shared_ptr<SafetensorsFile> m_ref;

    const TensorView& ref(const std::string& name) {
        const TensorView* t = m_ref->find(name);
        if (!t) qFatal("missing %s", name.c_str());
        return *t;
    }

private slots:
    void initTestCase() {
        auto f = SafetensorsFile::open(k_fixture + "/reference.safetensors");
        QVERIFY(f.ok());
        m_ref = *f;
    }

    void smart_resize_rules_data() {
        QTest::addColumn<int>("h");
        QTest::addColumn<int>("w");
        QTest::addColumn<int>("min_px");
        QTest::addColumn<int>("max_px");
        QTest::addColumn<int>("want_h");
        QTest::addColumn<int>("want_w");
        QTest::newRow("img_a no resize") << 112 << 168 << 3136 << 125440 << 112 << 168;
        QTest::newRow("img_c round") << 250 << 333 << 3136 << 125440 << 252 << 336;
        // 42/28 = 1.5 and 70/28 = 2.5: Python rounds half to even -> 56 and 56.
        QTest::newRow("half to even") << 42 << 70 << 28 * 28 << 1 << 0 << 0;
        QTest::newRow("half to even big max") << 42 << 70 << 28 * 28 << 1000000 << 56 << 56;
        QTest::newRow("too big: floor") << 1000 << 2000 << 3136 << 125440 << 224 << 476;
        QTest::newRow("too small: ceil") << 20 << 30 << 3136 << 125440 << 56 << 84;
        QTest::newRow("7B default max") << 3000 << 4000 << 3136 << 1003520 << 840 << 1148;
    }
    void smart_resize_rules() {
        QFETCH(int, h);
        QFETCH(int, w);
        QFETCH(int, min_px);
        QFETCH(int, max_px);
        QFETCH(int, want_h);
        QFETCH(int, want_w);
        auto r = smart_resize(h, w, 28, min_px, max_px);
        if (want_h == 0) {
            QVERIFY(!r.ok());  // min > max
            return;
        }
        QVERIFY(r.ok());
        QCOMPARE(int(r->height), want_h);
        QCOMPARE(int(r->width), want_w);
        QVERIFY(r->height * r->width <= max_px || r->height == 28 || r->width == 28);
    }
    void smart_resize_rejects_extreme_aspect() {
        auto r = smart_resize(10, 2100);
        QVERIFY(!r.ok());
        QVERIFY(r.error().message.find("aspect ratio") != std::string::npos);
    }

    void fixture_images_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("resized");
        QTest::newRow("img_a") << "img_a.png" << false;
        QTest::newRow("img_b") << "img_b.png" << false;
        QTest::newRow("img_c") << "img_c.png" << true;
    }
    void fixture_images() {
        QFETCH(QString, name);
        QFETCH(bool, resized);
        std::string n = name.toStdString();
        auto out = preprocess_file(k_fixture + "/" + n, fixture_config());
        QVERIFY2(out.ok(), out.ok() ? "" : out.error().to_string().c_str());
        const TensorView& grid = ref("grid_thw." + n);
        const int64_t* g = reinterpret_cast<const int64_t*>(grid.data);
        QCOMPARE(out->grid_thw[0], g[0]);
        QCOMPARE(out->grid_thw[1], g[1]);
        QCOMPARE(out->grid_thw[2], g[2]);
        const TensorView& pv = ref("pixel_values." + n);
        QCOMPARE(pv.shape, (std::vector<int64_t>{out->n_patches, out->patch_dim}));
        QCOMPARE(out->patch_dim, int64_t(1176));
        Diff d = diff(out->pixel_values, reinterpret_cast<const float*>(pv.data), size_t(pv.numel()));
        qInfo("%s: mean |diff| %.3g, max |diff| %.3g", n.c_str(), d.mean_abs, d.max_abs);
        if (!resized) {
            QVERIFY(d.max_abs <= 1e-5);
        } else {
            // PIL-compatible resampling: one 8-bit level is (1/255)/std <= 0.0146 after normalising. Measured:
            // mean 9.2e-5, max 0.0146, i.e. ~0.6% of values one level off (float rounding of the kernel
            // weights). Bounds: at most one level anywhere, and on average < 5e-4 (~3% of values one level off).
            QVERIFY2(d.mean_abs < 5e-4, qPrintable(QString::number(d.mean_abs)));
            QVERIFY2(d.max_abs < 0.016, qPrintable(QString::number(d.max_abs)));
            // OpenCV's INTER_CUBIC (a = -0.75, no antialiasing) is measurably further from HF.
            PreprocessConfig cv = fixture_config();
            cv.resample = PreprocessConfig::Resample::OpenCvCubic;
            auto o = preprocess_file(k_fixture + "/" + n, cv);
            QVERIFY(o.ok());
            Diff dc = diff(o->pixel_values, reinterpret_cast<const float*>(pv.data), size_t(pv.numel()));
            qInfo("%s with OpenCV INTER_CUBIC: mean |diff| %.3g, max |diff| %.3g", n.c_str(), dc.mean_abs, dc.max_abs);
            QVERIFY(dc.mean_abs > d.mean_abs);
        }
    }

    void llamafactory_pre_resize() {
        // 1570x1053 photo, LLaMA-Factory image_max_pixels 768*768: sqrt(589824/1653210) = 0.5973 ->
        // 937x628 -> smart_resize (default limits) -> 924x616 -> grid 44x66.
        RgbImage img;
        img.width = 1570;
        img.height = 1053;
        img.data.assign(size_t(img.width) * size_t(img.height) * 3, 128);
        PreprocessConfig cfg;
        cfg.pre_max_pixels = 768 * 768;
        for (auto r : {PreprocessConfig::PreResample::Nearest, PreprocessConfig::PreResample::PilBicubic}) {
            cfg.pre_resample = r;
            auto out = preprocess(img, cfg);
            QVERIFY(out.ok());
            QCOMPARE(out->grid_thw, (std::array<int64_t, 3>{1, 44, 66}));
            // A flat grey image stays flat through either filter.
            QVERIFY(std::fabs(out->pixel_values[0] - (float(128 / 255.0) - cfg.mean[0]) / cfg.std[0]) < 1e-6f);
        }
        cfg.pre_max_pixels = 0;
        auto plain = preprocess(img, cfg);
        QVERIFY(plain.ok());
        QCOMPARE(plain->grid_thw, (std::array<int64_t, 3>{1, 58, 86}));  // 1053x1570 -> 812x1204 within 1003520
        // PIL NEAREST picks int((x + 0.5) * in / out).
        RgbImage ramp;
        ramp.width = 10;
        ramp.height = 1;
        for (int x = 0; x < 10; ++x) ramp.data.insert(ramp.data.end(), {uint8_t(x), uint8_t(x), uint8_t(x)});
        RgbImage small = resize_nearest_pil(ramp, 4, 1);
        QCOMPARE(int(small.at(0, 0, 0)), 1);  // int(0.5 * 2.5) = 1
        QCOMPARE(int(small.at(0, 1, 0)), 3);  // int(1.5 * 2.5) = 3
        QCOMPARE(int(small.at(0, 3, 0)), 8);  // int(3.5 * 2.5) = 8
    }

    void case1_concat() {
        auto a = preprocess_file(k_fixture + "/img_a.png", fixture_config());
        auto b = preprocess_file(k_fixture + "/img_b.png", fixture_config());
        QVERIFY(a.ok() && b.ok());
        PreprocessedBatch batch = concat({*a, *b});
        const TensorView& pv = ref("case1.pixel_values");
        QCOMPARE(pv.shape, (std::vector<int64_t>{batch.n_patches, batch.patch_dim}));
        QVERIFY(diff(batch.pixel_values, reinterpret_cast<const float*>(pv.data), size_t(pv.numel())).max_abs <= 1e-5);
        const int64_t* g = reinterpret_cast<const int64_t*>(ref("case1.grid_thw").data);
        QCOMPARE(batch.grid_thw.size(), size_t(2));
        for (int i = 0; i < 2; ++i)
            for (int k = 0; k < 3; ++k) QCOMPARE(batch.grid_thw[size_t(i)][size_t(k)], g[i * 3 + k]);
        QCOMPARE(a->n_merged_tokens() + b->n_merged_tokens(), int64_t(30));
    }

    void formats() {
        // The same pixels through PNG-gray, 16-bit, RGBA-opaque and lossless paths give the same output.
        auto base = load_rgb(k_fixture + "/img_b.png");
        QVERIFY(base.ok());
        cv::Mat rgb(base->height, base->width, CV_8UC3, base->data.data()), bgr;
        cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
        QTemporaryDir dir;
        auto path = [&](const char* f) { return dir.filePath(f).toStdString(); };
        auto ref_out = preprocess(*base, fixture_config());
        QVERIFY(ref_out.ok());

        cv::Mat bgra;
        cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
        QVERIFY(cv::imwrite(path("opaque.png"), bgra));
        cv::Mat b16;
        bgr.convertTo(b16, CV_16UC3, 257.0);  // v * 257: high byte == v
        QVERIFY(cv::imwrite(path("deep.png"), b16));
        for (const char* f : {"opaque.png", "deep.png"}) {
            auto o = preprocess_file(path(f), fixture_config());
            QVERIFY2(o.ok(), f);
            QCOMPARE(o->pixel_values, ref_out->pixel_values);
        }

        // Grayscale: R = G = B.
        cv::Mat gray(30, 40, CV_8UC1);
        cv::randu(gray, 0, 256);
        QVERIFY(cv::imwrite(path("gray.png"), gray));
        auto g = load_rgb(path("gray.png"));
        QVERIFY(g.ok());
        QCOMPARE(g->at(7, 9, 0), gray.at<uint8_t>(7, 9));
        QCOMPARE(g->at(7, 9, 2), gray.at<uint8_t>(7, 9));

        // RGBA with transparency composites onto white (transformers' convert_to_rgb).
        cv::Mat rgba(10, 10, CV_8UC4, cv::Scalar(0, 0, 200, 0));  // BGRA: red 200, fully transparent
        rgba.at<cv::Vec4b>(0, 0) = cv::Vec4b(0, 0, 200, 255);      // opaque pixel
        rgba.at<cv::Vec4b>(0, 1) = cv::Vec4b(0, 0, 200, 128);      // half transparent
        QVERIFY(cv::imwrite(path("alpha.png"), rgba));
        auto a = load_rgb(path("alpha.png"));
        QVERIFY(a.ok());
        QCOMPARE(int(a->at(0, 0, 0)), 200);
        QCOMPARE(int(a->at(0, 0, 1)), 0);
        QCOMPARE(int(a->at(0, 1, 0)), (200 * 128 + 255 * 127 + 127) / 255);
        QCOMPARE(int(a->at(0, 1, 1)), (255 * 127 + 127) / 255);
        QCOMPARE(int(a->at(5, 5, 0)), 255);

        // JPEG decodes, colours in the right order (lossy: close on a smooth image, not equal).
        cv::Mat smooth(112, 168, CV_8UC3);
        for (int y = 0; y < smooth.rows; ++y)
            for (int x = 0; x < smooth.cols; ++x)
                smooth.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar(40 + y), uchar(200 - x / 2), uchar(x + y / 2));  // BGR
        QVERIFY(cv::imwrite(path("smooth.jpg"), smooth, {cv::IMWRITE_JPEG_QUALITY, 95}));
        auto j = load_rgb(path("smooth.jpg"));
        QVERIFY(j.ok());
        QCOMPARE(j->width, 168);
        double err = 0;
        for (int y = 0; y < smooth.rows; ++y)
            for (int x = 0; x < smooth.cols; ++x)
                for (int c = 0; c < 3; ++c) err += std::abs(int(j->at(y, x, c)) - int(smooth.at<cv::Vec3b>(y, x)[2 - c]));
        err /= double(smooth.total() * 3);
        qInfo("jpeg q95 smooth image: mean |diff| %.3g levels", err);
        QVERIFY(err < 2.0);
        auto jp = preprocess_file(path("smooth.jpg"), fixture_config());
        QVERIFY(jp.ok());
        QCOMPARE(jp->grid_thw, (std::array<int64_t, 3>{1, 8, 12}));
    }

    void errors_name_the_file() {
        auto missing = preprocess_file("/no/such/image.png");
        QVERIFY(!missing.ok());
        QVERIFY(missing.error().to_string().find("/no/such/image.png") != std::string::npos);
        QTemporaryDir dir;
        std::string junk = dir.filePath("junk.png").toStdString();
        FILE* f = fopen(junk.c_str(), "wb");
        fputs("not an image at all", f);
        fclose(f);
        auto bad = preprocess_file(junk);
        QVERIFY(!bad.ok());
        QVERIFY(bad.error().to_string().find(junk) != std::string::npos);
        QVERIFY(bad.error().message.find("cannot decode") != std::string::npos);
    }

    void config_file() {
        QTemporaryDir dir;
        std::string p = dir.filePath("preprocessor_config.json").toStdString();
        FILE* f = fopen(p.c_str(), "wb");
        fputs(R"({"size": {"shortest_edge": 3136, "longest_edge": 12845056}, "patch_size": 14, "merge_size": 2,
                 "temporal_patch_size": 2, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.25, 0.25, 0.25]})", f);
        fclose(f);
        auto c = load_preprocess_config(dir.path().toStdString());
        QVERIFY2(c.ok(), c.ok() ? "" : c.error().to_string().c_str());
        QCOMPARE(c->min_pixels, int64_t(3136));
        QCOMPARE(c->max_pixels, int64_t(12845056));
        QCOMPARE(c->mean[1], 0.5f);
        QCOMPARE(c->std[2], 0.25f);
        QVERIFY(!load_preprocess_config("/no/such/dir").ok());
    }
};

QTEST_GUILESS_MAIN(TestQwen2vlPreprocess)
#include "test_qwen2vl_preprocess.moc"
