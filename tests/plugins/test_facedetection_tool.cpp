// The facedetection plugin (OpenCV cascade, opencv-data's frontal-face model): one face on a real photo from a
// Debian package (tests/data/images/astronaut.jpg, see tests/data/README.md) with its box enlarged 1.5x about the
// detection's centre, none on cars.png, and a photo drawn twice side by side gives two boxes, left to right.
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>

#include "tests/support/tool_plugins.h"

using namespace matrix;

class TestFaceDetectionTool : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    agent::ToolRegistry m_tools;

    std::vector<std::array<int, 4>> boxes(const std::string& image) {
        auto r = test::call_tool(m_tools, "facedetection", {{"image_path", image}}, m_dir.path().toStdString());
        if (!r.ok()) qFatal("%s", r.error().to_string().c_str());
        std::vector<std::array<int, 4>> out;
        for (const auto& b : *r) out.push_back({b[0].get<int>(), b[1].get<int>(), b[2].get<int>(), b[3].get<int>()});
        return out;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_tools = test::build_tool_plugins();
        QVERIFY(m_tools.find("facedetection"));
        const agent::ToolStatus s = m_tools.find("facedetection")->status();
        QVERIFY2(s.available, s.reason.c_str());
        QCOMPARE(s.backend, std::string("OpenCV " CV_VERSION " cascade haarcascade_frontalface_default.xml"));
    }

    void one_face_on_the_astronaut() {
        const auto b = boxes(test::test_data("images/astronaut.jpg"));
        QCOMPARE(b.size(), size_t(1));
        // The cascade's box is 93 x 93 at (177, 67); enlarged 1.5x about its centre (223.5, 113.5): 139.5 wide.
        QCOMPARE(b[0], (std::array<int, 4>{154, 44, 293, 183}));
        // The face (between the eyes, about (220, 105)) is inside.
        QVERIFY(b[0][0] < 220 && 220 < b[0][2] && b[0][1] < 105 && 105 < b[0][3]);
    }

    void no_face_on_cars() { QCOMPARE(boxes(test::data_image("cars.png")).size(), size_t(0)); }

    void two_faces_left_to_right() {
        cv::Mat one = cv::imread(test::test_data("images/astronaut.jpg"));
        cv::Mat two;
        cv::hconcat(one, one, two);
        const std::string file = m_dir.filePath("twice.png").toStdString();
        QVERIFY(cv::imwrite(file, two));
        const auto b = boxes("twice.png");
        QCOMPARE(b.size(), size_t(2));
        // Histogram equalisation sees another image, so the boxes may move by a few pixels.
        const std::array<int, 4> left{154, 44, 293, 183}, right{154 + 512, 44, 293 + 512, 183};
        for (int k = 0; k < 4; ++k) {
            QVERIFY2(std::abs(b[0][k] - left[k]) <= 8, QByteArray::number(b[0][k]));
            QVERIFY2(std::abs(b[1][k] - right[k]) <= 8, QByteArray::number(b[1][k]));
        }
    }
};

QTEST_MAIN(TestFaceDetectionTool)
#include "test_facedetection_tool.moc"
