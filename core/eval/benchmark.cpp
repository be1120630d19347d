// Names of benchmark kinds and answer forms, and item lookup.
#include "core/eval/benchmark.h"

namespace matrix::eval {

const char* to_string(BenchKind kind) {
    switch (kind) {
        case BenchKind::gta: return "gta";
        case BenchKind::gaia: return "gaia";
        case BenchKind::agentx: return "agentx";
    }
    return "gta";
}

std::optional<BenchKind> bench_kind_from_string(const std::string& s) {
    if (s == "gta") return BenchKind::gta;
    if (s == "gaia") return BenchKind::gaia;
    if (s == "agentx" || s == "agent-x") return BenchKind::agentx;
    return std::nullopt;
}

const char* to_string(AnswerForm form) {
    switch (form) {
        case AnswerForm::objective: return "objective";
        case AnswerForm::subjective: return "subjective";
        case AnswerForm::image_generation: return "image_generation";
    }
    return "objective";
}

const BenchItem* Benchmark::find(const std::string& id) const {
    for (const auto& item : items) {
        if (item.id == id) return &item;
    }
    return nullptr;
}

nlohmann::json item_to_json(const BenchItem& item) {
    using nlohmann::json;
    json files = json::array();
    for (const auto& f : item.files) {
        files.push_back({{"type", f.type}, {"path", f.path}, {"resolved", f.resolved}, {"url", f.url}});
    }
    json steps = json::array();
    for (const auto& s : item.gold_steps) {
        json calls = json::array();
        for (const auto& c : s.tool_calls) calls.push_back({{"name", c.name}, {"arguments", c.arguments}});
        steps.push_back({{"role", s.role}, {"thought", s.thought}, {"content", s.content}, {"tool_calls", calls},
                         {"observation", s.observation}, {"raw", s.raw}});
    }
    json out = {{"id", item.id},          {"query", item.query},
                {"form", to_string(item.form)}, {"level", item.level},
                {"category", item.category}, {"files", files},
                {"tools", item.tools},    {"gold_answer", item.gold_answer},
                {"gold_answer_text", item.gold_answer_text}, {"gold_steps", steps}};
    // GTA's tool descriptions (name, inputs, outputs): what a step-mode prompt lists for the item.
    if (item.raw.is_object() && item.raw.contains("tools") && item.raw["tools"].is_array() && !item.raw["tools"].empty() &&
        item.raw["tools"][0].is_object())
        out["tool_meta"] = item.raw["tools"];
    return out;
}

BenchItem item_from_json(const nlohmann::json& j) {
    BenchItem item;
    item.id = j.value("id", std::string());
    item.query = j.value("query", std::string());
    const std::string form = j.value("form", std::string("objective"));
    item.form = form == "subjective" ? AnswerForm::subjective
                : form == "image_generation" ? AnswerForm::image_generation : AnswerForm::objective;
    item.level = j.value("level", 0);
    item.category = j.value("category", std::string());
    if (j.contains("files")) {
        for (const auto& f : j["files"]) {
            item.files.push_back({f.value("type", std::string()), f.value("path", std::string()),
                                  f.value("resolved", std::string()), f.value("url", std::string())});
        }
    }
    if (j.contains("tools")) item.tools = j["tools"].get<std::vector<std::string>>();
    if (j.contains("tool_meta")) item.raw = {{"tools", j["tool_meta"]}};
    item.gold_answer = j.contains("gold_answer") ? j["gold_answer"] : nlohmann::json();
    item.gold_answer_text = j.value("gold_answer_text", std::string());
    if (j.contains("gold_steps")) {
        for (const auto& s : j["gold_steps"]) {
            GoldStep g;
            g.role = s.value("role", std::string());
            g.thought = s.value("thought", std::string());
            g.content = s.value("content", std::string());
            g.observation = s.value("observation", std::string());
            g.raw = s.contains("raw") ? s["raw"] : nlohmann::json();
            if (s.contains("tool_calls")) {
                for (const auto& c : s["tool_calls"]) {
                    g.tool_calls.push_back({c.value("name", std::string()),
                                            c.contains("arguments") ? c["arguments"] : nlohmann::json::object()});
                }
            }
            item.gold_steps.push_back(std::move(g));
        }
    }
    return item;
}

}  // namespace matrix::eval
