// The minimal tool plugin (plugins/README.md): one tool, word_count(text) -> the number of words in the text.
#include <sstream>

#include "core/agent/plugin.h"

namespace {

using namespace matrix;
using namespace matrix::agent;

class WordCount : public Tool {
public:
    ToolSpec spec() const override {
        return {"word_count", "Counts the words of a text.", {{"text", "string", "the text", true}}, "integer"};
    }
    ToolStatus status() const override { return {true, "example plugin", {}}; }
    Result<nlohmann::json> call(const nlohmann::json& args, const ToolCallContext&) override {
        if (!args.contains("text") || !args["text"].is_string()) return make_error("word_count: text must be a string");
        std::istringstream in(args["text"].get<std::string>());
        int n = 0;
        for (std::string w; in >> w;) ++n;
        return nlohmann::json(n);
    }
};

void make_tools(const ToolHost&, PluginTools& out) {
    out.plugin = "word_count";
    out.version = "1";
    out.tools.push_back(std::make_shared<WordCount>());
}

}  // namespace

MATRIX_TOOL_PLUGIN(make_tools)
