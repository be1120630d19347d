// `matrix version`: what this build contains (torch, OpenCV), so a server admin can check an engine-only build.
#include <iostream>

#include "app/cli/args.h"
#include "app/cli/command.h"

namespace {
int run_version(int argc, char** argv) {
    matrix::cli::Args args("usage: matrix version\n  Prints the version and the optional parts built in.\n", {});
    if (!args.parse(argc, argv)) return args.help_requested() ? 0 : 2;
    std::cout << "matrix " << MATRIX_VERSION << "\n";
#ifdef MATRIX_HAVE_TORCH
    std::cout << "torch: yes\n";
#else
    std::cout << "torch: no\n";
#endif
#ifdef MATRIX_HAVE_OPENCV
    std::cout << "opencv: yes\n";
#else
    std::cout << "opencv: no\n";
#endif
    return 0;
}
}  // namespace

MATRIX_CLI_COMMAND("version", "print the version and the parts built in", run_version);
