// For tests of the tool plugins: the registry made from the plugins this build made (only its plugin folder, so
// the user's folders and MATRIX_PLUGIN_PATH never change a test), and calling a tool with a work folder.
#pragma once

#include <QtTest>

#include "core/agent/plugin_loader.h"

namespace matrix::test {

inline agent::ToolRegistry build_tool_plugins(const agent::ToolHost& host = {}) {
    agent::ToolRegistry registry;
    const agent::PluginLoadReport report = agent::add_tool_plugins(registry, host, {MATRIX_PLUGIN_BUILD_DIR});
    for (const std::string& e : report.errors()) qWarning("plugin not loaded: %s", e.c_str());
    return registry;
}

inline Result<nlohmann::json> call_tool(const agent::ToolRegistry& registry, const std::string& name,
                                        const nlohmann::json& args, const std::string& work_dir, int step = -1) {
    return registry.call(name, args, agent::ToolCallContext{work_dir, step, 0});
}

inline std::string error_of(const Result<nlohmann::json>& r) { return r.ok() ? std::string("(no error)") : r.error().to_string(); }

inline std::string data_image(const char* name) { return std::string(MATRIX_SHARED_DIR) + "/data/images/" + name; }
inline std::string test_data(const char* relative) { return std::string(MATRIX_SOURCE_DIR) + "/tests/data/" + relative; }

}  // namespace matrix::test
