// `matrix tool`: try one agent tool by hand, or list every tool with its backend status.
//   matrix tool NAME --arg key=value...   prints the tool's answer as JSON ({"tool", "ok", "result"|"error"})
//   matrix tool --list [--json]           every tool (MATRIX tools, then plugin-only ones) and the plugins loaded
// The tools are the ones an agent run gets (core/agent/agent_job.h's registry, plugins included); --model or
// --endpoint lends an engine to the tools that need one, as a run's controller does.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/cli/args.h"
#include "app/cli/command.h"
#include "core/agent/agent_job.h"
#include "core/agent/controller_factory.h"

namespace {

using namespace matrix;
namespace fs = std::filesystem;

const char* k_usage =
    "usage: matrix tool NAME [--arg key=value]... [--arg-json key=JSON]... [--workdir DIR]\n"
    "                        [--model DIR [--adapter DIR] [--dtype f32|bf16|f16] [--device cpu|cuda]\n"
    "                         | --endpoint URL --endpoint-model NAME] [--settings FILE]\n"
    "       matrix tool --list [--json] [--model DIR | --endpoint URL --endpoint-model NAME] [--settings FILE]\n"
    "  Calls one agent tool and prints {\"tool\", \"ok\", \"result\"} (or {\"tool\", \"ok\": false, \"error\"}) as JSON;\n"
    "  exits 1 when the tool answers with an error. --arg values are strings; --arg-json values are JSON (numbers,\n"
    "  lists of boxes). Relative paths are taken from --workdir (default: the current folder), where tools also\n"
    "  write their output files.\n"
    "  --list: every tool with its backend (or why it is unavailable) and the tool plugins that failed to load.\n"
    "  --model / --endpoint: the engine lent to visualizer, objectlocation and inspect_file_as_text's questions.\n"
    "  --settings: the tools' settings file (default: $MATRIX_TOOL_SETTINGS, else ~/.config/matrix-workbench/tools.json).\n"
    "  Plugins are looked for in the build's and the installed plugin folders, ~/.local/share/matrix-workbench/plugins\n"
    "  and $MATRIX_PLUGIN_PATH (':'-separated).\n";

int run_tool(int argc, char** argv) {
    cli::Args args(k_usage,
                   {"arg", "arg-json", "workdir", "model", "adapter", "dtype", "device", "endpoint", "endpoint-model",
                    "settings"},
                   {"list", "json"});
    if (!args.parse(argc, argv)) return args.help_requested() ? 0 : 2;
    const bool list = args.has("list");
    if (!list && args.positionals().size() != 1) return cli::fail("tool: give one tool name, or --list (see --help)");
    if (auto s = args.get("settings")) ::setenv("MATRIX_TOOL_SETTINGS", s->c_str(), 1);

    std::unique_ptr<agent::Controller> controller;
    if (args.has("model") || args.has("endpoint")) {
        nlohmann::json c;
        if (auto m = args.get("model")) {
            c = {{"kind", "local"}, {"model", *m}, {"adapter", args.get_or("adapter", "")},
                 {"dtype", args.get_or("dtype", "f32")}, {"device", args.get_or("device", "cpu")}};
        } else {
            if (!args.has("endpoint-model")) return cli::fail("tool: --endpoint needs --endpoint-model NAME");
            c = {{"kind", "endpoint"}, {"url", *args.get("endpoint")}, {"model", *args.get("endpoint-model")}};
        }
        auto made = agent::make_controller(c);
        if (!made.ok()) return cli::fail("tool: " + made.error().to_string());
        controller = std::move(*made);
    }
    auto host = agent::tool_host_for(controller.get());
    if (!host.ok()) return cli::fail("tool: " + host.error().to_string());
    agent::PluginLoadReport report;
    auto registry = agent::agent_tool_registry({}, *host, &report);
    if (!registry.ok()) return cli::fail("tool: " + registry.error().to_string());

    if (list) {
        if (args.has("json")) {
            std::cout << nlohmann::json{{"tools", registry->status_json()}, {"plugins", report.to_json()}}.dump(2) << "\n";
            return 0;
        }
        for (const auto& t : registry->tools()) {
            const agent::ToolStatus s = t->status();
            std::cout << t->spec().name << "\t" << (s.available ? "available" : "unavailable") << "\t"
                      << (s.available ? s.backend : s.reason) << "\n";
        }
        for (const std::string& e : report.errors()) std::cerr << "plugin not loaded: " << e << "\n";
        return 0;
    }

    const std::string name = args.positionals().front();
    nlohmann::json call_args = nlohmann::json::object();
    for (const std::string& kv : args.get_all("arg")) {
        const size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) return cli::fail("tool: --arg needs key=value, got \"" + kv + "\"");
        call_args[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const std::string& kv : args.get_all("arg-json")) {
        const size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) return cli::fail("tool: --arg-json needs key=JSON, got \"" + kv + "\"");
        nlohmann::json v = nlohmann::json::parse(kv.substr(eq + 1), nullptr, false);
        if (v.is_discarded()) return cli::fail("tool: --arg-json " + kv.substr(0, eq) + ": not JSON");
        call_args[kv.substr(0, eq)] = v;
    }
    std::error_code ec;
    const std::string work_dir = fs::absolute(args.get_or("workdir", "."), ec).lexically_normal().string();
    auto tool = registry->find(name);
    if (!tool) {
        std::string known;
        for (const auto& t : registry->tools()) known += (known.empty() ? "" : ", ") + t->spec().name;
        return cli::fail("tool: no tool named \"" + name + "\" (known: " + known + ")");
    }
    auto result = registry->call(name, call_args, agent::ToolCallContext{work_dir, -1, 0});
    if (!result.ok()) {
        std::cout << nlohmann::json{{"tool", name}, {"ok", false}, {"error", result.error().to_string()}}.dump(2) << "\n";
        return cli::fail("tool " + name + ": " + result.error().to_string());
    }
    std::cout << nlohmann::json{{"tool", name}, {"ok", true}, {"result", *result}}.dump(2) << "\n";
    return 0;
}

}  // namespace

MATRIX_CLI_COMMAND("tool", "try one agent tool by hand (prints JSON), or list the tools and their backends", run_tool);
