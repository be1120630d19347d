// Helpers shared by the tool plugins (header-only: plugins link no core library): reading typed arguments with
// errors the agent can act on, resolving a file argument against the calling code's folder, and naming output
// files in the run's work folder.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "core/agent/tool.h"
#include "core/util/result.h"

namespace matrix::plugins {

inline std::string json_type_name(const nlohmann::json& v) {
    if (v.is_string()) return "a string";
    if (v.is_boolean()) return "a boolean";
    if (v.is_number()) return "a number";
    if (v.is_array()) return "a list";
    if (v.is_object()) return "a dict";
    return "None";
}

// args[name] as a string; an error naming the tool, the argument and what was given instead. A missing optional
// argument (or None) gives `fallback`.
inline Result<std::string> string_arg(const std::string& tool, const nlohmann::json& args, const std::string& name,
                                      bool required = true, const std::string& fallback = {}) {
    if (!args.is_object()) return make_error(tool + ": the arguments must be given by name");
    if (!args.contains(name) || args[name].is_null()) {
        if (required) return make_error(tool + ": missing argument " + name);
        return fallback;
    }
    const nlohmann::json& v = args[name];
    if (!v.is_string()) return make_error(tool + ": " + name + " must be a string, got " + json_type_name(v));
    return v.get<std::string>();
}

// A file argument: relative paths are taken from the calling code's folder. Errors: empty, missing, a folder.
inline Result<std::string> input_file(const std::string& tool, const std::string& path,
                                      const agent::ToolCallContext& context) {
    namespace fs = std::filesystem;
    if (path.empty()) return make_error(tool + ": the file path is empty");
    fs::path p(path);
    if (p.is_relative() && !context.work_dir.empty()) p = fs::path(context.work_dir) / p;
    std::error_code ec;
    if (!fs::exists(p, ec)) return make_error(tool + ": no such file: " + path);
    if (fs::is_directory(p, ec)) return make_error(tool + ": " + path + " is a folder, not a file");
    return p.lexically_normal().string();
}

// A new file in the work folder: "<work_dir>/<stem>_<step>_<n>.<ext>" with the first n not taken.
inline std::string output_file(const agent::ToolCallContext& context, const std::string& stem, const std::string& ext) {
    namespace fs = std::filesystem;
    const fs::path dir = context.work_dir.empty() ? fs::current_path() : fs::path(context.work_dir);
    std::error_code ec;
    fs::create_directories(dir, ec);
    const std::string step = context.step >= 0 ? "step" + std::to_string(context.step) + "_" : "";
    for (int n = 0;; ++n) {
        fs::path p = dir / (stem + "_" + step + std::to_string(n) + "." + ext);
        if (!fs::exists(p, ec)) return p.string();
    }
}

}  // namespace matrix::plugins
