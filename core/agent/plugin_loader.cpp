// See plugin_loader.h.
#include "core/agent/plugin_loader.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>

namespace matrix::agent {

namespace fs = std::filesystem;

nlohmann::json PluginLoadReport::to_json() const {
    nlohmann::json list = nlohmann::json::array();
    for (const PluginLoadEntry& e : entries) {
        nlohmann::json j = {{"file", e.file}};
        if (e.error.empty()) {
            j["plugin"] = e.plugin;
            j["version"] = e.version;
            j["tools"] = e.tools;
        } else {
            j["error"] = e.error;
        }
        list.push_back(j);
    }
    return {{"folders", folders}, {"plugins", list}};
}

std::vector<std::string> PluginLoadReport::errors() const {
    std::vector<std::string> out;
    for (const PluginLoadEntry& e : entries)
        if (!e.error.empty()) out.push_back(e.file + ": " + e.error);
    return out;
}

std::vector<std::string> default_plugin_folders() {
    std::vector<fs::path> candidates;
#ifdef MATRIX_BUILD_PLUGIN_DIR
    candidates.emplace_back(MATRIX_BUILD_PLUGIN_DIR);
#endif
#ifdef MATRIX_INSTALL_PLUGIN_DIR
    candidates.emplace_back(MATRIX_INSTALL_PLUGIN_DIR);
#endif
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) candidates.push_back(exe.parent_path().parent_path() / "lib" / "matrix-workbench" / "plugins");
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg)
        candidates.push_back(fs::path(xdg) / "matrix-workbench" / "plugins");
    else if (const char* home = std::getenv("HOME"); home && *home)
        candidates.push_back(fs::path(home) / ".local" / "share" / "matrix-workbench" / "plugins");
    if (const char* extra = std::getenv("MATRIX_PLUGIN_PATH"); extra && *extra) {
        std::string s = extra;
        size_t start = 0;
        while (start <= s.size()) {
            const size_t colon = std::min(s.find(':', start), s.size());
            if (colon > start) candidates.emplace_back(s.substr(start, colon - start));
            start = colon + 1;
        }
    }
    std::vector<std::string> out;
    for (const fs::path& c : candidates) {
        if (!fs::is_directory(c, ec)) continue;
        const std::string canonical = fs::canonical(c, ec).string();
        if (ec) continue;
        // A folder named twice keeps its last (highest) place.
        out.erase(std::remove(out.begin(), out.end(), canonical), out.end());
        out.push_back(canonical);
    }
    return out;
}

namespace {

std::mutex g_mutex;
std::map<std::string, void*>& loaded_libraries() {
    static std::map<std::string, void*> m;  // canonical path -> handle, never closed
    return m;
}

}  // namespace

Result<PluginTools> load_tool_plugin(const std::string& file, const ToolHost& host) {
    const std::string context = "tool plugin " + file;
    std::error_code ec;
    const std::string canonical = fs::canonical(file, ec).string();
    if (ec) return make_error("no such file", context);
    void* handle = nullptr;
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        auto& libs = loaded_libraries();
        if (auto it = libs.find(canonical); it != libs.end()) {
            handle = it->second;
        } else {
            dlerror();
            handle = dlopen(canonical.c_str(), RTLD_NOW | RTLD_LOCAL);
            if (!handle) {
                const char* why = dlerror();
                return make_error(std::string("cannot load the library: ") + (why ? why : "unknown dlopen error"), context);
            }
            libs[canonical] = handle;
        }
    }
    auto abi = reinterpret_cast<PluginAbiFn>(dlsym(handle, k_plugin_abi_symbol));
    auto tag = reinterpret_cast<PluginAbiTagFn>(dlsym(handle, k_plugin_abi_tag_symbol));
    auto make = reinterpret_cast<PluginMakeFn>(dlsym(handle, k_plugin_make_symbol));
    if (!abi || !tag || !make)
        return make_error(std::string("not a MATRIX tool plugin (it does not export ") +
                              (!abi ? k_plugin_abi_symbol : !tag ? k_plugin_abi_tag_symbol : k_plugin_make_symbol) +
                              "; see plugins/README.md)",
                          context);
    const int version = abi();
    if (version != MATRIX_TOOL_PLUGIN_ABI)
        return make_error("built for tool plugin interface " + std::to_string(version) + ", this workbench has " +
                              std::to_string(MATRIX_TOOL_PLUGIN_ABI) + ": rebuild it against this version's headers",
                          context);
    const std::string its_tag = tag() ? tag() : "";
    if (its_tag != MATRIX_TOOL_PLUGIN_ABI_TAG)
        return make_error("built with C++ library ABI \"" + its_tag + "\", this workbench uses \"" +
                              MATRIX_TOOL_PLUGIN_ABI_TAG + "\": rebuild it with the same compiler",
                          context);
    PluginTools out;
    make(&host, &out);
    if (!out.error.empty()) return make_error("it offers no tools: " + out.error, context);
    for (const auto& t : out.tools)
        if (!t) return make_error("it returned an empty tool", context);
    if (out.plugin.empty()) out.plugin = fs::path(file).stem().string();
    return out;
}

PluginLoadReport add_tool_plugins(ToolRegistry& registry, const ToolHost& host, const std::vector<std::string>& folders) {
    PluginLoadReport report;
    report.folders = folders;
    for (const std::string& folder : folders) {
        std::vector<std::string> files;
        std::error_code ec;
        for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
            const fs::path p = it->path();
            if (p.extension() == ".so" && it->is_regular_file(ec)) files.push_back(p.string());
        }
        std::sort(files.begin(), files.end());
        for (const std::string& f : files) {
            PluginLoadEntry entry;
            entry.file = f;
            auto loaded = load_tool_plugin(f, host);
            if (!loaded.ok()) {
                entry.error = loaded.error().message;
            } else {
                entry.plugin = loaded->plugin;
                entry.version = loaded->version;
                for (auto& t : loaded->tools) {
                    entry.tools.push_back(t->spec().name);
                    registry.add(t);
                }
            }
            report.entries.push_back(std::move(entry));
        }
    }
    return report;
}

}  // namespace matrix::agent
