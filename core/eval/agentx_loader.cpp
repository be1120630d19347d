// Agent-X data.json loader and tool metadata (see agentx_loader.h).
#include "core/eval/agentx_loader.h"

#include <filesystem>
#include <optional>
#include <set>

#include "core/eval/json_file.h"
#include "core/eval/py_compat.h"
#include "core/util/json_input.h"

namespace fs = std::filesystem;

namespace matrix::eval {

Result<AgentXToolMeta> load_agentx_toolmeta(const std::string& path) {
    MATRIX_TRY(auto doc, read_json_file(path));
    if (!doc.is_object()) return make_error("tool metadata must be an object keyed by tool name", path);
    AgentXToolMeta meta;
    for (auto it = doc.begin(); it != doc.end(); ++it) meta.tools[it.key()] = to_json(it.value());
    return meta;
}

std::vector<std::string> split_tool_field(const nlohmann::json& tool) {
    std::vector<std::string> out;
    auto add = [&](const std::string& s) {
        size_t start = 0;
        while (start <= s.size()) {
            size_t end = s.find_first_of(",;", start);
            if (end == std::string::npos) end = s.size();
            std::string name = py::strip(s.substr(start, end - start));
            if (!name.empty()) out.push_back(name);
            start = end + 1;
        }
    };
    if (tool.is_string()) add(tool.get<std::string>());
    else if (tool.is_array()) {
        for (const auto& t : tool) {
            if (t.is_string()) add(t.get<std::string>());
        }
    }
    return out;
}

namespace {

std::vector<std::string> file_fields(const nlohmann::json& rec) {
    std::vector<std::string> out;
    for (const char* key : {"file_path", "File path", "files", "image", "images", "image_path"}) {
        if (!rec.contains(key)) continue;
        const auto& v = rec[key];
        if (v.is_string() && !v.get<std::string>().empty()) out.push_back(v);
        else if (v.is_array()) {
            for (const auto& e : v) {
                if (e.is_string()) out.push_back(e);
                else if (e.is_object() && e.contains("path") && e["path"].is_string()) out.push_back(e["path"]);
            }
        }
        if (!out.empty()) break;
    }
    return out;
}

std::string answer_text(const nlohmann::json& fa) {
    if (fa.is_object() && fa.contains("value")) return text_of(fa["value"]);
    return fa.is_null() ? std::string() : text_of(fa);
}

Result<BenchItem> parse_record(const std::string& id, const nlohmann::json& rec, const fs::path& root,
                               const AgentXToolMeta& meta, std::vector<std::string>& warnings) {
    if (!rec.is_object()) return make_error("record is not an object", "task " + id);
    if (!rec.contains("query") || !rec["query"].is_string()) return make_error("missing 'query'", "task " + id);
    BenchItem item;
    item.id = id;
    item.raw = rec;
    item.query = rec["query"];
    item.form = AnswerForm::objective;
    if (rec.contains("query_type") && rec["query_type"].is_string()) item.category = rec["query_type"];
    std::error_code ec;
    for (const auto& p : file_fields(rec)) {
        BenchFile bf;
        bf.path = p;
        const std::string ext = fs::path(p).extension().string();
        bf.type = (ext == ".mp4" || ext == ".avi" || ext == ".mov") ? "video" : "image";
        if (fs::exists(root / p, ec)) bf.resolved = fs::absolute(root / p, ec).lexically_normal().string();
        item.files.push_back(std::move(bf));
    }
    item.gold_steps.push_back({"user", "", item.query, {}, "", nlohmann::json()});
    std::set<std::string> tool_set;
    nlohmann::json final_answer = rec.contains("final_answer") ? rec["final_answer"] : nlohmann::json();
    if (rec.contains("reasoning_steps") && rec["reasoning_steps"].is_array()) {
        for (const auto& s : rec["reasoning_steps"]) {
            if (!s.is_object()) continue;
            if (s.contains("final_answer") && !s.contains("tool")) {
                if (final_answer.is_null()) final_answer = s["final_answer"];
                continue;
            }
            GoldStep step;
            step.role = "assistant";
            step.raw = s;
            if (s.contains("thought")) step.thought = text_of(s["thought"]);
            if (s.contains("task")) step.content = text_of(s["task"]);
            if (s.contains("output")) step.observation = text_of(s["output"]);
            nlohmann::json input = s.contains("input") ? s["input"] : nlohmann::json();
            for (const auto& name : split_tool_field(s.contains("tool") ? s["tool"] : nlohmann::json())) {
                if (!meta.tools.empty() && !meta.has(name)) {
                    warnings.push_back("task " + id + ": unknown tool '" + name + "' in a reasoning step");
                }
                tool_set.insert(name);
                step.tool_calls.push_back({name, nlohmann::json{{"input", input}}});
            }
            item.gold_steps.push_back(std::move(step));
        }
    }
    if (tool_set.empty() && rec.contains("tool_metadata") && rec["tool_metadata"].is_object()) {
        for (auto it = rec["tool_metadata"].begin(); it != rec["tool_metadata"].end(); ++it) {
            tool_set.insert(it.key());
        }
    }
    item.tools.assign(tool_set.begin(), tool_set.end());
    item.gold_answer = final_answer;
    item.gold_answer_text = answer_text(final_answer);
    item.gold_steps.push_back({"assistant", "", item.gold_answer_text, {}, "", nlohmann::json()});
    return item;
}

}  // namespace

Result<Benchmark> load_agentx(const std::string& path, const AgentXToolMeta& meta, uint64_t max_record_bytes) {
    std::error_code ec;
    fs::path file = path;
    if (fs::is_directory(file, ec)) file /= "data.json";
    // Record by record: the file's text and one record's DOM at a time.
    MATRIX_TRY(auto doc, read_json_members(file.string()));
    Benchmark bench;
    bench.kind = BenchKind::agentx;
    bench.name = "agentx";
    bench.source_path = fs::absolute(file, ec).string();
    const fs::path root = file.parent_path();
    auto add = [&](const std::string& id, nlohmann::json rec) {
        if (rec.is_array()) {
            if (rec.empty()) {
                bench.warnings.push_back(file.string() + ": task " + id + ": empty record list");
                return;
            }
            nlohmann::json first = std::move(rec[0]);
            rec = std::move(first);
        }
        Result<BenchItem> item = make_error("not parsed");
        try {
            item = parse_record(id, rec, root, meta, bench.warnings);
        } catch (const nlohmann::json::exception& e) {  // a field of an unexpected type: this record only
            item = make_error("a field has an unexpected type (" + json_exception_reason(e) + ")", "task " + id);
        }
        if (!item.ok()) bench.warnings.push_back(item.error().within(file.string()).to_string());
        else bench.items.push_back(std::move(item).value());
    };
    // The record's DOM, or a warning (over the size limit) naming `what`.
    auto record = [&](const JsonMember& m, const std::string& what) -> std::optional<nlohmann::json> {
        const std::string where = what + " (byte " + std::to_string(m.offset) + ")";
        if (doc.too_large(m, max_record_bytes)) {
            bench.warnings.push_back(make_error(record_over_limit_reason(m.end - m.offset, max_record_bytes), where)
                                         .within(file.string())
                                         .to_string());
            return std::nullopt;
        }
        auto rec = parse_json(doc.value_text(m));
        if (!rec.ok()) {
            bench.warnings.push_back(rec.error().within(where).within(file.string()).to_string());
            return std::nullopt;
        }
        return std::move(rec).value();
    };
    if (doc.type == nlohmann::json::value_t::object) {
        for (const JsonMember& m : doc.members)
            if (auto rec = record(m, "task " + m.key)) add(m.key, std::move(*rec));
    } else if (doc.type == nlohmann::json::value_t::array) {
        int i = 0;
        for (const JsonMember& m : doc.members) {
            if (auto rec = record(m, "record " + std::to_string(i))) {
                std::string id = rec->is_object() && rec->contains("id") ? text_of((*rec)["id"]) : std::to_string(i);
                add(id, std::move(*rec));
            }
            ++i;
        }
    } else {
        return make_error("Agent-X data must be an object keyed by task id or a list", file.string());
    }
    return bench;
}

}  // namespace matrix::eval
