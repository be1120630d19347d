// Which engine answers a tool that needs a vision-language model: the endpoint the user configured for this tool
// (tools.json {"<tool>": {"endpoint": {"url", "model", "api_key_env"}}}) when there is one, else the engine the
// run's controller lends (core/agent/tool_host.h). Header-only, for the plugins.
#pragma once

#include <string>

#include "core/agent/tool_host.h"

namespace matrix::plugins {

struct EngineChoice {
    agent::VlmEngine engine;  // engine.backend empty: none
    std::string error;        // why a configured endpoint could not be used
};

inline EngineChoice choose_engine(const agent::ToolHost& host, const std::string& tool) {
    EngineChoice c;
    const nlohmann::json settings = host.tool_settings(tool);
    if (settings.contains("endpoint")) {
        if (!host.endpoint_vlm) {
            c.error = "this host cannot reach endpoints";
            return c;
        }
        auto made = host.endpoint_vlm(settings["endpoint"]);
        if (!made.ok()) {
            c.error = "its endpoint setting: " + made.error().to_string();
            return c;
        }
        c.engine = *made;
        return c;
    }
    c.engine = host.vlm;
    return c;
}

// The status of a tool that needs an engine.
inline agent::ToolStatus engine_status(const EngineChoice& c, const std::string& what) {
    if (!c.error.empty()) return {false, "none", c.error};
    if (!c.engine.described())
        return {false, "none", "no model configured: run it with a local model or an endpoint as the controller, or set "
                               "an endpoint for it in the tool settings (" + what + ")"};
    return {true, c.engine.backend, {}};
}

// Runs the engine, or says why it cannot.
inline Result<std::string> ask_engine(const EngineChoice& c, const std::string& tool,
                                      const std::vector<tok::ChatMessage>& messages, int max_new_tokens) {
    if (!c.error.empty()) return make_error(tool + " is unavailable: " + c.error);
    if (!c.engine.described()) return make_error(tool + " is unavailable: no model configured");
    if (!c.engine.generate) return make_error(tool + ": the engine (" + c.engine.backend + ") is not loaded yet");
    auto r = c.engine.generate(messages, max_new_tokens);
    if (!r.ok()) return make_error(tool + ": the engine failed: " + r.error().to_string());
    return r;
}

}  // namespace matrix::plugins
