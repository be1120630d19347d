// The objectlocation tool: boxes of every instance of an object, in pixels. With a Qwen2-VL engine (the one the
// run lends, or an endpoint marked "box_format": "qwen2vl") the model is asked to ground the object and answers
// <|box_start|>(x1,y1),(x2,y2)<|box_end|> on Qwen2-VL's 0-1000 grid over the image, mapped here to pixels of the
// original image (x * width / 1000, rounded, clipped). Another endpoint is asked for JSON pixel boxes. The
// reference used OWL-ViT; without an engine the tool is unavailable. Answers [[x1, y1, x2, y2], ...] (an empty
// list when the answer holds no box).
#include <regex>

#include "core/agent/plugin.h"
#include "engine_choice.h"
#include "image_input.h"

namespace {

using namespace matrix;
using namespace matrix::agent;

class ObjectLocationTool : public Tool {
public:
    explicit ObjectLocationTool(const ToolHost& host) : m_engine(plugins::choose_engine(host, "objectlocation")) {}

    ToolSpec spec() const override { return matrix_tool_spec("objectlocation"); }
    ToolStatus status() const override { return plugins::engine_status(m_engine, "objectlocation"); }

    Result<nlohmann::json> call(const nlohmann::json& args, const ToolCallContext& context) override {
        MATRIX_TRY(std::string object, plugins::string_arg("objectlocation", args, "object"));
        MATRIX_TRY(std::string path, plugins::string_arg("objectlocation", args, "image_path"));
        if (object.find_first_not_of(" \t\n") == std::string::npos) return make_error("objectlocation: the object is empty");
        MATRIX_TRY(cv::Mat image, plugins::load_image("objectlocation", path, context));
        MATRIX_TRY(std::string file, plugins::input_file("objectlocation", path, context));
        const bool grid = m_engine.engine.box_format == "qwen2vl";
        const std::string prompt =
            grid ? "Locate every <|object_ref_start|>" + object + "<|object_ref_end|> in the image and output its bounding box."
                 : "Locate every " + object + " in the image (" + std::to_string(image.cols) + " x " + std::to_string(image.rows) +
                       " pixels). Answer only a JSON list of boxes [[x1, y1, x2, y2], ...] in pixels; [] when there is none.";
        tok::ChatMessage m{"user", {tok::ContentPart::make_image_file(file), tok::ContentPart::make_text(prompt)}};
        MATRIX_TRY(std::string answer, plugins::ask_engine(m_engine, "objectlocation", {m}, 256));
        return boxes_in(answer, grid, image.cols, image.rows);
    }

    // Boxes in the engine's answer: "(x1,y1),(x2,y2)" pairs (box tokens may have been dropped by decoding) on the
    // 0-1000 grid, or [x1, y1, x2, y2] pixel groups.
    static nlohmann::json boxes_in(const std::string& answer, bool grid, int width, int height) {
        nlohmann::json out = nlohmann::json::array();
        auto add = [&](double x1, double y1, double x2, double y2) {
            if (grid) {
                x1 = x1 * width / 1000.0;
                x2 = x2 * width / 1000.0;
                y1 = y1 * height / 1000.0;
                y2 = y2 * height / 1000.0;
            }
            auto clip = [](double v, int hi) { return std::max(0, std::min(hi, int(std::lround(v)))); };
            const int a = clip(std::min(x1, x2), width), b = clip(std::min(y1, y2), height);
            const int c = clip(std::max(x1, x2), width), d = clip(std::max(y1, y2), height);
            if (c > a && d > b) out.push_back({a, b, c, d});
        };
        static const std::regex pair(R"(\(\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*\)\s*,\s*\(\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*\))");
        static const std::regex group(R"(\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\])");
        const std::regex& re = grid ? pair : group;
        for (std::sregex_iterator it(answer.begin(), answer.end(), re), end; it != end; ++it)
            add(std::stod((*it)[1]), std::stod((*it)[2]), std::stod((*it)[3]), std::stod((*it)[4]));
        return out;
    }

private:
    plugins::EngineChoice m_engine;
};

void make_tools(const ToolHost& host, PluginTools& out) {
    out.plugin = "objectlocation";
    out.version = "1";
    out.tools.push_back(std::make_shared<ObjectLocationTool>(host));
}

}  // namespace

MATRIX_TOOL_PLUGIN(make_tools)
