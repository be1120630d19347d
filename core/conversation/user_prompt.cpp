// Task turn parsing and building (see user_prompt.h).
#include "core/conversation/user_prompt.h"

#include <regex>

namespace matrix::conversation {

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

std::string_view task_query_of_turn(std::string_view text) {
    std::string_view q = text;
    if (const size_t i = q.find("Task: "); i != std::string_view::npos) q = q.substr(i + 6);
    if (const size_t a = q.find("Attachment:"); a != std::string_view::npos) q = q.substr(0, a);
    return q;
}

std::string task_turn(std::string_view task) { return "Task: " + std::string(task); }

std::string strip_picture_lines(const std::string& text) {
    // Line by line: every "Picture k: <img>PATH</img>" line goes (a regex consuming each line's newline missed
    // the second of two consecutive lines).
    static const std::regex line(R"(^Picture \d+: <img>[^<]*</img>$)");
    std::string out;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t nl = text.find('\n', start);
        const size_t end = nl == std::string::npos ? text.size() : nl;
        const std::string one = text.substr(start, end - start);
        if (!std::regex_match(one, line)) {
            out += one;
            if (nl != std::string::npos) out += '\n';
        }
        if (nl == std::string::npos) break;
        start = nl + 1;
    }
    while (!out.empty() && out.front() == '\n') out.erase(out.begin());
    return out;
}

std::string prefx_task_turn(size_t n_images, std::string_view task_text) {
    std::string out;
    for (size_t i = 0; i < n_images; ++i) out += "<image>\n";
    out += task_text;
    return out;
}

}  // namespace matrix::conversation
