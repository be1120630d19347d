// GTA-1 dataset.json loader (see gta_loader.h). Mirrors how the official GTABenchDataset reads the file.
#include "core/eval/gta_loader.h"

#include <filesystem>

#include "core/eval/json_file.h"
#include "core/util/json_input.h"

namespace fs = std::filesystem;

namespace matrix::eval {

namespace {

std::string tool_output_text(const nlohmann::json& content) {
    // GTA tool turns: {"type": "text", "content": "..."} (or an image path / other typed value).
    if (content.is_object() && content.contains("content")) return text_of(content["content"]);
    return text_of(content);
}

std::string gt_text(const nlohmann::json& gt) {
    if (gt.is_null()) return "(image generation)";
    if (gt.is_array()) return gt.empty() ? std::string() : text_of(gt[0]);
    std::string out;
    if (gt.is_object() && gt.contains("whitelist") && gt["whitelist"].is_array()) {
        for (const auto& group : gt["whitelist"]) {
            if (!out.empty()) out += " & ";
            std::string g;
            if (group.is_array()) {
                for (const auto& alias : group) g += (g.empty() ? "" : " | ") + text_of(alias);
            }
            out += g;
        }
    }
    return out;
}

}  // namespace

Result<BenchItem> parse_gta_item(const std::string& id, const nlohmann::json& rec, const std::string& root) {
    return parse_gta_item(id, nlohmann::json(rec), root);
}

Result<BenchItem> parse_gta_item(const std::string& id, nlohmann::json&& record, const std::string& root) {
    const nlohmann::json& rec = record;
    if (!rec.is_object()) return make_error("record is not an object", "item " + id);
    for (const char* key : {"dialogs", "gt_answer"}) {
        if (!rec.contains(key)) return make_error(std::string("missing key '") + key + "'", "item " + id);
    }
    if (!rec["dialogs"].is_array()) return make_error("'dialogs' is not a list", "item " + id);
    BenchItem item;
    item.id = id;
    item.gold_answer = rec["gt_answer"];
    const auto& gt = item.gold_answer;
    if (gt.is_null()) item.form = AnswerForm::image_generation;
    else if (gt.is_array()) item.form = AnswerForm::subjective;
    else if (gt.is_object() && gt.contains("whitelist")) item.form = AnswerForm::objective;
    else return make_error("gt_answer is neither {whitelist, blacklist}, a list, nor null", "item " + id);
    item.category = to_string(item.form);
    item.gold_answer_text = gt_text(gt);

    if (rec.contains("tools") && rec["tools"].is_array()) {
        for (const auto& t : rec["tools"]) {
            if (t.is_object() && t.contains("name") && t["name"].is_string()) item.tools.push_back(t["name"]);
        }
    }
    if (rec.contains("files") && rec["files"].is_array()) {
        for (size_t k = 0; k < rec["files"].size(); ++k) {
            const auto& f = rec["files"][k];
            if (!f.is_object()) continue;
            BenchFile bf;
            if (f.contains("type") && !f["type"].is_string() && !f["type"].is_null())
                return make_error("files[" + std::to_string(k) + "].type is not a string (" + f["type"].dump() + ")", "item " + id);
            bf.type = f.contains("type") && f["type"].is_string() ? f["type"].get<std::string>() : std::string();
            bf.path = f.contains("path") && f["path"].is_string() ? f["path"].get<std::string>() : std::string();
            bf.url = f.contains("url") && f["url"].is_string() ? f["url"].get<std::string>() : std::string();
            std::error_code ec;
            if (!bf.path.empty() && fs::is_regular_file(fs::path(root) / bf.path, ec)) {
                bf.resolved = fs::absolute(fs::path(root) / bf.path, ec).lexically_normal().string();
            }
            item.files.push_back(std::move(bf));
        }
    }

    int turn = 0;
    for (const auto& d : rec["dialogs"]) {
        const std::string ctx = "item " + id + ", dialog turn " + std::to_string(turn++);
        if (!d.is_object() || !d.contains("role") || !d["role"].is_string()) {
            return make_error("turn without a role", ctx);
        }
        GoldStep step;
        step.role = d["role"];
        step.raw = d;
        if (step.role == "user") {
            step.content = d.contains("content") ? text_of(d["content"]) : std::string();
            if (item.query.empty()) item.query = step.content;
        } else if (step.role == "assistant") {
            if (d.contains("thought") && d["thought"].is_string()) step.thought = d["thought"];
            if (d.contains("content") && !d["content"].is_null()) step.content = text_of(d["content"]);
            if (d.contains("tool_calls")) {
                if (!d["tool_calls"].is_array()) return make_error("'tool_calls' is not a list", ctx);
                for (const auto& tc : d["tool_calls"]) {
                    if (!tc.is_object() || !tc.contains("function") || !tc["function"].is_object()) {
                        return make_error("tool call without 'function'", ctx);
                    }
                    const auto& fn = tc["function"];
                    if (!fn.contains("name") || !fn["name"].is_string()) {
                        return make_error("tool call without a name", ctx);
                    }
                    ToolCallSpec call;
                    call.name = fn["name"];
                    if (fn.contains("arguments")) {
                        const auto& args = fn["arguments"];
                        if (args.is_string()) {  // some GTA-style files keep arguments as JSON text
                            auto parsed = parse_json(args.get<std::string>());
                            if (!parsed.ok()) return make_error("tool call arguments are not JSON (" + parsed.error().message + ")", ctx);
                            call.arguments = std::move(parsed).value();
                        } else if (args.is_object()) {
                            call.arguments = args;
                        } else if (!args.is_null()) {
                            return make_error("tool call arguments are neither an object nor JSON text", ctx);
                        }
                    }
                    step.tool_calls.push_back(std::move(call));
                }
            }
        } else if (step.role == "tool") {
            if (d.contains("name") && d["name"].is_string()) {
                step.tool_calls.push_back({d["name"].get<std::string>(), nlohmann::json::object()});
            }
            step.content = d.contains("content") ? tool_output_text(d["content"]) : std::string();
        }
        item.gold_steps.push_back(std::move(step));
    }
    item.raw = std::move(record);  // last: `rec` refers to it until here
    return item;
}

Result<Benchmark> load_gta(const std::string& path, uint64_t max_record_bytes) {
    std::error_code ec;
    fs::path file = path;
    if (fs::is_directory(file, ec)) file /= "dataset.json";
    // Item by item: the file's text and one item's DOM at a time, never the whole file's DOM.
    MATRIX_TRY(auto doc, read_json_members(file.string()));
    if (doc.type != nlohmann::json::value_t::object)
        return make_error("GTA dataset.json must be an object keyed by item id", file.string());
    Benchmark bench;
    bench.kind = BenchKind::gta;
    bench.name = "gta";
    bench.source_path = fs::absolute(file, ec).string();
    const std::string root = file.parent_path().empty() ? std::string(".") : file.parent_path().string();
    for (const JsonMember& m : doc.members) {
        if (doc.too_large(m, max_record_bytes)) {
            bench.warnings.push_back(
                make_error(record_over_limit_reason(m.end - m.offset, max_record_bytes),
                           "item " + m.key + " (byte " + std::to_string(m.offset) + ")")
                    .within(file.string())
                    .to_string());
            continue;
        }
        Result<BenchItem> item = make_error("not parsed");
        try {
            auto record = parse_json(doc.value_text(m));
            item = record.ok() ? parse_gta_item(m.key, std::move(record).value(), root)
                               : Result<BenchItem>(record.error().within("item " + m.key));
        } catch (const nlohmann::json::exception& e) {  // a field of an unexpected type: this item only
            item = make_error("a field has an unexpected type (" + json_exception_reason(e) + ")", "item " + m.key);
        }
        if (!item.ok()) {
            bench.warnings.push_back(item.error().within(file.string()).to_string());
            continue;
        }
        bench.items.push_back(std::move(item).value());
    }
    return bench;
}

}  // namespace matrix::eval
