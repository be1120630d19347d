// The image_generator and image_edit tools over an OpenAI-compatible images endpoint, set in tools.json:
//   {"image_generator": {"endpoint": {"url": "https://api.openai.com/v1", "model": "gpt-image-1",
//                                     "api_key_env": "OPENAI_API_KEY", "size": "1024x1024"}},
//    "image_edit": {"endpoint": {...}}}
// image_generator POSTs {url}/images/generations (JSON), image_edit POSTs {url}/images/edits (multipart, the image
// as a file part); the answer's data[0].b64_json (or data[0].url, fetched) is written as a PNG in the work folder
// and its path is the tool's answer. Without an endpoint both are unavailable (the reference ran SDXL and
// instruct-pix2pix locally; no such model ships here).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/agent/plugin.h"
#include "tool_support.h"

namespace {

using namespace matrix;
using namespace matrix::agent;

Result<std::string> base64_decode(const std::string& in) {
    static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=' || c == '\n' || c == '\r') continue;
        const size_t v = chars.find(c);
        if (v == std::string::npos) return make_error("the image is not valid base64");
        acc = (acc << 6) | uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += char((acc >> bits) & 0xFF);
        }
    }
    return out;
}

struct Endpoint {
    std::string url, model, api_key_env, size;
};

class ImagesTool : public Tool {
public:
    ImagesTool(const ToolHost& host, std::string name) : m_host(host), m_name(std::move(name)) {
        const nlohmann::json s = host.tool_settings(m_name);
        if (!s.contains("endpoint")) {
            m_error = "no images endpoint configured (set an OpenAI-compatible images endpoint under " + m_name +
                      " in the tool settings)";
            return;
        }
        const nlohmann::json& e = s["endpoint"];
        if (!e.is_object() || !e.contains("url") || !e["url"].is_string()) {
            m_error = "its endpoint setting needs {\"url\": ..., \"model\": ...}";
            return;
        }
        if (!host.http) {
            m_error = "this host has no HTTP client for tools";
            return;
        }
        m_endpoint.url = e["url"].get<std::string>();
        while (!m_endpoint.url.empty() && m_endpoint.url.back() == '/') m_endpoint.url.pop_back();
        m_endpoint.model = e.value("model", std::string());
        m_endpoint.api_key_env = e.value("api_key_env", std::string("OPENAI_API_KEY"));
        m_endpoint.size = e.value("size", std::string("1024x1024"));
    }

    ToolSpec spec() const override { return matrix_tool_spec(m_name); }
    ToolStatus status() const override {
        if (!m_error.empty()) return {false, "none", m_error};
        return {true, "images endpoint " + m_endpoint.url + (m_endpoint.model.empty() ? "" : " (" + m_endpoint.model + ")"), {}};
    }

    Result<nlohmann::json> call(const nlohmann::json& args, const ToolCallContext& context) override {
        MATRIX_TRY(std::string prompt, plugins::string_arg(m_name, args, "prompt"));
        if (prompt.find_first_not_of(" \t\n") == std::string::npos) return make_error(m_name + ": the prompt is empty");
        std::string image_file;
        if (m_name == "image_edit") {
            MATRIX_TRY(std::string path, plugins::string_arg(m_name, args, "image_path"));
            MATRIX_TRY(image_file, plugins::input_file(m_name, path, context));
        }
        if (!m_error.empty()) return make_error(m_name + " is unavailable: " + m_error);

        net::HttpRequest req;
        req.method = "POST";
        req.timeout_ms = 300000;
        if (const char* key = std::getenv(m_endpoint.api_key_env.c_str()); key && *key)
            req.headers.emplace_back("Authorization", std::string("Bearer ") + key);
        if (m_name == "image_generator") {
            req.url = m_endpoint.url + "/images/generations";
            nlohmann::json body = {{"prompt", prompt}, {"n", 1}, {"size", m_endpoint.size}, {"response_format", "b64_json"}};
            if (!m_endpoint.model.empty()) body["model"] = m_endpoint.model;
            req.headers.emplace_back("Content-Type", "application/json");
            req.body = body.dump();
        } else {
            std::ifstream in(image_file, std::ios::binary);
            std::ostringstream bytes;
            bytes << in.rdbuf();
            if (bytes.str().size() > 50'000'000) return make_error("image_edit: the image is larger than 50 MB");
            const std::string boundary = "matrix-image-edit-boundary-7f3a9c";
            auto field = [&](const std::string& name, const std::string& value) {
                return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
            };
            req.url = m_endpoint.url + "/images/edits";
            req.headers.emplace_back("Content-Type", "multipart/form-data; boundary=" + boundary);
            req.body = field("prompt", prompt) + field("n", "1") + field("size", m_endpoint.size) + field("response_format", "b64_json");
            if (!m_endpoint.model.empty()) req.body += field("model", m_endpoint.model);
            req.body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"" +
                        std::filesystem::path(image_file).filename().string() + "\"\r\nContent-Type: application/octet-stream\r\n\r\n" +
                        bytes.str() + "\r\n--" + boundary + "--\r\n";
        }
        const net::HttpResult r = m_host.http(req);
        if (!r.ok()) return make_error(m_name + ": the images endpoint did not answer: " + r.message);
        if (r.response.status != 200)
            return make_error(m_name + ": the images endpoint answered HTTP " + std::to_string(r.response.status) + ": " +
                              r.response.body.substr(0, 300));
        const nlohmann::json j = nlohmann::json::parse(r.response.body, nullptr, false);
        if (!j.is_object() || !j.contains("data") || !j["data"].is_array() || j["data"].empty() || !j["data"][0].is_object())
            return make_error(m_name + ": the images endpoint's answer has no data[0]");
        const nlohmann::json& d = j["data"][0];
        std::string png;
        if (d.contains("b64_json") && d["b64_json"].is_string()) {
            MATRIX_TRY(png, base64_decode(d["b64_json"].get<std::string>()));
        } else if (d.contains("url") && d["url"].is_string()) {
            net::HttpRequest get;
            get.method = "GET";
            get.url = d["url"].get<std::string>();
            const net::HttpResult image = m_host.http(get);
            if (!image.ok() || image.response.status != 200) return make_error(m_name + ": cannot fetch the image at " + get.url);
            png = image.response.body;
        } else {
            return make_error(m_name + ": the images endpoint's answer has neither b64_json nor url");
        }
        const std::string ext = png.rfind("\x89PNG", 0) == 0 ? "png" : png.rfind("\xFF\xD8", 0) == 0 ? "jpg" : "";
        if (ext.empty()) return make_error(m_name + ": the endpoint's answer is not a PNG or JPEG image");
        const std::string out = plugins::output_file(context, m_name, ext);
        std::ofstream f(out, std::ios::binary);
        if (!f.write(png.data(), std::streamsize(png.size()))) return make_error(m_name + ": cannot write " + out);
        return nlohmann::json(out);
    }

private:
    ToolHost m_host;
    std::string m_name, m_error;
    Endpoint m_endpoint;
};

void make_tools(const ToolHost& host, PluginTools& out) {
    out.plugin = "image_generator";
    out.version = "1";
    out.tools.push_back(std::make_shared<ImagesTool>(host, "image_generator"));
    out.tools.push_back(std::make_shared<ImagesTool>(host, "image_edit"));
}

}  // namespace

MATRIX_TOOL_PLUGIN(make_tools)
