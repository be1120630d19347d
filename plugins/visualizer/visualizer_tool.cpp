// The visualizer tool: answers a question about an image with the engine the run's controller lends (the same
// Qwen2-VL weights, greedy, as the reference's VQA tool answers deterministically) or the endpoint configured for
// the tool (tools.json {"visualizer": {"endpoint": {...}}}). Without either it is unavailable and says so.
#include "core/agent/plugin.h"
#include "engine_choice.h"
#include "image_input.h"

namespace {

using namespace matrix;
using namespace matrix::agent;

class VisualizerTool : public Tool {
public:
    explicit VisualizerTool(const ToolHost& host) : m_engine(plugins::choose_engine(host, "visualizer")) {}

    ToolSpec spec() const override { return matrix_tool_spec("visualizer"); }
    ToolStatus status() const override { return plugins::engine_status(m_engine, "visualizer"); }

    Result<nlohmann::json> call(const nlohmann::json& args, const ToolCallContext& context) override {
        MATRIX_TRY(std::string question, plugins::string_arg("visualizer", args, "question"));
        MATRIX_TRY(std::string path, plugins::string_arg("visualizer", args, "image_path"));
        if (question.find_first_not_of(" \t\n") == std::string::npos) return make_error("visualizer: the question is empty");
        // Checked here (exists, decodes, not too large) so a bad image is the agent's error, not the engine's.
        MATRIX_TRY(cv::Mat image, plugins::load_image("visualizer", path, context));
        MATRIX_TRY(std::string file, plugins::input_file("visualizer", path, context));
        tok::ChatMessage m{"user", {tok::ContentPart::make_image_file(file), tok::ContentPart::make_text(question)}};
        MATRIX_TRY(std::string answer, plugins::ask_engine(m_engine, "visualizer", {m}, 512));
        return nlohmann::json(answer);
    }

private:
    plugins::EngineChoice m_engine;
};

void make_tools(const ToolHost& host, PluginTools& out) {
    out.plugin = "visualizer";
    out.version = "1";
    out.tools.push_back(std::make_shared<VisualizerTool>(host));
}

}  // namespace

MATRIX_TOOL_PLUGIN(make_tools)
