// Synthesis prompts: bundled texts, project overrides, placeholders (see synth_prompts.h).
#include "core/synth/synth_prompts.h"

#include <nlohmann/json.hpp>

#include "core/util/sha256.h"

namespace matrix::synth {

extern const char* const k_synth_prompt_queries;
extern const char* const k_synth_prompt_file_content;
extern const char* const k_synth_prompt_file_code;
extern const char* const k_synth_prompt_verify_files;
extern const char* const k_synth_prompt_verify_trajectory;

namespace {
const char* const k_user_marker = "=== user ===";
std::string setting_key(const std::string& name) { return "synth.prompt." + name; }
}  // namespace

const std::vector<std::string>& synth_prompt_names() {
    static const std::vector<std::string> names = {"queries", "file_content", "file_code", "verify_files",
                                                   "verify_trajectory"};
    return names;
}

std::string bundled_synth_prompt(const std::string& name) {
    if (name == "queries") return k_synth_prompt_queries;
    if (name == "file_content") return k_synth_prompt_file_content;
    if (name == "file_code") return k_synth_prompt_file_code;
    if (name == "verify_files") return k_synth_prompt_verify_files;
    if (name == "verify_trajectory") return k_synth_prompt_verify_trajectory;
    return {};
}

Result<SynthPrompt> parse_synth_prompt(const std::string& name, const std::string& text) {
    const size_t at = text.find(k_user_marker);
    if (at == std::string::npos)
        return make_error("prompt '" + name + "' has no line \"" + std::string(k_user_marker) + "\"");
    auto trim = [](std::string s) {
        while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
        size_t b = 0;
        while (b < s.size() && (s[b] == '\n' || s[b] == '\r')) ++b;
        return s.substr(b);
    };
    SynthPrompt p;
    p.name = name;
    p.system = trim(text.substr(0, at));
    p.user = trim(text.substr(at + std::string(k_user_marker).size()));
    if (p.user.empty()) return make_error("prompt '" + name + "' has an empty user part");
    p.sha256 = sha256_hex(text);
    return p;
}

Result<SynthPrompt> load_synth_prompt(store::Database& db, const std::string& name) {
    const std::string bundled = bundled_synth_prompt(name);
    if (bundled.empty()) return make_error("no synthesis prompt named '" + name + "'");
    MATRIX_TRY(store::Statement st, db.prepare("SELECT value FROM settings WHERE key=?"));
    st.bind_all(setting_key(name));
    MATRIX_TRY(bool row, st.step());
    if (row) {
        const auto v = nlohmann::json::parse(st.column_text(0), nullptr, false);
        if (!v.is_string()) return make_error("project setting " + setting_key(name) + " is not a JSON string");
        auto parsed = parse_synth_prompt(name, v.get<std::string>());
        if (!parsed.ok()) return parsed.error().within("project setting " + setting_key(name));
        parsed->overridden = true;
        return parsed;
    }
    return parse_synth_prompt(name, bundled);
}

Status set_synth_prompt_override(store::Database& db, const std::string& name, const std::string& text) {
    if (bundled_synth_prompt(name).empty()) return make_error("no synthesis prompt named '" + name + "'");
    if (text.empty()) {
        MATRIX_TRY(store::Statement st, db.prepare("DELETE FROM settings WHERE key=?"));
        st.bind_all(setting_key(name));
        return st.run();
    }
    if (auto parsed = parse_synth_prompt(name, text); !parsed.ok()) return parsed.error();
    MATRIX_TRY(store::Statement st, db.prepare("INSERT OR REPLACE INTO settings(key, value) VALUES(?,?)"));
    st.bind_all(setting_key(name), nlohmann::json(text).dump());
    return st.run();
}

Result<std::string> fill_prompt(const std::string& text, const std::map<std::string, std::string>& values) {
    std::string out;
    size_t pos = 0;
    for (;;) {
        const size_t open = text.find("{{", pos);
        if (open == std::string::npos) break;
        const size_t close = text.find("}}", open + 2);
        if (close == std::string::npos) break;
        const std::string key = text.substr(open + 2, close - open - 2);
        auto it = values.find(key);
        if (it == values.end()) return make_error("prompt placeholder {{" + key + "}} has no value");
        out.append(text, pos, open - pos);
        out += it->second;
        pos = close + 2;
    }
    out.append(text, pos, std::string::npos);
    return out;
}

}  // namespace matrix::synth
