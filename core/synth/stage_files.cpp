// Stage "files": for a task that needs a file, the teacher first imagines the files' concrete content (the
// reference's file-content contract: {"file": {"file_numbers", "file_information": {"file_1": {"file_type",
// "file_content"}}}}), then for each file writes a Python program that creates it ("Extended content: ..." and a
// ```python block, as the reference's file-generation template). The program runs in the agent sandbox
// (bubblewrap, no network, only its folder writable); the file it wrote is copied into the project's media folder
// (<project>.media/<dataset>/task-<id>/) and attached to the task.
#include <filesystem>
#include <fstream>

#include "core/store/media_repo.h"
#include "core/synth/synth_context.h"
#include "core/util/sha256.h"

namespace matrix::synth::detail {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
const std::vector<std::string>& allowed_types() {
    static const std::vector<std::string> t = {".csv", ".xlsx", ".docx", ".pdf",  ".txt", ".json",
                                               ".html", ".xml", ".pptx", ".png", ".jpg", ".md"};
    return t;
}
}  // namespace

Result<UnitResult> run_files(Job& job, store::Database& db, const Unit& unit) {
    MATRIX_TRY(SynthPrompt content_prompt, load_synth_prompt(db, "file_content"));
    MATRIX_TRY(SynthPrompt code_prompt, load_synth_prompt(db, "file_code"));
    UnitResult r;
    r.prompt_name = content_prompt.name + "+" + code_prompt.name;
    r.prompt_sha256 = content_prompt.sha256.substr(0, 32) + code_prompt.sha256.substr(0, 32);
    r.seed = unit_seed(job, unit.key, 0);
    const json synth = task_synth(db, unit.task_id);
    MATRIX_TRY(store::Statement q, db.prepare("SELECT query FROM tasks WHERE id=?"));
    q.bind_all(unit.task_id);
    MATRIX_TRY(bool found, q.step());
    if (!found) return make_error("task " + std::to_string(unit.task_id) + " is gone");
    const std::string query = q.column_text(0);
    q.reset();
    std::string suggested;
    if (synth.contains("tools") && synth["tools"].is_array())
        for (const auto& t : synth["tools"]) suggested += (suggested.empty() ? "" : ", ") + t.get<std::string>();

    MATRIX_TRY(std::string answer, ask_teacher(job, db, "files", unit.key, content_prompt,
                                               {{"tools", tools_text({})}, {"query", query}, {"suggested_tools", suggested}}, 0));
    ParsedJson parsed = extract_json(answer, job.s.max_answer_chars);
    auto finish = [&]() -> Result<UnitResult> {
        store::Transaction tx(db);
        MATRIX_CHECK(tx.begin_status());
        MATRIX_CHECK(record_unit(job, db, "files", unit, r));
        MATRIX_CHECK(tx.commit());
        return r;
    };
    if (!parsed.ok()) {
        r.reject(parsed.rejection);
        return finish();
    }
    const json& j = *parsed.value;
    const json* info = nullptr;
    if (j.is_object() && j.contains("file") && j["file"].is_object() && j["file"].contains("file_information") &&
        j["file"]["file_information"].is_object())
        info = &j["file"]["file_information"];
    if (!info || info->empty()) {
        r.reject({"wrong fields", "'file.file_information' is missing or empty"});
        return finish();
    }
    struct Spec {
        std::string type, content;
    };
    std::vector<Spec> specs;
    for (auto it = info->begin(); it != info->end(); ++it) {
        std::optional<Rejection> bad = require_string(*it, "file_type");
        if (!bad) bad = require_string(*it, "file_content");
        std::string type;
        if (!bad) {
            type = (*it)["file_type"].get<std::string>();
            if (!type.empty() && type[0] != '.') type = "." + type;
            if (std::find(allowed_types().begin(), allowed_types().end(), type) == allowed_types().end())
                bad = Rejection{"wrong fields", "'" + it.key() + ".file_type' is \"" + excerpt(type, 20) + "\", not a supported type"};
        }
        if (bad) {
            bad->detail = it.key() + ": " + bad->detail;
            r.reject(*bad);
            return finish();
        }
        specs.push_back({type, (*it)["file_content"].get<std::string>()});
        if (specs.size() == 3) break;
    }

    // Each file: the program, run in a fresh sandbox folder; the file copied into the media folder.
    const fs::path task_media = fs::path(job.media_root) / job.s.dataset / ("task-" + std::to_string(unit.task_id));
    std::vector<std::pair<std::string, std::string>> made;  // {path as written, absolute}
    json files = json::array();
    for (size_t k = 0; k < specs.size(); ++k) {
        const std::string name = "file" + std::to_string(k + 1) + specs[k].type;
        MATRIX_TRY(std::string code_answer,
                   ask_teacher(job, db, "files", unit.key, code_prompt,
                               {{"file_content", specs[k].content}, {"file_type", specs[k].type}, {"file_name", name}},
                               static_cast<int>(k + 1)));
        ParsedCode code = extract_python(code_answer, job.s.max_answer_chars);
        if (!code.code) {
            r.reject({code.rejection.reason, name + ": " + code.rejection.detail});
            return finish();
        }
        agent::SandboxOptions sb = job.s.sandbox;
        sb.work_dir = (fs::path(job.work_root) / "files" / ("task-" + std::to_string(unit.task_id) + "-" + std::to_string(k + 1))).string();
        std::error_code ec;
        fs::remove_all(sb.work_dir, ec);  // what a killed attempt left
        fs::create_directories(sb.work_dir, ec);
        sb.authorized_imports = {"*"};
        sb.tools.clear();
        MATRIX_TRY(auto sandbox, agent::Sandbox::start(sb));
        MATRIX_TRY(agent::ExecResult ran, sandbox->execute(*code.code));
        sandbox.reset();
        if (ran.error) {
            r.reject({"code failed", name + ": " + excerpt(*ran.error, 200)});
            return finish();
        }
        const fs::path written = fs::path(sb.work_dir) / name;
        if (!fs::is_regular_file(written, ec) || fs::file_size(written, ec) == 0) {
            r.reject({"no file written", name + " was not created by the program"});
            return finish();
        }
        fs::create_directories(task_media, ec);
        const fs::path dest = task_media / name;
        fs::copy_file(written, dest, fs::copy_options::overwrite_existing, ec);
        if (ec) return make_error("cannot copy " + written.string() + " to " + dest.string() + ": " + ec.message());
        const std::string as_written = job.s.dataset + "/task-" + std::to_string(unit.task_id) + "/" + name;
        made.emplace_back(as_written, dest.string());
        files.push_back({{"path", as_written}, {"type", specs[k].type}, {"content", specs[k].content}});
    }

    store::Transaction tx(db);
    MATRIX_CHECK(tx.begin_status());
    store::MediaRepo media(db);
    for (size_t k = 0; k < made.size(); ++k) {
        store::Media m;
        m.path = made[k].first;
        m.resolved_path = made[k].second;
        std::error_code ec;
        m.size_bytes = static_cast<int64_t>(fs::file_size(made[k].second, ec));
        m.sha256 = sha256_file_hex(made[k].second);
        MATRIX_TRY(int64_t mid, media.upsert(m, true));
        MATRIX_CHECK(media.link(unit.task_id, "attachment", static_cast<int>(k), mid));
    }
    MATRIX_TRY(store::Statement q2, db.prepare("SELECT query FROM tasks WHERE id=?"));
    q2.bind_all(unit.task_id);
    MATRIX_CHECK(q2.step());
    MATRIX_CHECK(write_task_text(db, unit.task_id, q2.column_text(0)));
    r.n_out = static_cast<int>(made.size());
    r.output["files"] = files;
    MATRIX_CHECK(record_unit(job, db, "files", unit, r));
    MATRIX_CHECK(tx.commit());
    return r;
}

}  // namespace matrix::synth::detail
