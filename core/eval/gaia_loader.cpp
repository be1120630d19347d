// GAIA metadata.jsonl loader (see gaia_loader.h).
#include "core/eval/gaia_loader.h"

#include <filesystem>

#include "core/eval/json_file.h"
#include "core/eval/py_compat.h"

namespace fs = std::filesystem;

namespace matrix::eval {

namespace {

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = py::strip(text.substr(start, end - start));
        if (!line.empty()) out.push_back(line);
        start = end + 1;
    }
    return out;
}

}  // namespace

Result<Benchmark> load_gaia(const std::string& path, uint64_t max_record_bytes) {
    std::error_code ec;
    fs::path file = path;
    if (fs::is_directory(file, ec)) file /= "metadata.jsonl";
    Benchmark bench;
    bench.kind = BenchKind::gaia;
    bench.name = "gaia";
    bench.source_path = fs::absolute(file, ec).string();
    MATRIX_TRY(auto lines, read_jsonl_file(file.string(), bench.warnings, max_record_bytes));
    const fs::path root = file.parent_path();
    for (const auto& line : lines) {
        const std::string ctx = file.string() + ":" + std::to_string(line.line);
        const nlohmann::json rec = to_json(line.value);
        if (!rec.is_object()) {
            bench.warnings.push_back(ctx + ": line is not a JSON object");
            continue;
        }
        if (!rec.contains("task_id") || !rec["task_id"].is_string() || !rec.contains("Question") ||
            !rec["Question"].is_string()) {
            bench.warnings.push_back(ctx + ": missing 'task_id' or 'Question'");
            continue;
        }
        BenchItem item;
        item.id = rec["task_id"];
        item.query = rec["Question"];
        item.raw = rec;
        item.form = AnswerForm::objective;
        if (rec.contains("Level")) {
            const auto& lv = rec["Level"];
            if (lv.is_number_integer()) item.level = lv.get<int>();
            else if (lv.is_string()) {
                auto f = py::to_float(lv.get<std::string>());
                if (f) item.level = int(*f);
            }
        }
        if (item.level < 1 || item.level > 3) {
            bench.warnings.push_back(ctx + ": Level is not 1, 2 or 3");
        }
        item.category = "level " + std::to_string(item.level);
        item.gold_answer = rec.contains("Final answer") ? rec["Final answer"] : nlohmann::json();
        item.gold_answer_text = item.gold_answer.is_null() ? std::string() : text_of(item.gold_answer);
        if (rec.contains("file_name") && rec["file_name"].is_string() && !rec["file_name"].get<std::string>().empty()) {
            BenchFile bf;
            bf.path = rec["file_name"];
            const std::string ext = fs::path(bf.path).extension().string();
            bf.type = (ext == ".png" || ext == ".jpg" || ext == ".jpeg") ? "image" : "file";
            if (fs::is_regular_file(root / bf.path, ec)) {
                bf.resolved = fs::absolute(root / bf.path, ec).lexically_normal().string();
            }
            item.files.push_back(std::move(bf));
        }
        item.gold_steps.push_back({"user", "", item.query, {}, "", nlohmann::json()});
        if (rec.contains("Annotator Metadata") && rec["Annotator Metadata"].is_object()) {
            const auto& meta = rec["Annotator Metadata"];
            if (meta.contains("Steps") && meta["Steps"].is_string()) {
                for (const auto& s : split_lines(meta["Steps"])) {
                    item.gold_steps.push_back({"assistant", s, "", {}, "", nlohmann::json()});
                }
            }
            if (meta.contains("Tools") && meta["Tools"].is_string()) item.tools = split_lines(meta["Tools"]);
        }
        item.gold_steps.push_back({"assistant", "", item.gold_answer_text, {}, "", nlohmann::json()});
        bench.items.push_back(std::move(item));
    }
    return bench;
}

}  // namespace matrix::eval
