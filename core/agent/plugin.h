// The tool plugin interface: a shared library in a plugin folder that gives the agent runtime one or more tools
// (core/agent/tool.h), so users add tools without rebuilding the workbench. A plugin exports two C symbols,
// written by MATRIX_TOOL_PLUGIN(make): the interface version it was built against, and a function that makes its
// tools for a host (core/agent/tool_host.h). The tools are C++ objects shared across the library boundary, so a
// plugin must be built with the same compiler family and standard library as the workbench and against the same
// core headers: the loader (plugin_loader.h) refuses a library whose version or ABI tag differs, naming the file.
// Plugins use core's headers only (no core library is linked into them); a loaded library stays loaded for the
// life of the process. See plugins/README.md for a minimal plugin.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/agent/tool.h"
#include "core/agent/tool_host.h"

// Raised whenever Tool, ToolSpec, ToolStatus, ToolCallContext, ToolHost, VlmEngine or PluginTools change layout.
#define MATRIX_TOOL_PLUGIN_ABI 1

#if defined(__GLIBCXX__)
#define MATRIX_TOOL_PLUGIN_STDLIB "libstdc++"
#elif defined(_LIBCPP_VERSION)
#define MATRIX_TOOL_PLUGIN_STDLIB "libc++"
#else
#define MATRIX_TOOL_PLUGIN_STDLIB "unknown"
#endif
#if defined(_GLIBCXX_USE_CXX11_ABI) && _GLIBCXX_USE_CXX11_ABI == 0
#define MATRIX_TOOL_PLUGIN_STRING_ABI "old-string"
#else
#define MATRIX_TOOL_PLUGIN_STRING_ABI "cxx11"
#endif
// What must match between the workbench and a plugin besides the interface version.
#define MATRIX_TOOL_PLUGIN_ABI_TAG MATRIX_TOOL_PLUGIN_STDLIB "/" MATRIX_TOOL_PLUGIN_STRING_ABI

namespace matrix::agent {

// What a plugin's make function fills in.
struct PluginTools {
    std::string plugin;   // the plugin's name ("ocr")
    std::string version;  // its own version, for the tool list
    std::vector<std::shared_ptr<Tool>> tools;
    std::string error;  // set (and no tools) when the plugin cannot offer its tools at all
};

// The signatures of the exported symbols.
using PluginAbiFn = int (*)();
using PluginAbiTagFn = const char* (*)();
using PluginMakeFn = void (*)(const ToolHost* host, PluginTools* out);

constexpr const char* k_plugin_abi_symbol = "matrix_tool_plugin_abi";
constexpr const char* k_plugin_abi_tag_symbol = "matrix_tool_plugin_abi_tag";
constexpr const char* k_plugin_make_symbol = "matrix_tool_plugin_make";

}  // namespace matrix::agent

#define MATRIX_TOOL_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

// In one source file of a plugin: MATRIX_TOOL_PLUGIN(make_tools), with
//   void make_tools(const matrix::agent::ToolHost& host, matrix::agent::PluginTools& out);
// Exceptions thrown by make_tools become the plugin's error.
#define MATRIX_TOOL_PLUGIN(make_fn)                                                                       \
    MATRIX_TOOL_PLUGIN_EXPORT int matrix_tool_plugin_abi() { return MATRIX_TOOL_PLUGIN_ABI; }              \
    MATRIX_TOOL_PLUGIN_EXPORT const char* matrix_tool_plugin_abi_tag() { return MATRIX_TOOL_PLUGIN_ABI_TAG; } \
    MATRIX_TOOL_PLUGIN_EXPORT void matrix_tool_plugin_make(const ::matrix::agent::ToolHost* host,          \
                                                           ::matrix::agent::PluginTools* out) {            \
        try {                                                                                             \
            make_fn(*host, *out);                                                                         \
        } catch (const std::exception& e) {                                                               \
            out->tools.clear();                                                                           \
            out->error = e.what();                                                                        \
        } catch (...) {                                                                                   \
            out->tools.clear();                                                                           \
            out->error = "unknown exception while making the plugin's tools";                            \
        }                                                                                                 \
    }
