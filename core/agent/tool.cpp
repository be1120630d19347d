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

ToolRegistry matrix_tools_without_backends(const std::string& reason) {
    ToolRegistry r;
    for (const ToolSpec& s : matrix_tool_specs()) r.add(std::make_shared<UnavailableTool>(s, reason));
    return r;
}

}  // namespace matrix::agent
