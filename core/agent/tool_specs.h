// The MATRIX agent tools' specs (names and parameters as in the M-TRACE system prompts and
// core/conversation/known_tools.cpp; descriptions are ours). Header-only so that tool plugins, which link no core
// library, give their tools the same specs. Included by tool.h.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace matrix::agent {

inline const std::vector<ToolSpec>& matrix_tool_specs() {
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

// The spec of one MATRIX tool by name (throws std::out_of_range for another name: a programming error).
inline const ToolSpec& matrix_tool_spec(const std::string& name) {
    for (const ToolSpec& s : matrix_tool_specs())
        if (s.name == name) return s;
    throw std::out_of_range("no MATRIX tool named " + name);
}

}  // namespace matrix::agent
