// See tool_host.h.
#include "core/agent/tool_host.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "core/agent/endpoint_controller.h"

namespace matrix::agent {

namespace fs = std::filesystem;

Result<nlohmann::json> load_user_tool_settings() {
    fs::path file;
    if (const char* named = std::getenv("MATRIX_TOOL_SETTINGS"); named && *named) {
        file = named;
        if (!fs::exists(file)) return make_error("the file named by MATRIX_TOOL_SETTINGS does not exist", file.string());
    } else if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
        file = fs::path(xdg) / "matrix-workbench" / "tools.json";
    } else if (const char* home = std::getenv("HOME"); home && *home) {
        file = fs::path(home) / ".config" / "matrix-workbench" / "tools.json";
    }
    std::error_code ec;
    if (file.empty() || !fs::exists(file, ec)) return nlohmann::json::object();
    std::ifstream in(file);
    if (!in) return make_error("cannot read the tool settings", file.string());
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (!j.is_object()) return make_error("the tool settings are not a JSON object", file.string());
    return j;
}

namespace {

// A greedy engine over an OpenAI-compatible chat endpoint (the controller's own client code).
Result<VlmEngine> make_endpoint_vlm(const nlohmann::json& endpoint) {
    if (!endpoint.is_object() || !endpoint.contains("url") || !endpoint["url"].is_string() ||
        !endpoint.contains("model") || !endpoint["model"].is_string())
        return make_error("an endpoint needs {\"url\": ..., \"model\": ...}");
    EndpointControllerOptions o;
    o.url = endpoint["url"].get<std::string>();
    o.model = endpoint["model"].get<std::string>();
    o.api_key_env = endpoint.value("api_key_env", std::string("OPENAI_API_KEY"));
    o.vllm_extra_fields = endpoint.value("vllm", true);
    MATRIX_TRY(std::unique_ptr<EndpointController> made, EndpointController::create(o));
    std::shared_ptr<EndpointController> controller(std::move(made));
    VlmEngine e;
    e.backend = "endpoint " + o.url + " (" + o.model + ")";
    e.box_format = endpoint.value("box_format", std::string());
    e.generate = [controller](const std::vector<tok::ChatMessage>& messages, int max_new_tokens) -> Result<std::string> {
        GenerationSettings g;
        g.max_new_tokens = max_new_tokens;
        g.stop.clear();
        g.groups = {SamplingGroup{1, false, 0.0, 1.0, -1, 1.0}};
        MATRIX_TRY(auto candidates, controller->generate(messages, g));
        if (candidates.empty()) return make_error("the endpoint gave no answer");
        return candidates.front().text;
    };
    return e;
}

}  // namespace

Result<ToolHost> default_tool_host() {
    ToolHost host;
    MATRIX_TRY(host.settings, load_user_tool_settings());
    host.endpoint_vlm = make_endpoint_vlm;
    host.http = [](const net::HttpRequest& r) { return net::http_request(r); };
    return host;
}

}  // namespace matrix::agent
