// Finds and loads tool plugins (core/agent/plugin.h) and registers their tools over the unavailable defaults.
// Folders, lowest precedence first (a later folder's tool replaces an earlier one of the same name):
//   1. the build's plugin folder (<build>/lib/matrix-workbench/plugins, compiled in),
//   2. the installed folder (<prefix>/lib/matrix-workbench/plugins, and the same path beside the executable),
//   3. the user's folder ($XDG_DATA_HOME or ~/.local/share, then matrix-workbench/plugins),
//   4. every folder of MATRIX_PLUGIN_PATH (':'-separated), in order.
// Each folder's *.so files are loaded in name order. A library that fails to load (not a plugin, another
// interface version, a missing dependency, a throwing make function) is reported with its file name and skipped;
// it never stops the others. Libraries stay loaded for the life of the process (their tools' code lives there).
// Thread safety: every function may be called from any thread (loading is serialised internally).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/agent/plugin.h"
#include "core/agent/tool.h"
#include "core/agent/tool_host.h"
#include "core/util/result.h"

namespace matrix::agent {

struct PluginLoadEntry {
    std::string file;
    std::string plugin;   // the plugin's own name and version, when it loaded
    std::string version;
    std::vector<std::string> tools;  // the tools it registered
    std::string error;               // why it was skipped ("" when it loaded)
};

struct PluginLoadReport {
    std::vector<std::string> folders;  // searched, in order
    std::vector<PluginLoadEntry> entries;
    nlohmann::json to_json() const;
    std::vector<std::string> errors() const;  // "file: reason" per skipped library
};

// The folders above that exist, in precedence order, without duplicates.
std::vector<std::string> default_plugin_folders();

// Loads one library and makes its tools for `host`; errors name the file.
Result<PluginTools> load_tool_plugin(const std::string& file, const ToolHost& host);

// Loads every plugin in `folders` and adds their tools to `registry` (replacing tools of the same name).
PluginLoadReport add_tool_plugins(ToolRegistry& registry, const ToolHost& host, const std::vector<std::string>& folders);

}  // namespace matrix::agent
