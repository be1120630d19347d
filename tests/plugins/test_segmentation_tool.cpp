// The segmentation plugin (grabCut seeded by boxes): a drawn disc is segmented from its box (area within 4% of
// pi r^2, centre in, box corners out), the label PNG and overlay are written in the work folder, the .npz is read
// back by NumPy itself (Debian's python3-numpy, allow_pickle=False), and prompts without boxes say why they cannot
// be served.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tests/support/tool_plugins.h"

using namespace matrix;

class TestSegmentationTool : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    agent::ToolRegistry m_tools;

    Result<nlohmann::json> segment(const nlohmann::json& args) {
        return test::call_tool(m_tools, "segmentation", args, m_dir.path().toStdString(), 3);
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_tools = test::build_tool_plugins();
        QVERIFY(m_tools.find("segmentation"));
        QCOMPARE(m_tools.find("segmentation")->status().available, true);
        // Two discs on a textured background.
        cv::Mat image(240, 320, CV_8UC3, cv::Scalar(235, 235, 235));
        cv::RNG rng(7);
        for (int i = 0; i < 400; ++i)
            cv::circle(image, {rng.uniform(0, 320), rng.uniform(0, 240)}, 2, cv::Scalar(200, 210, 220), -1);
        cv::circle(image, {100, 100}, 40, cv::Scalar(30, 30, 200), -1);
        cv::circle(image, {250, 170}, 30, cv::Scalar(200, 60, 30), -1);
        QVERIFY(cv::imwrite(m_dir.filePath("discs.png").toStdString(), image));
    }

    void segments_the_boxed_discs() {
        auto r = segment({{"image_path", "discs.png"}, {"prompt", "[[50, 50, 150, 150], [210, 130, 290, 210]]"}});
        QVERIFY2(r.ok(), test::error_of(r).c_str());
        const std::string dir = m_dir.path().toStdString();
        QCOMPARE((*r)["overlay"].get<std::string>(), dir + "/segmentation_overlay_step3_0.png");
        QCOMPARE((*r)["mask_image"].get<std::string>(), dir + "/segmentation_mask_step3_0.png");
        QCOMPARE((*r)["masks"].get<std::string>(), dir + "/segmentation_masks_step3_0.npz");
        QCOMPARE((*r)["boxes"], nlohmann::json::parse("[[50, 50, 150, 150], [210, 130, 290, 210]]"));
        const double a0 = (*r)["areas"][0].get<double>(), a1 = (*r)["areas"][1].get<double>();
        QVERIFY2(std::abs(a0 - M_PI * 40 * 40) / (M_PI * 40 * 40) < 0.04, QByteArray::number(a0));
        QVERIFY2(std::abs(a1 - M_PI * 30 * 30) / (M_PI * 30 * 30) < 0.04, QByteArray::number(a1));
        cv::Mat labels = cv::imread((*r)["mask_image"].get<std::string>(), cv::IMREAD_UNCHANGED);
        QCOMPARE(labels.type(), CV_8UC1);
        QCOMPARE(int(labels.at<uint8_t>(100, 100)), 1);
        QCOMPARE(int(labels.at<uint8_t>(170, 250)), 2);
        QCOMPARE(int(labels.at<uint8_t>(52, 52)), 0);
        QCOMPARE(int(labels.at<uint8_t>(10, 300)), 0);
        cv::Mat overlay = cv::imread((*r)["overlay"].get<std::string>());
        QCOMPARE(overlay.size(), cv::Size(320, 240));
        // A second call does not overwrite the first one's files.
        auto again = segment({{"image_path", "discs.png"}, {"prompt", nlohmann::json::parse("[50, 50, 150, 150]")}});
        QVERIFY(again.ok());
        QCOMPARE((*again)["masks"].get<std::string>(), dir + "/segmentation_masks_step3_1.npz");
        QCOMPARE((*again)["areas"][0], (*r)["areas"][0]);

        // NumPy reads the .npz without pickles.
        QProcess py;
        py.start("/usr/bin/python3", {"-c", "import numpy as np, sys\n"
                                            "z = np.load(sys.argv[1], allow_pickle=False)\n"
                                            "m = z['masks']; b = z['boxes']\n"
                                            "print(sorted(z.files), m.dtype, m.shape, int(m[0].sum()), int(m[1].sum()), int(m.max()), b.dtype, b.tolist())",
                                      QString::fromStdString((*r)["masks"].get<std::string>())});
        QVERIFY(py.waitForFinished(60000));
        const QString out = QString::fromUtf8(py.readAllStandardOutput()).trimmed();
        QVERIFY2(py.exitCode() == 0, qPrintable(QString::fromUtf8(py.readAllStandardError())));
        QCOMPARE(out, QString("['boxes', 'masks'] uint8 (2, 240, 320) %1 %2 1 int32 [[50, 50, 150, 150], [210, 130, 290, 210]]")
                          .arg(qint64(a0)).arg(qint64(a1)));
    }

    void prompts_without_boxes() {
        const std::string why = "segmentation is unavailable for this prompt: it needs boxes [x1, y1, x2, y2] in pixels (e.g. "
                                "from objectlocation); segmenting by words needs a text-promptable model, and none is configured";
        QCOMPARE(test::error_of(segment({{"image_path", "discs.png"}})), why);
        QCOMPARE(test::error_of(segment({{"image_path", "discs.png"}, {"prompt", "the red disc"}})), why);
        QCOMPARE(test::error_of(segment({{"image_path", "discs.png"}, {"prompt", 5}})),
                 std::string("segmentation: prompt must be boxes ([x1, y1, x2, y2] or a list of them) or text holding them"));
        QCOMPARE(test::error_of(segment({{"image_path", "discs.png"}, {"prompt", nlohmann::json::parse("[[1, 2, 3]]")}})),
                 std::string("segmentation: a box is [x1, y1, x2, y2]"));
        QCOMPARE(test::error_of(segment({{"image_path", "discs.png"}, {"prompt", "[400, 10, 500, 60]"}})),
                 std::string("segmentation: the box [400, 10, 500, 60] is empty or outside the 320 x 240 image"));
        std::string many;
        for (int i = 0; i < 21; ++i) many += "[1, 1, 20, 20] ";
        QCOMPARE(test::error_of(segment({{"image_path", "discs.png"}, {"prompt", many}})),
                 std::string("segmentation: at most 20 boxes at a time, got 21"));
    }
};

QTEST_MAIN(TestSegmentationTool)
#include "test_segmentation_tool.moc"
