// Chat-completions bodies, replies and server-sent-event assembly (see chat_request.h). The wire format follows
// OpenAI's chat completions API as vLLM serves it: content as a string for a single text part, else a list of
// {"type": "text"} / {"type": "image_url"} parts; stream chunks carry choices[].delta.content.
#include "core/net/chat_request.h"

#include <algorithm>
#include <map>

#include "core/net/image_data_url.h"
#include "core/util/json_input.h"
#include "core/util/sha256.h"

namespace matrix::net {

using nlohmann::json;

namespace {

json message_content(const ChatMessage& m, Status& status) {
    if (m.content.size() == 1 && m.content[0].kind == ContentPart::Kind::text) return m.content[0].text;
    if (m.content.empty()) return "";
    json parts = json::array();
    for (const ContentPart& p : m.content) {
        if (p.kind == ContentPart::Kind::text) {
            parts.push_back({{"type", "text"}, {"text", p.text}});
            continue;
        }
        auto url = image_file_data_url(p.image_path);
        if (!url.ok()) {
            status = url.error();
            return nullptr;
        }
        parts.push_back({{"type", "image_url"}, {"image_url", {{"url", std::move(url.value())}}}});
    }
    return parts;
}

std::string string_or_empty(const json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

ChatUsage parse_usage(const json& u) {
    ChatUsage usage;
    if (!u.is_object()) return usage;
    usage.present = true;
    auto num = [&](const char* key) -> int64_t {
        const auto it = u.find(key);
        return it != u.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
    };
    usage.prompt_tokens = num("prompt_tokens");
    usage.completion_tokens = num("completion_tokens");
    usage.total_tokens = num("total_tokens");
    return usage;
}

std::string error_text(const json& e) {
    if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
    return e.dump();
}

}  // namespace

json ChatResponse::to_json() const {
    json cs = json::array();
    for (const ChatChoice& c : choices) {
        cs.push_back({{"index", c.index},
                      {"message", {{"role", "assistant"}, {"content", c.content}}},
                      {"finish_reason", c.finish_reason.empty() ? json(nullptr) : json(c.finish_reason)}});
    }
    json j = {{"id", id}, {"object", "chat.completion"}, {"model", model}, {"choices", std::move(cs)}};
    if (usage.present) {
        j["usage"] = {{"prompt_tokens", usage.prompt_tokens},
                      {"completion_tokens", usage.completion_tokens},
                      {"total_tokens", usage.total_tokens}};
    }
    return j;
}

Result<json> build_chat_body(const ChatRequest& request, const std::string& default_model) {
    const std::string& model = request.model.empty() ? default_model : request.model;
    if (model.empty()) return make_error("no model given");
    if (request.messages.empty()) return make_error("a chat request needs at least one message");
    if (!request.extra.is_null() && !request.extra.is_object()) return make_error("extra request fields must be a JSON object");
    json messages = json::array();
    for (const ChatMessage& m : request.messages) {
        Status status;
        json content = message_content(m, status);
        if (!status.ok()) return status.error();
        messages.push_back({{"role", m.role}, {"content", std::move(content)}});
    }
    json body = {{"model", model}, {"messages", std::move(messages)}};
    if (request.n) body["n"] = *request.n;
    if (request.temperature) body["temperature"] = *request.temperature;
    if (request.top_p) body["top_p"] = *request.top_p;
    if (request.max_tokens) body["max_tokens"] = *request.max_tokens;
    if (!request.stop.empty()) body["stop"] = request.stop;
    if (request.seed) body["seed"] = *request.seed;
    if (request.stream) body["stream"] = true;
    if (request.extra.is_object()) {
        for (const auto& [k, v] : request.extra.items()) body[k] = v;
    }
    return body;
}

std::string canonical_request(const json& body) {
    json j = body;
    j.erase("stream");
    j.erase("stream_options");
    return j.dump();  // nlohmann's object is a std::map: keys come out sorted
}

std::string canonical_request_without_images(const json& body) {
    json j = body;
    j.erase("stream");
    j.erase("stream_options");
    if (j.contains("messages") && j["messages"].is_array()) {
        for (json& m : j["messages"]) {
            if (!m.is_object() || !m.contains("content") || !m["content"].is_array()) continue;
            for (json& part : m["content"]) {
                if (!part.is_object() || part.value("type", "") != "image_url" || !part.contains("image_url")) continue;
                json& iu = part["image_url"];
                if (!iu.is_object() || !iu.contains("url") || !iu["url"].is_string()) continue;
                const std::string url = iu["url"].get<std::string>();
                const size_t comma = url.find(";base64,");
                if (url.rfind("data:", 0) != 0 || comma == std::string::npos) continue;
                iu["url"] = url.substr(0, comma) + ";sha256," + sha256_hex(std::string_view(url).substr(comma + 8));
            }
        }
    }
    return j.dump();
}

Result<ChatResponse> parse_chat_response(const std::string& body) {
    auto parsed = parse_json(body);
    if (!parsed.ok()) return make_error("reply is not JSON: " + parsed.error().message);
    json j = std::move(parsed).value();
    if (!j.is_object()) return make_error("reply is not a JSON object");
    const auto choices = j.find("choices");
    if (choices == j.end() || !choices->is_array() || choices->empty()) {
        if (j.contains("error")) return make_error("reply is an error: " + error_text(j["error"]));
        return make_error("reply has no choices");
    }
    ChatResponse r;
    r.id = string_or_empty(j, "id");
    r.model = string_or_empty(j, "model");
    r.raw = body;
    if (j.contains("usage")) r.usage = parse_usage(j["usage"]);
    int position = 0;
    for (const json& c : *choices) {
        if (!c.is_object() || !c.contains("message") || !c["message"].is_object())
            return make_error("reply choice " + std::to_string(position) + " has no message");
        ChatChoice choice;
        choice.index = c.contains("index") && c["index"].is_number_integer() ? c["index"].get<int>() : position;
        const json& content = c["message"].contains("content") ? c["message"]["content"] : json(nullptr);
        if (!content.is_string() && !content.is_null())
            return make_error("reply choice " + std::to_string(position) + " has a content that is not text");
        if (content.is_string()) choice.content = content.get<std::string>();
        choice.finish_reason = string_or_empty(c, "finish_reason");
        r.choices.push_back(std::move(choice));
        ++position;
    }
    std::stable_sort(r.choices.begin(), r.choices.end(),
                     [](const ChatChoice& a, const ChatChoice& b) { return a.index < b.index; });
    return r;
}

Status ChatStreamAssembler::feed(std::string_view bytes) {
    m_line.append(bytes.data(), bytes.size());
    size_t start = 0;
    for (;;) {
        const size_t eol = m_line.find('\n', start);
        if (eol == std::string::npos) break;
        std::string_view line(m_line.data() + start, eol - start);
        start = eol + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        // Each "data:" line is one JSON chunk (what OpenAI-compatible servers send); comments (":"), event
        // names and blank separator lines carry nothing we need.
        if (line.rfind("data:", 0) != 0) continue;
        line.remove_prefix(5);
        if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        if (auto s = dispatch(std::string(line)); !s.ok()) {
            m_line.erase(0, start);
            return s;
        }
    }
    m_line.erase(0, start);
    return {};
}

Status ChatStreamAssembler::dispatch(const std::string& data) {
    if (data == "[DONE]") {
        m_done = true;
        return {};
    }
    auto parsed = parse_json(data);
    if (!parsed.ok()) return make_error("stream event is not JSON: " + parsed.error().message);
    json j = std::move(parsed).value();
    if (!j.is_object()) return make_error("stream event is not a JSON object");
    if (j.contains("error")) return make_error("server error in stream: " + error_text(j["error"]));
    ++m_events;
    if (auto id = string_or_empty(j, "id"); !id.empty()) m_response.id = id;
    if (auto model = string_or_empty(j, "model"); !model.empty()) m_response.model = model;
    if (j.contains("usage") && j["usage"].is_object()) m_response.usage = parse_usage(j["usage"]);
    if (!j.contains("choices") || !j["choices"].is_array()) return {};
    for (const json& c : j["choices"]) {
        if (!c.is_object()) continue;
        const int index = c.contains("index") && c["index"].is_number_integer() ? c["index"].get<int>() : 0;
        auto it = std::find_if(m_response.choices.begin(), m_response.choices.end(),
                               [&](const ChatChoice& x) { return x.index == index; });
        if (it == m_response.choices.end()) {
            m_response.choices.push_back(ChatChoice{index, {}, {}});
            it = std::prev(m_response.choices.end());
        }
        if (c.contains("delta") && c["delta"].is_object()) {
            const json& d = c["delta"];
            if (d.contains("content") && d["content"].is_string()) {
                const std::string text = d["content"].get<std::string>();
                if (!text.empty()) {
                    it->content += text;
                    if (m_on_delta) m_on_delta(index, text);
                }
            }
        }
        if (auto fr = string_or_empty(c, "finish_reason"); !fr.empty()) it->finish_reason = fr;
    }
    return {};
}

Result<ChatResponse> ChatStreamAssembler::finish(std::string raw) {
    if (!m_line.empty()) {
        MATRIX_CHECK(feed("\n"));
    }
    if (m_response.choices.empty()) return make_error("stream has no choices");
    ChatResponse r = m_response;
    std::stable_sort(r.choices.begin(), r.choices.end(),
                     [](const ChatChoice& a, const ChatChoice& b) { return a.index < b.index; });
    r.raw = std::move(raw);
    return r;
}

}  // namespace matrix::net
