// The engine-backed tool plugins, objectlocation and visualizer: what they send to the engine and how grounding
// boxes are mapped (a stand-in engine answering Qwen2-VL box tokens on the 0-1000 grid, or pixel JSON), then end to
// end on the tiny Qwen2-VL fixture through LocalController::tool_engine() (its answers are random: the test checks
// that the answer is passed through, the boxes' shape and bounds, and greedy determinism), and the errors without
// an engine.
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <regex>

#include "tests/support/tool_plugins.h"
#ifdef MATRIX_HAVE_TORCH
#include "core/agent/local/local_controller.h"
#endif

using namespace matrix;

namespace {
struct StandIn {
    std::string answer;
    std::vector<std::vector<tok::ChatMessage>> calls;
    agent::ToolHost host(const std::string& box_format) {
        agent::ToolHost h;
        h.vlm.backend = "stand-in";
        h.vlm.box_format = box_format;
        h.vlm.generate = [this](const std::vector<tok::ChatMessage>& m, int) -> Result<std::string> {
            calls.push_back(m);
            return answer;
        };
        return h;
    }
};
}  // namespace

class TestEngineTools : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::string m_image;  // 640 x 480

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_image = m_dir.filePath("scene.png").toStdString();
        QVERIFY(cv::imwrite(m_image, cv::Mat(480, 640, CV_8UC3, cv::Scalar(90, 120, 150))));
    }

    void grounding_on_the_qwen2vl_grid() {
        StandIn engine;
        engine.answer = "<|object_ref_start|>cat<|object_ref_end|><|box_start|>(100,200),(500,750)<|box_end|> and "
                        "<|box_start|>(0,0),(1000,1000)<|box_end|> and (900,900),(950,1200) and (5,5),(5,9)";
        agent::ToolRegistry tools = test::build_tool_plugins(engine.host("qwen2vl"));
        QCOMPARE(tools.find("objectlocation")->status().backend, std::string("stand-in"));
        auto r = test::call_tool(tools, "objectlocation", {{"object", "cat"}, {"image_path", "scene.png"}}, m_dir.path().toStdString());
        QVERIFY2(r.ok(), test::error_of(r).c_str());
        // x * 640 / 1000, y * 480 / 1000; the third is clipped at the bottom, the fourth has no width.
        QCOMPARE(*r, nlohmann::json::parse("[[64, 96, 320, 360], [0, 0, 640, 480], [576, 432, 608, 480]]"));
        QCOMPARE(engine.calls.size(), size_t(1));
        const tok::ChatMessage& m = engine.calls[0][0];
        QCOMPARE(m.role, std::string("user"));
        QCOMPARE(m.content.size(), size_t(2));
        QCOMPARE(m.content[0].kind, tok::ContentPart::Kind::Image);
        QCOMPARE(m.content[0].path, m_image);  // the relative path resolved in the calling code's folder
        QCOMPARE(m.content[1].text, std::string("Locate every <|object_ref_start|>cat<|object_ref_end|> in the image and output its bounding box."));
    }

    void grounding_in_pixels_from_another_engine() {
        StandIn engine;
        engine.answer = "Here: [[10, 20, 30.6, 40], [600, 400, 700, 500]]";
        agent::ToolRegistry tools = test::build_tool_plugins(engine.host(""));
        auto r = test::call_tool(tools, "objectlocation", {{"object", "dog"}, {"image_path", m_image}}, "");
        QVERIFY(r.ok());
        QCOMPARE(*r, nlohmann::json::parse("[[10, 20, 31, 40], [600, 400, 640, 480]]"));
        QCOMPARE(engine.calls[0][0].content[1].text,
                 std::string("Locate every dog in the image (640 x 480 pixels). Answer only a JSON list of boxes "
                             "[[x1, y1, x2, y2], ...] in pixels; [] when there is none."));
        engine.answer = "I see none.";
        QCOMPARE(*test::call_tool(tools, "objectlocation", {{"object", "dog"}, {"image_path", m_image}}, ""), nlohmann::json::array());
    }

    void vqa_passes_the_question_and_image() {
        StandIn engine;
        engine.answer = "Three apples.";
        agent::ToolRegistry tools = test::build_tool_plugins(engine.host("qwen2vl"));
        auto r = test::call_tool(tools, "visualizer", {{"question", "How many apples?"}, {"image_path", m_image}}, "");
        QVERIFY(r.ok());
        QCOMPARE(r->get<std::string>(), std::string("Three apples."));
        QCOMPARE(engine.calls[0][0].content[0].path, m_image);
        QCOMPARE(engine.calls[0][0].content[1].text, std::string("How many apples?"));
        QCOMPARE(test::error_of(test::call_tool(tools, "visualizer", {{"question", "  "}, {"image_path", m_image}}, "")),
                 std::string("visualizer: the question is empty"));
    }

    void without_an_engine() {
        agent::ToolRegistry none = test::build_tool_plugins();
        for (const char* name : {"objectlocation", "visualizer"}) {
            const agent::ToolStatus s = none.find(name)->status();
            QCOMPARE(s.available, false);
            QCOMPARE(s.reason, "no model configured: run it with a local model or an endpoint as the controller, or set an "
                               "endpoint for it in the tool settings (" + std::string(name) + ")");
        }
        QCOMPARE(test::error_of(test::call_tool(none, "objectlocation", {{"object", "cat"}, {"image_path", m_image}}, "")),
                 std::string("objectlocation is unavailable: no model configured"));
        // Described (a dialog before the run) but not loaded.
        agent::ToolHost described;
        described.vlm.backend = "local Qwen2-VL /m";
        agent::ToolRegistry later = test::build_tool_plugins(described);
        QCOMPARE(later.find("visualizer")->status().available, true);
        QCOMPARE(test::error_of(test::call_tool(later, "visualizer", {{"question", "q"}, {"image_path", m_image}}, "")),
                 std::string("visualizer: the engine (local Qwen2-VL /m) is not loaded yet"));
        // A tool endpoint that cannot be used: unavailable with the reason.
        agent::ToolHost bad = described;
        bad.settings = {{"objectlocation", {{"endpoint", {{"url", 3}}}}}};
        bad.endpoint_vlm = [](const nlohmann::json&) -> Result<agent::VlmEngine> { return make_error("an endpoint needs {\"url\": ..., \"model\": ...}"); };
        agent::ToolRegistry broken = test::build_tool_plugins(bad);
        QCOMPARE(broken.find("objectlocation")->status().reason, std::string("its endpoint setting: an endpoint needs {\"url\": ..., \"model\": ...}"));
        QCOMPARE(broken.find("visualizer")->status().available, true);  // only objectlocation has the setting
    }

    void end_to_end_on_the_tiny_model() {
#ifndef MATRIX_HAVE_TORCH
        QSKIP("this build has no LibTorch engine");
#else
        agent::LocalControllerOptions o;
        o.model_dir = MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny/tiny-qwen2vl";
        auto controller = agent::LocalController::load(o);
        QVERIFY2(controller.ok(), controller.ok() ? "" : controller.error().to_string().c_str());
        agent::ToolHost host;
        host.vlm = (*controller)->tool_engine();
        QCOMPARE(host.vlm.box_format, std::string("qwen2vl"));
        std::vector<std::string> raw;
        auto inner = host.vlm.generate;
        host.vlm.generate = [&](const std::vector<tok::ChatMessage>& m, int n) -> Result<std::string> {
            auto r = inner(m, n);
            if (r.ok()) raw.push_back(*r);
            return r;
        };
        agent::ToolRegistry tools = test::build_tool_plugins(host);
        const std::string image = MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny/img_a.png";
        const cv::Mat pixels = cv::imread(image);
        auto boxes = test::call_tool(tools, "objectlocation", {{"object", "cat"}, {"image_path", image}}, "");
        QVERIFY2(boxes.ok(), test::error_of(boxes).c_str());
        QVERIFY(boxes->is_array());
        for (const auto& b : *boxes) {
            QCOMPARE(b.size(), size_t(4));
            QVERIFY(b[0].get<int>() >= 0 && b[0] < b[2] && b[2].get<int>() <= pixels.cols);
            QVERIFY(b[1].get<int>() >= 0 && b[1] < b[3] && b[3].get<int>() <= pixels.rows);
        }
        // The boxes are the grid pairs of the engine's own answer, mapped to pixels.
        QCOMPARE(raw.size(), size_t(1));
        static const std::regex pair(R"(\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*,\s*\(\s*(\d+)\s*,\s*(\d+)\s*\))");
        size_t pairs = 0;
        for (std::sregex_iterator it(raw[0].begin(), raw[0].end(), pair), end; it != end; ++it) ++pairs;
        QVERIFY(boxes->size() <= pairs);
        // Greedy: the same call gives the same answer.
        auto again = test::call_tool(tools, "objectlocation", {{"object", "cat"}, {"image_path", image}}, "");
        QCOMPARE(*again, *boxes);
        QCOMPARE(raw[1], raw[0]);

        auto answer = test::call_tool(tools, "visualizer", {{"question", "What colour is it?"}, {"image_path", image}}, "");
        QVERIFY2(answer.ok(), test::error_of(answer).c_str());
        QCOMPARE(answer->get<std::string>(), raw.back());
        QVERIFY(!raw.back().empty());
        // A bad image never reaches the engine.
        const size_t before = raw.size();
        QCOMPARE(test::error_of(test::call_tool(tools, "visualizer", {{"question", "q"}, {"image_path", "/nope.png"}}, "")),
                 std::string("visualizer: no such file: /nope.png"));
        QCOMPARE(raw.size(), before);
#endif
    }
};

QTEST_MAIN(TestEngineTools)
#include "test_engine_tools.moc"
