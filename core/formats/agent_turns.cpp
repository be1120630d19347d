// Shared turn parsing for the format converters (see agent_turns.h).
#include "core/formats/agent_turns.h"

#include "core/formats/trajectory_parser.h"

namespace matrix::formats {

namespace {
std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}
}  // namespace

UserPrompt parse_user_prompt(std::string_view text) {
    UserPrompt u;
    std::string_view rest = text;
    // Leading <image> placeholders.
    for (;;) {
        std::string_view t = rest;
        while (!t.empty() && (t.front() == '\n' || t.front() == ' ')) t.remove_prefix(1);
        if (t.rfind("<image>", 0) != 0) break;
        ++u.image_placeholders;
        rest = t.substr(7);
    }
    // Picture lines.
    std::string body;
    size_t pos = 0;
    while (pos < rest.size()) {
        size_t nl = rest.find('\n', pos);
        std::string_view line = rest.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        std::string_view l = trim(line);
        size_t img = l.find("<img>"), end = l.find("</img>");
        if (l.rfind("Picture ", 0) == 0 && img != std::string_view::npos && end != std::string_view::npos && end > img) {
            u.pictures.emplace_back(l.substr(img + 5, end - img - 5));
        } else {
            body.append(line.data(), line.size());
            if (nl != std::string_view::npos) body += '\n';
        }
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    std::string_view b = body;
    size_t att = b.rfind("Attachment:");
    if (att != std::string_view::npos && (att == 0 || b[att - 1] == '\n' || b[att - 1] == ' ')) {
        std::string_view list = b.substr(att + 11);
        size_t p = 0;
        while (p <= list.size()) {
            size_t semi = list.find(';', p);
            std::string_view item = trim(list.substr(p, semi == std::string_view::npos ? std::string_view::npos : semi - p));
            if (!item.empty()) u.attachments.emplace_back(item);
            if (semi == std::string_view::npos) break;
            p = semi + 1;
        }
        b = b.substr(0, att);
    }
    size_t task = b.find("Task:");
    if (task != std::string_view::npos) b = b.substr(task + 5);
    u.task = std::string(trim(b));
    return u;
}

std::string_view strip_end_action(std::string_view action) {
    constexpr std::string_view tag = "<end_action>";
    std::string_view a = action;
    while (!a.empty() && (a.back() == '\n' || a.back() == ' ')) a.remove_suffix(1);
    if (a.size() >= tag.size() && a.substr(a.size() - tag.size()) == tag) return a.substr(0, a.size() - tag.size());
    return action;
}

store::Step step_from_action(int idx, const std::string& action) {
    store::Step s;
    s.idx = idx;
    s.action = action;
    ParsedAction a = parse_action(strip_end_action(action));
    s.thought = std::move(a.thought);
    s.code = std::move(a.code);
    s.is_final = a.is_final;
    int pos = 0;
    for (auto& c : a.tool_calls) {
        store::ToolCallRow row;
        row.position = pos++;
        row.name = std::move(c.name);
        row.arguments = c.arguments.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        row.known = c.known;
        s.tool_calls.push_back(std::move(row));
    }
    return s;
}

void set_step_observation(store::Step& step, const std::string& turn) {
    ParsedObservation o = parse_observation(turn);
    if (o.well_formed) {
        step.is_error = o.is_error;
        step.observation = std::move(o.text);
    } else {
        step.observation = turn;
    }
    if (store::render_observation_turn(step.idx, step.is_error, *step.observation) != turn) step.observation_raw = turn;
}

}  // namespace matrix::formats
