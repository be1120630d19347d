// `matrix`: the headless engine's command line, subcommands over the same core code the GUI uses.
#include <algorithm>
#include <cstring>
#include <iostream>

#include "app/cli/command.h"

namespace matrix::cli {
std::vector<Command>& command_registry() {
    static std::vector<Command> commands;
    return commands;
}
}  // namespace matrix::cli

static void print_usage() {
    auto commands = matrix::cli::command_registry();
    std::sort(commands.begin(), commands.end(), [](auto& a, auto& b) { return a.name < b.name; });
    std::cout << "usage: matrix <command> [options]   (matrix <command> --help for details)\n\ncommands:\n";
    for (const auto& c : commands) {
        std::cout << "  " << c.name << std::string(c.name.size() < 12 ? 12 - c.name.size() : 1, ' ') << c.summary
                  << "\n";
    }
}

int main(int argc, char** argv) {
    if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
        print_usage();
        return argc < 2 ? 2 : 0;
    }
    for (const auto& c : matrix::cli::command_registry()) {
        if (c.name == argv[1]) {
            try {
                return c.run(argc - 1, argv + 1);
            } catch (const std::exception& e) {
                std::cerr << "matrix " << c.name << ": " << e.what() << "\n";
                return 1;
            }
        }
    }
    std::cerr << "matrix: unknown command '" << argv[1] << "' (matrix --help lists them)\n";
    return 2;
}
