// Tool registry and the MATRIX tool specs (names and parameters as in the M-TRACE system prompts and
// core/conversation/known_tools.cpp; descriptions are ours).
#include "core/agent/tool.h"

#include <algorithm>

namespace matrix::agent {

nlohmann::json ToolSpec::to_json() const {
    nlohmann::json params_json = nlohmann::json::array();
    for (const ToolParam& p : params)
        params_json.push_back({{"name", p.name}, {"type", p.type}, {"description", p.description}, {"required", p.required}});
    return {{"name", name}, {"description", description}, {"params", params_json}, {"output_type", output_type}};
}

Result<nlohmann::json> UnavailableTool::call(const nlohmann::json&, const ToolCallContext&) {
    return make_error(m_spec.name + " is unavailable in this run: " + m_reason);
}

void ToolRegistry::add(std::shared_ptr<Tool> tool) {
    const std::string name = tool->spec().name;
    for (auto& t : m_tools) {
        if (t->spec().name == name) {
            t = std::move(tool);
            return;
        }
    }
    m_tools.push_back(std::move(tool));
}

std::shared_ptr<Tool> ToolRegistry::find(const std::string& name) const {
    for (const auto& t : m_tools)
        if (t->spec().name == name) return t;
    return nullptr;
}

std::vector<ToolSpec> ToolRegistry::specs() const {
    std::vector<ToolSpec> out;
    for (const auto& t : m_tools) out.push_back(t->spec());
    return out;
}

nlohmann::json ToolRegistry::status_json() const {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& t : m_tools) {
        const ToolStatus s = t->status();
        nlohmann::json entry = {{"available", s.available}, {"backend", s.backend}};
        if (!s.reason.empty()) entry["reason"] = s.reason;
        out[t->spec().name] = entry;
    }
    return out;
}

Result<ToolRegistry> ToolRegistry::subset(const std::vector<std::string>& names) const {
    ToolRegistry out;
    for (const std::string& n : names) {
        auto t = find(n);
        if (!t) {
            std::string known;
            for (const auto& k : m_tools) known += (known.empty() ? "" : ", ") + k->spec().name;
            return make_error("unknown tool \"" + n + "\" (known: " + known + ")");
        }
        out.add(t);
    }
    return out;
}

Result<nlohmann::json> ToolRegistry::call(const std::string& name, const nlohmann::json& args,
                                          const ToolCallContext& context) const {
    auto t = find(name);
    if (!t) return make_error("there is no tool named " + name);
    try {
        return t->call(args, context);
    } catch (const std::exception& e) {
        return make_error(name + " failed: " + e.what());
    }
}

const std::vector<ToolSpec>& matrix_tool_specs() {
    static const std::vector<ToolSpec> specs = [] {
        auto p = [](std::string name, std::string description, bool required = true) {
            return ToolParam{std::move(name), "string", std::move(description), required};
        };
        return std::vector<ToolSpec>{
            {"visualizer", "Answers a question about an image (description, counting, reading a chart).",
             {p("question", "the question about the image"), p("image_path", "a local image file")}, "string"},
            {"ask_search_agent", "Asks a web-search agent a full question with its context.",
             {p("query", "the question, as a full sentence")}, "string"},
            {"inspect_file_as_text",
             "Reads a document (pdf, docx, xlsx, html, txt, ...) and answers a question about it, or returns its text.",
             {p("file_path", "a local document"), p("question", "what to find; empty for the whole text", false)},
             "string"},
            {"objectlocation", "Bounding boxes [x1, y1, x2, y2] in pixels of every instance of an object in an image.",
             {p("object", "what to find"), p("image_path", "a local image file")}, "list"},
            {"facedetection", "Bounding boxes [x1, y1, x2, y2] in pixels of the faces in an image.",
             {p("image_path", "a local image file")}, "list"},
            {"segmentation", "Segments the region described by the prompt and returns the path of the mask image.",
             {p("image_path", "a local image file"), p("prompt", "the region, as boxes or words", false)}, "string"},
            {"image_edit", "Edits an image as the prompt says and returns the path of the new image.",
             {p("prompt", "the edit"), p("image_path", "a local image file")}, "string"},
            {"image_generator", "Draws an image from a text prompt and returns its path.",
             {p("prompt", "what to draw")}, "string"},
            {"ocr", "Reads the text in an image, line by line.", {p("image_path", "a local image file")}, "string"},
        };
    }();
    return specs;
}

ToolRegistry matrix_tools_without_backends(const std::string& reason) {
    ToolRegistry r;
    for (const ToolSpec& s : matrix_tool_specs()) r.add(std::make_shared<UnavailableTool>(s, reason));
    return r;
}

}  // namespace matrix::agent
