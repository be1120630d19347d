// GTA official and MATRIX answer checks (see gta_answer_check.h for the reference code they follow).
#include "core/eval/gta_answer_check.h"

#include "core/eval/py_compat.h"

namespace matrix::eval {

namespace {

// '|'.join(re.escape(alias) for alias in aliases); error when an alias is not a str (re.escape raises).
Result<std::string> join_escaped(const nlohmann::json& aliases, std::string& out) {
    if (!aliases.is_array()) return make_error("alias group is not a list");
    for (size_t i = 0; i < aliases.size(); ++i) {
        if (!aliases[i].is_string()) return make_error("alias is not a string: " + aliases[i].dump());
        if (!out.empty() || i > 0) out += "|";
        out += py::regex_escape(aliases[i].get<std::string>());
    }
    return out;
}

}  // namespace

std::string gta_group_pattern(const nlohmann::json& aliases) {
    std::string body;
    if (aliases.is_array()) {
        for (size_t i = 0; i < aliases.size(); ++i) {
            if (i) body += "|";
            body += py::regex_escape(aliases[i].is_string() ? aliases[i].get<std::string>() : py::str_of(aliases[i]));
        }
    }
    return "\\b(?:" + body + ")\\b";
}

Result<bool> gta_official_is_correct(std::string_view pred, const nlohmann::json& gt) {
    if (!gt.is_object() || !gt.contains("whitelist") || !gt["whitelist"].is_array()) {
        return make_error("gt_answer has no whitelist list");
    }
    const auto& whitelist = gt["whitelist"];
    size_t count = 0;
    for (const auto& aliases : whitelist) {
        std::string body;
        {
            std::string tmp;
            auto r = join_escaped(aliases, tmp);
            if (!r.ok()) return r.error();
            body = std::move(tmp);
        }
        auto m = py::search_ignorecase("\\b(?:" + body + ")\\b", pred);
        if (!m) return make_error("whitelist pattern does not compile");
        if (*m) ++count;
    }
    const nlohmann::json blacklist = gt.contains("blacklist") ? gt["blacklist"] : nlohmann::json();
    // `if not ref['blacklist']`: None and [] both mean "no blacklist".
    const bool no_blacklist = blacklist.is_null() || (blacklist.is_array() && blacklist.empty()) ||
                              (blacklist.is_string() && blacklist.get<std::string>().empty()) ||
                              (blacklist.is_boolean() && !blacklist.get<bool>());
    if (no_blacklist) return count == whitelist.size();
    if (!blacklist.is_array()) return make_error("blacklist is not a list");
    // One pattern over every alias of every blacklist group.
    std::string body;
    bool first = true;
    for (const auto& aliases : blacklist) {
        if (!aliases.is_array()) return make_error("blacklist group is not a list");
        for (const auto& alias : aliases) {
            if (!alias.is_string()) return make_error("alias is not a string: " + alias.dump());
            if (!first) body += "|";
            first = false;
            body += py::regex_escape(alias.get<std::string>());
        }
    }
    if (count != whitelist.size()) return false;
    auto m = py::search_ignorecase("\\b(?:" + body + ")\\b", pred);
    if (!m) return make_error("blacklist pattern does not compile");
    return !*m;
}

Result<std::optional<bool>> gta_matrix_is_correct(std::string_view answer, const nlohmann::json& gt_in) {
    nlohmann::json gt = gt_in;
    if (gt.is_object() && gt.contains("whitelist")) gt = gt["whitelist"];
    if (gt.is_null()) return std::optional<bool>();  // image generation: `if gt is None: continue`
    if (!gt.is_array()) return make_error("ground truth is neither a list nor null");
    const std::string answer_lower = py::lower(py::sanitize_utf8(answer));
    bool is_correct = true;
    for (const auto& each : gt) {
        if (each.is_string()) return std::optional<bool>();  // subjective: skipped
        if (!each.is_array()) return make_error("unexpected ground-truth element: " + each.dump());
        bool any = false;
        for (const auto& alias : each) {
            // item.lower() on a non-str raises in the reference; treat as an error too.
            if (!alias.is_string()) return make_error("alias is not a string: " + alias.dump());
            if (answer_lower.find(py::lower(py::sanitize_utf8(alias.get<std::string>()))) != std::string::npos) {
                any = true;
            }
        }
        is_correct = is_correct && any;
    }
    return std::optional<bool>(is_correct);
}

}  // namespace matrix::eval
