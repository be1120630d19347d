// `matrix train|eval|sample submit [--slurm ...] <the command's arguments>`: the command as a job (core/jobs) that
// runs detached from the shell (or on Slurm) and records itself in the project; cmd_jobs.cpp implements it.
#pragma once

#include <string>

namespace matrix::cli {

// argv[0] is the subcommand ("train"), argv[1] is "submit"; kind is the job kind (train | eval | sample).
int submit_command(const std::string& kind, int argc, char** argv);

}  // namespace matrix::cli
