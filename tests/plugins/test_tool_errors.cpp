// Every image tool plugin given bad arguments answers a clear error (which becomes the agent's observation) and
// never takes the host down: a missing file, a folder, a file that is not an image, a truncated PNG, a huge image
// (refused from its header, before decoding), a wrong type, a missing argument, positional arguments.
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "tests/support/tool_plugins.h"

using namespace matrix;

class TestToolErrors : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    agent::ToolRegistry m_tools;

    static nlohmann::json args_for(const std::string& tool, const nlohmann::json& image) {
        nlohmann::json a = {{"image_path", image}};
        if (tool == "segmentation") a["prompt"] = "[1, 1, 5, 5]";
        if (tool == "objectlocation") a["object"] = "cat";
        if (tool == "visualizer") a["question"] = "what?";
        return a;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        const std::string d = m_dir.path().toStdString();
        std::ofstream(d + "/fake.png") << "this is text, not a picture";
        // A PNG whose header claims 100000 x 100000 pixels (10 gigapixels): refused before any decoding.
        std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\x01\x86\xa0\0\x01\x86\xa0\x08\x02\0\0\0", 29);
        png += std::string(4, '\0') + std::string("\0\0\0\0IEND\xae\x42\x60\x82", 12);
        std::ofstream(d + "/huge.png", std::ios::binary) << png;
        // The first 200 bytes of a real PNG.
        std::ifstream real(test::data_image("cars.png"), std::ios::binary);
        std::string head(200, '\0');
        real.read(head.data(), 200);
        std::ofstream(d + "/truncated.png", std::ios::binary) << head;
        std::filesystem::create_directories(d + "/sub");
        agent::ToolHost host;  // a stand-in engine so the engine tools reach their argument checks
        host.vlm.backend = "stand-in";
        host.vlm.generate = [](const std::vector<tok::ChatMessage>&, int) -> Result<std::string> { return std::string("[]"); };
        m_tools = test::build_tool_plugins(host);
    }

    void bad_image_arguments_data() {
        QTest::addColumn<QString>("tool");
        QTest::addColumn<QString>("image");  // JSON
        QTest::addColumn<QString>("expected");  // after "<tool>: "
        for (const char* tool : {"ocr", "facedetection", "segmentation", "objectlocation", "visualizer"}) {
            auto row = [&](const char* tag, const char* image, const char* expected) {
                QTest::newRow((std::string(tool) + "/" + tag).c_str()) << tool << image << expected;
            };
            row("missing", "\"missing.png\"", "no such file: missing.png");
            row("folder", "\"sub\"", "sub is a folder, not a file");
            row("text", "\"fake.png\"", "fake.png is not an image file that can be decoded");
            row("truncated", "\"truncated.png\"", "truncated.png is not an image file that can be decoded");
            row("huge", "\"huge.png\"", "huge.png is too large (100000 x 100000 pixels; the tools take images up to 40 megapixels)");
            row("number", "5", "image_path must be a string, got a number");
            row("list", "[\"a.png\"]", "image_path must be a string, got a list");
            row("empty", "\"\"", "the file path is empty");
        }
    }
    void bad_image_arguments() {
        QFETCH(QString, tool);
        QFETCH(QString, image);
        QFETCH(QString, expected);
        const std::string name = tool.toStdString();
        auto r = test::call_tool(m_tools, name, args_for(name, nlohmann::json::parse(image.toStdString())), m_dir.path().toStdString());
        QCOMPARE(QString::fromStdString(test::error_of(r)), tool + ": " + expected);
    }

    void missing_and_positional_arguments() {
        for (const std::string name : {"ocr", "facedetection", "segmentation", "objectlocation", "visualizer"}) {
            nlohmann::json a = args_for(name, "x.png");
            a.erase("image_path");
            QCOMPARE(test::error_of(test::call_tool(m_tools, name, a, m_dir.path().toStdString())), name + ": missing argument image_path");
            QCOMPARE(test::error_of(test::call_tool(m_tools, name, nlohmann::json::array({"x.png"}), m_dir.path().toStdString())),
                     name + ": the arguments must be given by name");
        }
        QCOMPARE(test::error_of(test::call_tool(m_tools, "objectlocation", {{"image_path", "x.png"}}, "")),
                 std::string("objectlocation: missing argument object"));
        QCOMPARE(test::error_of(test::call_tool(m_tools, "visualizer", {{"image_path", "x.png"}, {"question", false}}, "")),
                 std::string("visualizer: question must be a string, got a boolean"));
    }
};

QTEST_MAIN(TestToolErrors)
#include "test_tool_errors.moc"
