// What the host lends to tool plugins: the engine the run's controller already holds (so a tool that needs the
// vision-language model shares its weights and its queue instead of loading a second copy), the user's tool
// settings (endpoints, a search corpus), and the host's HTTP client. Plugins get a ToolHost when their tools are
// made and keep a copy; everything in it must outlive the registry those tools live in.
// Thread safety: Vlm::generate and http may be called from any thread; the lender serialises engine calls.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/net/http_client.h"
#include "core/tokenizer/chat_template.h"
#include "core/util/result.h"

namespace matrix::agent {

// A vision-language engine lent to tools. Answers are greedy (the reference's VQA and grounding tools are
// deterministic) and do not move the controller's seed sequence.
struct VlmEngine {
    std::string backend;  // "local Qwen2-VL /models/x (f32, cpu)", "endpoint http://... model"; "" = none
    // How the engine writes boxes: "qwen2vl" (<|box_start|>(x1,y1),(x2,y2)<|box_end|> on a 0-1000 grid), or "".
    std::string box_format;
    // The text the engine answers to `messages` (images as file parts), at most `max_new_tokens` tokens. Empty
    // while the engine is only described (a dialog before the run has loaded its model): tools then report the
    // backend as available and a call says the engine is not loaded.
    std::function<Result<std::string>(const std::vector<tok::ChatMessage>& messages, int max_new_tokens)> generate;

    bool described() const { return !backend.empty(); }
};

struct ToolHost {
    VlmEngine vlm;  // the run's engine, when its controller lends one
    // The user's tool settings, one object per tool name, e.g.
    //   {"visualizer": {"endpoint": {"url": "http://h/v1", "model": "m", "api_key_env": "KEY"}},
    //    "ask_search_agent": {"corpus": "/data/wiki.sqlite"} | {"endpoint": "http://searx/search"},
    //    "image_generator": {"endpoint": {"url": "https://api.openai.com/v1", "model": "gpt-image-1"}}}
    nlohmann::json settings = nlohmann::json::object();
    // An engine over an OpenAI-compatible chat endpoint ({"url", "model", "api_key_env"}), made by the host
    // (core/net's chat client); empty in hosts that cannot make one.
    std::function<Result<VlmEngine>(const nlohmann::json& endpoint)> endpoint_vlm;
    // One HTTP request through the host's client (core/net/http_client.h); empty: no network for tools.
    std::function<net::HttpResult(const net::HttpRequest&)> http;

    // settings[tool] when it is an object, else an empty object.
    nlohmann::json tool_settings(const std::string& tool) const {
        if (settings.is_object() && settings.contains(tool) && settings[tool].is_object()) return settings[tool];
        return nlohmann::json::object();
    }
};

// The settings the user keeps for tools: the JSON file named by MATRIX_TOOL_SETTINGS, else
// $XDG_CONFIG_HOME/matrix-workbench/tools.json (~/.config/...); an empty object when there is none, an error when
// the file exists but is not a JSON object.
Result<nlohmann::json> load_user_tool_settings();

// A host with the user's tool settings, core's HTTP client and endpoint engines, and no local engine.
Result<ToolHost> default_tool_host();

}  // namespace matrix::agent
