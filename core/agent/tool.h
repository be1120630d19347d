// Agent tools as the runtime sees them: a name, an argument schema, a description for the prompt, a backend
// status, and a call on JSON arguments. The sandbox generates a Python stub per tool from its spec; a stub's call
// comes back to the host and is dispatched here. A tool without a backend stays listed and says so: its status
// is recorded with the run, and a call answers with the reason (never an invented result).
// Thread safety: a registry is filled once, then read; Tool::call may be invoked from the agent loop's thread.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace matrix::agent {

struct ToolParam {
    std::string name;
    std::string type = "string";  // "string", "integer", "number", "boolean", "array", "object", "any"
    std::string description;
    bool required = true;
};

struct ToolSpec {
    std::string name;
    std::string description;
    std::vector<ToolParam> params;
    std::string output_type = "string";

    nlohmann::json to_json() const;  // {"name", "description", "params": [{name, type, description, required}], "output_type"}
};

struct ToolStatus {
    bool available = false;
    std::string backend;  // what answers the calls ("tesseract 5.3", "endpoint http://...", "none")
    std::string reason;   // why it is unavailable, when it is
};

// Where a call happens: the run's work folder (tools write their output files there) and the step.
struct ToolCallContext {
    std::string work_dir;
    int step = -1;
    int candidate = 0;  // which of the step's candidates called it
};

class Tool {
public:
    virtual ~Tool() = default;
    virtual ToolSpec spec() const = 0;
    virtual ToolStatus status() const = 0;
    // The tool's answer as a JSON value (text, list of boxes, a path), or an error whose message becomes the
    // ToolError the agent code sees.
    virtual Result<nlohmann::json> call(const nlohmann::json& args, const ToolCallContext& context) = 0;
};

// A tool that has no backend here: listed with its spec, every call fails with the reason.
class UnavailableTool : public Tool {
public:
    UnavailableTool(ToolSpec spec, std::string reason) : m_spec(std::move(spec)), m_reason(std::move(reason)) {}
    ToolSpec spec() const override { return m_spec; }
    ToolStatus status() const override { return {false, "none", m_reason}; }
    Result<nlohmann::json> call(const nlohmann::json&, const ToolCallContext&) override;

private:
    ToolSpec m_spec;
    std::string m_reason;
};

class ToolRegistry {
public:
    // Replaces a tool of the same name.
    void add(std::shared_ptr<Tool> tool);
    std::shared_ptr<Tool> find(const std::string& name) const;
    const std::vector<std::shared_ptr<Tool>>& tools() const { return m_tools; }
    std::vector<ToolSpec> specs() const;
    // {"tool name": {"available", "backend", "reason"}} for the run's settings.
    nlohmann::json status_json() const;
    // Only the named tools (in the given order); error naming an unknown one.
    Result<ToolRegistry> subset(const std::vector<std::string>& names) const;

    // Dispatches a call from agent code: an unknown tool or a failing call is an error with a clear message.
    Result<nlohmann::json> call(const std::string& name, const nlohmann::json& args, const ToolCallContext& context) const;

private:
    std::vector<std::shared_ptr<Tool>> m_tools;
};

// A registry with every MATRIX tool listed as unavailable (the plugins that give them backends register over it).
ToolRegistry matrix_tools_without_backends(const std::string& reason);

}  // namespace matrix::agent

// The MATRIX agent tools (the reference agent's tool set) as specs, in the order of the M-TRACE prompts:
// visualizer, ask_search_agent, inspect_file_as_text, objectlocation, facedetection, segmentation, image_edit,
// image_generator, ocr: matrix_tool_specs() and matrix_tool_spec(name). final_answer is not a tool: the sandbox
// provides it as control flow.
#include "core/agent/tool_specs.h"  // IWYU pragma: export
