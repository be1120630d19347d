// The LLM judge options shared by `matrix bench score` and `matrix eval run|resume` (Agent-X judge metrics):
// --judge-url URL --judge-model NAME [--judge-key-env VAR] [--judge-timeout-ms MS]. The API key is read from the
// environment variable VAR, never taken on the command line (it would show in `ps` and in shell history).
#pragma once

#include <optional>
#include <string>

#include "app/cli/args.h"

namespace matrix::cli {

// The option names, for the Args constructor.
inline const char* const k_judge_option_names[] = {"judge-url", "judge-model", "judge-key-env", "judge-timeout-ms"};

struct JudgeOptions {
    std::string url, model, key_env;  // url empty: no judge asked for
    int timeout_ms = 60000;
    bool given() const { return !url.empty(); }
};

// nullopt after one stderr line ("matrix <command>: ...") on bad options: only one of URL and model, a URL that
// is not http(s), a key variable that is not set, a timeout that is not a positive number.
std::optional<JudgeOptions> judge_options(const Args& args, const std::string& command);

}  // namespace matrix::cli
