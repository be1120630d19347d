// Finds the function calls an agent's code makes, without running it: every `name(...)` whose callee is a
// plain name, also nested in expressions, assignments, other calls' arguments and f-string fields, in source
// order, with each argument's source range and literal value. What is left out (and why) is decided here:
//   - method and attribute calls (`x.append(1)`, `os.path.join(..)`, `plt.plot(..)`): tools are plain
//     functions in the interpreter's namespace, so an attribute call is a library or object method;
//   - Python builtins (print, len, int, str, range, sorted, ... and the builtin exception classes);
//   - names the same code defines or imports (`def f`, `class C`, `from datetime import timedelta`).
// Pure functions, thread-safe, never throw.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace matrix::conversation::py {

struct CallArgument {
    std::string keyword;  // empty for a positional argument
    bool star = false;    // *expr
    bool double_star = false;  // **expr
    std::string source;   // the argument's expression as written (after "name=" for keywords)
    std::optional<nlohmann::json> literal;  // its value when it is a Python literal
};

struct Call {
    std::string name;
    size_t offset = 0;  // byte offset of the callee name in the code
    std::vector<CallArgument> arguments;
};

struct CallScan {
    std::vector<Call> calls;  // in source order (by the callee's offset)
    bool parses = true;       // the lexer's verdict: strings terminated, brackets balanced
    std::string error;        // the first problem when !parses
};

CallScan scan_calls(std::string_view code);

// True for names of Python's builtin functions and exception classes (print, len, ValueError, ...).
bool is_builtin(std::string_view name);

}  // namespace matrix::conversation::py
