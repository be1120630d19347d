// GTA step-by-step mode (see gta_step.h).
#include "core/eval/gta_step.h"

#include <cstdio>

#include "core/agent/agent_loop.h"
#include "core/eval/gta_metrics.h"
#include "core/eval/json_file.h"
#include "core/conversation/action.h"
#include "core/conversation/steps.h"

using nlohmann::json;

namespace matrix::eval {

const char* const k_gta_summarise_instruction =
    "Please summarize the chat history and give a final answer. Do not call any tools.";

namespace {

bool is_tool_message(const json& m) { return m.is_object() && m.contains("tool_calls"); }

// The gold thought without code fences: some GTA thoughts end in a stray "```", which would open a code block
// in front of the "Code:" label.
std::string clean_thought(std::string t) {
    for (size_t p; (p = t.find("```")) != std::string::npos;) t.erase(p, 3);
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    return t;
}

std::string type_name(const json& io) {
    return io.is_object() && io.contains("type") && io["type"].is_string() ? io["type"].get<std::string>() : "any";
}

}  // namespace

std::string gta_task_text(const eval::BenchItem& item) {
    std::string text = item.query;
    if (!item.files.empty()) {
        text += "\nAttachment:\n";
        for (size_t i = 0; i < item.files.size(); ++i) text += (i ? "\n" : "") + item.files[i].path;
    }
    return "Task: " + text;
}

std::string gta_step_system_prompt(const eval::BenchItem& item) {
    std::string prompt = agent::bundled_system_prompt();
    const size_t at = prompt.rfind("\nTools:\n");
    if (at != std::string::npos) prompt.resize(at);
    std::string tools = "\nTools:\n";
    const json list = item.raw.is_object() && item.raw.contains("tools") ? item.raw["tools"] : json::array();
    for (const auto& t : list) {
        if (!t.is_object() || !t.contains("name")) continue;
        std::string sig = "- " + t.value("name", std::string()) + "(";
        bool first = true;
        for (const auto& in : t.value("inputs", json::array())) {
            if (!first) sig += ", ";
            first = false;
            sig += (in.is_object() && in.contains("name") && in["name"].is_string() ? in["name"].get<std::string>() : "x") +
                   ": " + type_name(in);
            if (in.is_object() && in.value("optional", false)) sig += " = " + python_literal(in.value("default", json()));
        }
        const json outs = t.value("outputs", json::array());
        sig += ") -> " + (outs.is_array() && !outs.empty() ? type_name(outs[0]) : std::string("any")) + "\n";
        if (t.contains("description") && t["description"].is_string()) sig += "    " + t["description"].get<std::string>() + "\n";
        tools += sig;
    }
    if (list.empty()) {  // a benchmark stored without tool descriptions: the names the item offers
        for (const auto& name : item.tools) tools += "- " + name + "(...)\n";
    }
    tools += "- final_answer(answer) -> None\n    Ends the task with the given answer.\n";
    return prompt + tools;
}

std::string python_literal(const json& v) {
    switch (v.type()) {
        case json::value_t::null: return "None";
        case json::value_t::boolean: return v.get<bool>() ? "True" : "False";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned: return v.dump();
        case json::value_t::number_float: {
            std::string s = v.dump();
            if (s.find_first_of(".eE") == std::string::npos) s += ".0";
            return s;
        }
        case json::value_t::string: {
            std::string out = "\"";
            for (unsigned char c : v.get_ref<const std::string&>()) {
                switch (c) {
                    case '"': out += "\\\""; break;
                    case '\\': out += "\\\\"; break;
                    case '\n': out += "\\n"; break;
                    case '\r': out += "\\r"; break;
                    case '\t': out += "\\t"; break;
                    default:
                        if (c < 0x20 || c == 0x7f) {
                            char buf[8];
                            std::snprintf(buf, sizeof buf, "\\x%02x", c);
                            out += buf;
                        } else {
                            out += char(c);
                        }
                }
            }
            return out + "\"";
        }
        case json::value_t::array: {
            std::string out = "[";
            for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + python_literal(v[i]);
            return out + "]";
        }
        case json::value_t::object: {
            std::string out = "{";
            bool first = true;
            for (auto it = v.begin(); it != v.end(); ++it) {
                out += (first ? "" : ", ") + python_literal(json(it.key())) + ": " + python_literal(it.value());
                first = false;
            }
            return out + "}";
        }
        default: return "None";
    }
}

std::string gta_gold_action(const json& gold) {
    const std::string thought = clean_thought(gold.is_object() ? gold.value("thought", std::string()) : std::string());
    std::string code;
    if (is_tool_message(gold) && gold["tool_calls"].is_array() && !gold["tool_calls"].empty()) {
        const json fn = gold["tool_calls"][0].value("function", json::object());
        std::string call = fn.value("name", std::string()) + "(";
        json args = fn.contains("arguments") ? fn["arguments"] : json::object();
        if (args.is_string()) args = json::parse(args.get<std::string>(), nullptr, false);
        bool first = true;
        if (args.is_object()) {
            for (auto it = args.begin(); it != args.end(); ++it) {
                call += (first ? "" : ", ") + it.key() + "=" + python_literal(it.value());
                first = false;
            }
        }
        code = "print(" + call + "))";
    } else {
        const json content = gold.is_object() && gold.contains("content") ? gold["content"] : json("");
        code = "final_answer(" + python_literal(json(eval::text_of(content))) + ")";
    }
    return conversation::render_action(thought.empty() ? "I will do the next step." : thought, code);
}

json gta_message_of_action(const std::string& text) {
    const conversation::ParsedAction a = conversation::parse_action(text);
    if (a.is_final) {
        return {{"role", "assistant"}, {"content", a.final_answer ? eval::text_of(*a.final_answer) : std::string()}};
    }
    for (const auto& c : a.tool_calls) {
        if (c.name == "final_answer") continue;
        const std::string gta = eval::gta_tool_for_agent_tool(c.name);
        return {{"role", "assistant"},
                {"tool_calls", json::array({{{"type", "function"},
                                             {"function", {{"name", gta.empty() ? c.name : gta},
                                                           {"arguments", c.arguments}}}}})}};
    }
    const std::string why = !a.has_code ? "the reply has no code block" : "the code calls no tool";
    return {{"role", "assistant"},
            {"tool_calls", json::array({{{"type", "function"},
                                         {"function", {{"name", "NoAction"}, {"arguments", json::object()}}}}})},
            {"error", {{"type", "NoAction"}, {"msg", why}}}};
}

std::vector<GtaStepContext> gta_step_contexts(const eval::BenchItem& item, int item_ordinal,
                                              const std::string& system_prompt, const std::vector<std::string>& images) {
    agent::AgentTask task;
    task.system_prompt = system_prompt;
    task.task_text = gta_task_text(item);
    task.images = images;
    std::vector<GtaStepContext> out;
    std::vector<store::Step> prefix;  // the gold dialog so far, as agent steps
    int n_assistant = 0;
    for (const auto& g : item.gold_steps) {
        if (g.role == "assistant") {
            GtaStepContext c;
            c.item_id = item.id;
            c.item_ordinal = item_ordinal;
            c.position = n_assistant++;
            c.gold = g.raw;
            c.summarise = !is_tool_message(g.raw);
            c.messages = agent::agent_prompt(task, prefix);
            if (c.summarise) {
                // Consecutive user turns are one turn joined with "\n=======\n", as the reference agent joins them.
                auto& last = c.messages.back();
                if (last.role == "user") {
                    last.content.push_back(tok::ContentPart::make_text(std::string("\n=======\n") +
                                                                       k_gta_summarise_instruction));
                } else {
                    c.messages.push_back(tok::ChatMessage::make("user", k_gta_summarise_instruction));
                }
            }
            out.push_back(std::move(c));
            const std::string action = gta_gold_action(g.raw);
            store::Step s = conversation::step_from_action(int(prefix.size()), action);
            s.action = action;
            prefix.push_back(std::move(s));
        } else if (g.role == "tool" && !prefix.empty()) {
            prefix.back().observation = g.content;
        }
    }
    return out;
}

Result<std::string> PerturbedGoldAnswerer::answer(const GtaStepContext& step, const std::atomic<bool>*) {
    json gold = step.gold;
    const int k = step.item_ordinal + step.position;
    if (is_tool_message(gold) && gold["tool_calls"].is_array() && !gold["tool_calls"].empty()) {
        json& fn = gold["tool_calls"][0]["function"];
        if (k % 3 == 0) {
            fn["name"] = fn.value("name", std::string()) + "X";
        } else if (k % 3 == 1) {
            if (!fn.contains("arguments") || !fn["arguments"].is_object()) fn["arguments"] = json::object();
            fn["arguments"]["perturbed"] = true;
        }
        return gta_gold_action(gold);
    }
    if (step.item_ordinal % 2 == 0) gold["content"] = "I do not know";
    return gta_gold_action(gold);
}

Result<std::string> ControllerStepAnswerer::answer(const GtaStepContext& step, const std::atomic<bool>* cancel) {
    agent::GenerationSettings settings = m_settings;
    // A seed per step, so a sampled run does not depend on which worker took which item.
    settings.seed = m_settings.seed + uint64_t(step.item_ordinal) * 1000 + uint64_t(step.position);
    std::unique_lock<std::mutex> lock(m_mutex, std::defer_lock);
    if (m_serialise) lock.lock();
    MATRIX_TRY(auto candidates, m_controller->generate(step.messages, settings, cancel));
    if (candidates.empty()) return make_error("the controller gave no candidate");
    return candidates.front().text;
}

}  // namespace matrix::eval
