// The inspect_file_as_text tool: a document's text (core/formats/documents/document_text.h, shared with the
// synthesis verifier), its first 70,000 characters as the
// reference keeps; with a question, the answer of the engine the run lends or of the tool's configured endpoint.
// Without an engine a question gets the text with a note saying no model answered (never an invented answer).
#include <archive.h>
#include <poppler/cpp/poppler-version.h>

#include "core/agent/plugin.h"
#include "core/formats/documents/document_text.h"
#include "engine_choice.h"
#include "tool_support.h"

namespace {

using namespace matrix;
using namespace matrix::agent;

constexpr size_t k_max_chars = 70000;

class InspectTool : public Tool {
public:
    explicit InspectTool(const ToolHost& host) : m_engine(plugins::choose_engine(host, "inspect_file_as_text")) {}

    ToolSpec spec() const override { return matrix_tool_spec("inspect_file_as_text"); }
    ToolStatus status() const override {
        std::string backend = "poppler-cpp " + poppler::version_string() + ", " + archive_version_string() + "; questions: ";
        const ToolStatus e = plugins::engine_status(m_engine, "inspect_file_as_text");
        backend += e.available ? e.backend : "no model (the text is returned with a note)";
        return {true, backend, {}};
    }

    Result<nlohmann::json> call(const nlohmann::json& args, const ToolCallContext& context) override {
        MATRIX_TRY(std::string path, plugins::string_arg("inspect_file_as_text", args, "file_path"));
        MATRIX_TRY(std::string question, plugins::string_arg("inspect_file_as_text", args, "question", false));
        MATRIX_TRY(std::string file, plugins::input_file("inspect_file_as_text", path, context));
        auto text = formats::document_text(file);
        if (!text.ok()) return make_error("inspect_file_as_text: " + path + ": " + text.error().message);
        const std::string body = formats::cap_document_text(*text, k_max_chars);
        if (question.empty()) return nlohmann::json(body);
        if (!m_engine.engine.described() || !m_engine.error.empty())
            return nlohmann::json("No model is configured to answer questions about files here, so here is the file's "
                                  "text; read the answer from it.\n\n" + body);
        const std::string prompt = "Here is the content of the file " + std::filesystem::path(path).filename().string() +
                                   ":\n\n" + body + "\n\nAnswer this question about the file, using only its content: " +
                                   question;
        MATRIX_TRY(std::string answer, plugins::ask_engine(m_engine, "inspect_file_as_text",
                                                           {tok::ChatMessage::make("user", prompt)}, 512));
        return nlohmann::json(answer);
    }

private:
    plugins::EngineChoice m_engine;
};

void make_tools(const ToolHost& host, PluginTools& out) {
    out.plugin = "inspect_file_as_text";
    out.version = "1";
    out.tools.push_back(std::make_shared<InspectTool>(host));
}

}  // namespace

MATRIX_TOOL_PLUGIN(make_tools)
