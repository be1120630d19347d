// A library that says it was built for another tool plugin interface: the loader must refuse it by name.
#include "core/agent/plugin.h"

MATRIX_TOOL_PLUGIN_EXPORT int matrix_tool_plugin_abi() { return MATRIX_TOOL_PLUGIN_ABI + 1000; }
MATRIX_TOOL_PLUGIN_EXPORT const char* matrix_tool_plugin_abi_tag() { return MATRIX_TOOL_PLUGIN_ABI_TAG; }
MATRIX_TOOL_PLUGIN_EXPORT void matrix_tool_plugin_make(const matrix::agent::ToolHost*, matrix::agent::PluginTools* out) {
    out->error = "must never be called";
}
