// The `matrix` CLI: one small file per subcommand (cmd_<name>.cpp), each registering itself here.
// Contract (scripts and CI rely on it): exit 0 on success, non-zero with one clear line on stderr otherwise;
// `--help` on every subcommand prints its usage to stdout and exits 0.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace matrix::cli {

struct Command {
    std::string name;     // "import", "bench", "train"
    std::string summary;  // one line for `matrix --help`
    std::function<int(int argc, char** argv)> run;  // argv[0] is the subcommand name
};

std::vector<Command>& command_registry();

struct RegisterCommand {
    explicit RegisterCommand(Command c) { command_registry().push_back(std::move(c)); }
};

}  // namespace matrix::cli

#define MATRIX_CLI_CONCAT2(a, b) a##b
#define MATRIX_CLI_CONCAT(a, b) MATRIX_CLI_CONCAT2(a, b)
// MATRIX_CLI_COMMAND("import", "import M-TRACE / Pref-X / step-sampling data", run_import);
#define MATRIX_CLI_COMMAND(name, summary, fn) \
    static ::matrix::cli::RegisterCommand MATRIX_CLI_CONCAT(_matrix_cmd_, __LINE__)({name, summary, fn})
