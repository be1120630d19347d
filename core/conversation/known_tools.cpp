// The tools an agent may call, with parameter names in call order (used to name positional arguments).
// MATRIX: spec section 7, checked against the M-TRACE system prompt and MATRIX's tool classes. The prompt
// lists inspect_file_as_text's inputs as {question, file_path}, but that is a dict, not the signature: every
// version of the tool's forward() (and the spec) takes file_path first, so that is the positional order.
// visualizer follows the spec and the prompt (question, image_path); note that MATRIX's step-sampling copy
// (pref_data_generation/tongagent/tools/visual_qa.py) declares forward(image_path, question, query), so a
// positional visualizer call ran differently there. The M-TRACE subset has no positional visualizer call.
// GTA: the 14 tools of GTA-1's dataset.json (inputs in their declared order; CountGivenObject is declared
// with and without its optional bbox, the longer form is used). Agent-X: the names of
// tests/data/external/bench/agentx_toolmeta.json that GTA does not already have.
#include "core/conversation/known_tools.h"

namespace matrix::conversation {

const std::vector<KnownTool>& known_tools() {
    static const std::vector<KnownTool> tools = {
        // MATRIX agent tools (M-TRACE / Pref-X / the workbench's agent runtime)
        {"visualizer", {"question", "image_path"}, "matrix"},
        {"ask_search_agent", {"query"}, "matrix"},
        {"inspect_file_as_text", {"file_path", "question"}, "matrix"},
        {"objectlocation", {"object", "image_path"}, "matrix"},
        {"facedetection", {"image_path"}, "matrix"},
        {"segmentation", {"image_path", "prompt"}, "matrix"},
        {"image_edit", {"prompt", "image_path"}, "matrix"},
        {"image_generator", {"prompt"}, "matrix"},
        {"ocr", {"image_path"}, "matrix"},
        {"final_answer", {"answer"}, "matrix"},
        // GTA-1 benchmark tools
        {"OCR", {"image"}, "gta"},
        {"ImageDescription", {"image"}, "gta"},
        {"CountGivenObject", {"image", "text", "bbox"}, "gta"},
        {"RegionAttributeDescription", {"image", "bbox", "attribute"}, "gta"},
        {"TextToBbox", {"image", "text", "top1"}, "gta"},
        {"MathOCR", {"image"}, "gta"},
        {"Calculator", {"expression"}, "gta"},
        {"Solver", {"command"}, "gta"},
        {"Plot", {"command"}, "gta"},
        {"GoogleSearch", {"query", "k"}, "gta"},
        {"DrawBox", {"image", "bbox", "annotation"}, "gta"},
        {"AddText", {"image", "text", "position", "color"}, "gta"},
        {"TextToImage", {"keywords"}, "gta"},
        {"ImageStylization", {"image", "instruction"}, "gta"},
        // Agent-X tool names (the rest of its 14 are GTA's names above)
        {"ObjectCounter", {"image", "text"}, "agentx"},
        {"SceneDescriber", {"image"}, "agentx"},
        {"WebSearch", {"query", "k"}, "agentx"},
        {"RegionDescriber", {"image", "bbox", "attribute"}, "agentx"},
        {"LocateObjectByText", {"image", "text", "top1"}, "agentx"},
        {"CodePlotter", {"command"}, "agentx"},
        {"DrawBoundingBox", {"image", "bbox", "annotation"}, "agentx"},
        {"OverlayText", {"image", "text", "position", "color"}, "agentx"},
        {"ImageGenerator", {"keywords"}, "agentx"},
    };
    return tools;
}

const KnownTool* find_known_tool(std::string_view name) {
    for (const KnownTool& t : known_tools())
        if (t.name == name) return &t;
    return nullptr;
}

}  // namespace matrix::conversation
