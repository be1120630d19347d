#include "app/cli/judge_options.h"

#include <cstdlib>
#include <iostream>

namespace matrix::cli {

std::optional<JudgeOptions> judge_options(const Args& args, const std::string& command) {
    JudgeOptions o;
    const bool url = args.has("judge-url"), model = args.has("judge-model");
    if (!url && !model && !args.has("judge-key-env") && !args.has("judge-timeout-ms")) return o;
    auto bad = [&](const std::string& why) -> std::optional<JudgeOptions> {
        std::cerr << "matrix " << command << ": " << why << "\n";
        return std::nullopt;
    };
    if (!url || !model) return bad("give both --judge-url and --judge-model");
    o.url = *args.get("judge-url");
    o.model = *args.get("judge-model");
    if (o.url.rfind("http://", 0) != 0 && o.url.rfind("https://", 0) != 0)
        return bad("--judge-url must be an http:// or https:// URL");
    if (auto var = args.get("judge-key-env")) {
        const char* key = std::getenv(var->c_str());
        if (!key || !*key) return bad("the environment variable " + *var + " (--judge-key-env) is not set");
        o.key_env = *var;
    }
    if (auto t = args.get("judge-timeout-ms")) {
        try {
            o.timeout_ms = std::stoi(*t);
        } catch (const std::exception&) {
            o.timeout_ms = 0;
        }
        if (o.timeout_ms <= 0) return bad("--judge-timeout-ms must be a positive number");
    }
    return o;
}

}  // namespace matrix::cli
