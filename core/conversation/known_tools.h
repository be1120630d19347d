// The tools an agent may call (MATRIX spec section 7, GTA's tool set, Agent-X's extra names) with their
// parameter names in declaration order: the action parser maps positional arguments to these names and flags
// calls of these functions as known. Static data, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace matrix::conversation {

struct KnownTool {
    std::string name;
    std::vector<std::string> parameters;
    std::string family;  // "matrix" (MATRIX agent tools), "gta" (GTA benchmark) or "agentx" (Agent-X)
};
const std::vector<KnownTool>& known_tools();
const KnownTool* find_known_tool(std::string_view name);

}  // namespace matrix::conversation
