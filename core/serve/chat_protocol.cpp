// Parsing and answering the chat-completions protocol (see chat_protocol.h).
#include "core/serve/chat_protocol.h"

#include <nlohmann/json.hpp>

namespace matrix::serve {

using nlohmann::json;

namespace {
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

ApiError bad(std::string message, std::string param = {}, std::string code = {}) {
    ApiError e;
    e.status = 400;
    e.message = std::move(message);
    e.param = std::move(param);
    e.code = std::move(code);
    return e;
}

json null_or(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

// Reads an optional number field; false (and sets err) when present with the wrong type or out of [lo, hi].
bool read_number(const json& body, const char* key, double lo, double hi, double& out, ApiError& err) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return true;
    if (!it->is_number()) {
        err = bad(std::string("'") + key + "' must be a number", key);
        return false;
    }
    const double v = it->get<double>();
    if (!(v >= lo && v <= hi)) {
        err = bad(std::string("'") + key + "' must be between " + json(lo).dump() + " and " + json(hi).dump() +
                      ", got " + it->dump(),
                  key);
        return false;
    }
    out = v;
    return true;
}

bool read_int(const json& body, const char* key, int64_t lo, int64_t hi, std::optional<int64_t>& out, ApiError& err) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return true;
    if (!it->is_number_integer()) {
        err = bad(std::string("'") + key + "' must be an integer", key);
        return false;
    }
    const int64_t v = it->get<int64_t>();
    if (v < lo || v > hi) {
        err = bad(std::string("'") + key + "' must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                      ", got " + std::to_string(v),
                  key);
        return false;
    }
    out = v;
    return true;
}

bool read_bool(const json& body, const char* key, bool& out, ApiError& err) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null()) return true;
    if (!it->is_boolean()) {
        err = bad(std::string("'") + key + "' must be a boolean", key);
        return false;
    }
    out = it->get<bool>();
    return true;
}

bool read_message(const json& m, size_t i, ChatMessageIn& out, ApiError& err) {
    const std::string param = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) {
        err = bad(param + " must be an object", param);
        return false;
    }
    auto role = m.find("role");
    if (role == m.end() || !role->is_string() || role->get<std::string>().empty()) {
        err = bad(param + ".role must be a non-empty string", param + ".role");
        return false;
    }
    out.role = role->get<std::string>();
    auto content = m.find("content");
    if (content == m.end() || content->is_null()) return true;  // an assistant turn with tool calls only
    if (content->is_string()) {
        out.parts.push_back({false, content->get<std::string>(), {}});
        return true;
    }
    if (!content->is_array()) {
        err = bad(param + ".content must be a string or an array of parts", param + ".content");
        return false;
    }
    for (size_t k = 0; k < content->size(); ++k) {
        const json& p = (*content)[k];
        const std::string pp = param + ".content[" + std::to_string(k) + "]";
        const std::string type = p.is_object() && p.contains("type") && p["type"].is_string() ? p["type"].get<std::string>() : "";
        if (type == "text") {
            if (!p.contains("text") || !p["text"].is_string()) {
                err = bad(pp + ".text must be a string", pp + ".text");
                return false;
            }
            out.parts.push_back({false, p["text"].get<std::string>(), {}});
        } else if (type == "image_url") {
            auto iu = p.find("image_url");
            std::string url;
            if (iu != p.end() && iu->is_string()) url = iu->get<std::string>();
            else if (iu != p.end() && iu->is_object() && iu->contains("url") && (*iu)["url"].is_string())
                url = (*iu)["url"].get<std::string>();
            if (url.empty()) {
                err = bad(pp + ".image_url.url must be a non-empty string", pp + ".image_url");
                return false;
            }
            out.parts.push_back({true, {}, url});
        } else {
            err = bad(pp + ": unsupported content part type '" + type + "' (text and image_url are)", pp + ".type");
            return false;
        }
    }
    return true;
}
}  // namespace

std::string error_body(const ApiError& e) {
    return dump(json{{"error",
                      {{"message", e.message}, {"type", e.type}, {"param", null_or(e.param)}, {"code", null_or(e.code)}}}});
}

ParsedRequest parse_chat_completion(std::string_view text, int64_t max_n) {
    ParsedRequest out;
    json body = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) {
        out.error = bad("the request body is not valid JSON");
        return out;
    }
    if (!body.is_object()) {
        out.error = bad("the request body must be a JSON object");
        return out;
    }
    ChatCompletionRequest r;
    ApiError& err = out.error;
    if (auto it = body.find("model"); it != body.end() && !it->is_null()) {
        if (!it->is_string()) {
            err = bad("'model' must be a string", "model");
            return out;
        }
        r.model = it->get<std::string>();
    }
    auto msgs = body.find("messages");
    if (msgs == body.end() || !msgs->is_array() || msgs->empty()) {
        err = bad("'messages' must be a non-empty array", "messages");
        return out;
    }
    for (size_t i = 0; i < msgs->size(); ++i) {
        ChatMessageIn m;
        if (!read_message((*msgs)[i], i, m, err)) return out;
        r.messages.push_back(std::move(m));
    }
    if (!read_number(body, "temperature", 0.0, 2.0, r.temperature, err)) return out;
    if (!read_number(body, "top_p", 0.0, 1.0, r.top_p, err)) return out;
    if (body.contains("top_p") && body["top_p"].is_number() && r.top_p <= 0.0) {
        err = bad("'top_p' must be in (0, 1]", "top_p");
        return out;
    }
    std::optional<int64_t> top_k, max_tokens, n, seed;
    if (!read_int(body, "top_k", -1, INT32_MAX, top_k, err)) return out;
    if (top_k) r.top_k = *top_k < 0 ? 0 : *top_k;
    if (!read_number(body, "repetition_penalty", 1e-6, 100.0, r.repetition_penalty, err)) return out;
    if (!read_int(body, "max_completion_tokens", 1, INT32_MAX, max_tokens, err)) return out;
    if (!max_tokens && !read_int(body, "max_tokens", 1, INT32_MAX, max_tokens, err)) return out;
    r.max_tokens = max_tokens;
    if (!read_int(body, "n", 1, max_n, n, err)) return out;
    if (n) r.n = *n;
    if (!read_int(body, "seed", INT64_MIN, INT64_MAX, seed, err)) return out;
    if (seed) r.seed = static_cast<uint64_t>(*seed);
    if (!read_bool(body, "stream", r.stream, err)) return out;
    if (!read_bool(body, "return_token_ids", r.return_token_ids, err)) return out;
    if (auto it = body.find("stream_options"); it != body.end() && !it->is_null()) {
        if (!it->is_object()) {
            err = bad("'stream_options' must be an object", "stream_options");
            return out;
        }
        if (!read_bool(*it, "include_usage", r.include_usage, err)) return out;
    }
    if (auto it = body.find("stop"); it != body.end() && !it->is_null()) {
        if (it->is_string()) {
            r.stop.push_back(it->get<std::string>());
        } else if (it->is_array()) {
            for (auto& s : *it) {
                if (!s.is_string()) {
                    err = bad("'stop' must be a string or an array of strings", "stop");
                    return out;
                }
                r.stop.push_back(s.get<std::string>());
            }
        } else {
            err = bad("'stop' must be a string or an array of strings", "stop");
            return out;
        }
        for (auto& s : r.stop)
            if (s.empty()) {
                err = bad("'stop' strings must not be empty", "stop");
                return out;
            }
    }
    out.request = std::move(r);
    return out;
}

std::string completion_body(const ResponseMeta& meta, const std::vector<ChoiceOut>& choices, const UsageOut& usage,
                            const std::vector<int64_t>* prompt_ids) {
    json cs = json::array();
    for (size_t i = 0; i < choices.size(); ++i) {
        json c = {{"index", i},
                  {"message", {{"role", "assistant"}, {"content", choices[i].text}}},
                  {"logprobs", nullptr},
                  {"finish_reason", choices[i].finish_reason}};
        if (prompt_ids) c["token_ids"] = choices[i].token_ids;
        cs.push_back(std::move(c));
    }
    json j = {{"id", meta.id},
              {"object", "chat.completion"},
              {"created", meta.created},
              {"model", meta.model},
              {"choices", std::move(cs)},
              {"usage",
               {{"prompt_tokens", usage.prompt_tokens},
                {"completion_tokens", usage.completion_tokens},
                {"total_tokens", usage.prompt_tokens + usage.completion_tokens}}}};
    if (prompt_ids) j["prompt_token_ids"] = *prompt_ids;
    return dump(j);
}

std::string chunk_body(const ResponseMeta& meta, const ChunkDelta& d) {
    json delta = json::object();
    if (d.role) delta["role"] = *d.role;
    if (d.content) delta["content"] = *d.content;
    json c = {{"index", d.index},
              {"delta", std::move(delta)},
              {"logprobs", nullptr},
              {"finish_reason", d.finish_reason ? json(*d.finish_reason) : json(nullptr)}};
    if (d.token_ids) c["token_ids"] = *d.token_ids;
    return dump(json{{"id", meta.id},
                     {"object", "chat.completion.chunk"},
                     {"created", meta.created},
                     {"model", meta.model},
                     {"choices", json::array({std::move(c)})}});
}

std::string usage_chunk_body(const ResponseMeta& meta, const UsageOut& usage) {
    return dump(json{{"id", meta.id},
                     {"object", "chat.completion.chunk"},
                     {"created", meta.created},
                     {"model", meta.model},
                     {"choices", json::array()},
                     {"usage",
                      {{"prompt_tokens", usage.prompt_tokens},
                       {"completion_tokens", usage.completion_tokens},
                       {"total_tokens", usage.prompt_tokens + usage.completion_tokens}}}});
}

std::string models_body(const std::vector<std::string>& ids, int64_t created) {
    json data = json::array();
    for (auto& id : ids) data.push_back({{"id", id}, {"object", "model"}, {"created", created}, {"owned_by", "matrix"}});
    return dump(json{{"object", "list"}, {"data", std::move(data)}});
}

std::string sse_event(std::string_view data) {
    std::string s = "data: ";
    s.append(data);
    s += "\n\n";
    return s;
}

}  // namespace matrix::serve
