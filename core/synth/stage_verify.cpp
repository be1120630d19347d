// Stages "verify-files" and "verify-trajectories": the reference's two verifiers with our prompts.
//  - verify-files: the query-file verifier, two rounds as the reference's filter: round 1 judges the files
//    against the query ({"correct": "yes"|"no", "updated_query", ...}); on "no" the updated query is judged again
//    with the same files, and a "yes" then keeps the task with its query rewritten. Every file is shown as the
//    text the agent's inspect_file_as_text tool reads from it (core/formats/documents: PDF, DOCX, XLSX, PPTX, CSV
//    as a table, HTML, JSON, text), at most k_verifier_file_bytes (20,000 bytes, whole characters) per file with a
//    line saying how long it was; images as image parts. A file that cannot be read rejects the task ("unreadable
//    file", with the reader's reason). A build without poppler-cpp / libarchive shows text files by their first
//    20,000 bytes and office / PDF files by the content description they were generated from, and says so.
//  - verify-trajectories: {"thought", "correct"} on the task, the trajectory's thoughts, code and observations and
//    its final answer; the verdict goes to tasks.verdict and the verifier's whole answer to tasks.verifier_text,
//    which M-TRACE export writes as `correct` and `traj_verification`.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/store/media_repo.h"
#include "core/store/trajectory_repo.h"
#include "core/synth/synth_context.h"
#include "core/util/utf8.h"
#ifdef MATRIX_HAVE_DOCUMENTS
#include "core/formats/documents/document_text.h"
#endif

namespace matrix::synth::detail {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr size_t k_verifier_file_bytes = 20000;  // of each file's text, in the verifier's request

#ifndef MATRIX_HAVE_DOCUMENTS
bool text_like(const std::string& path) {
    std::string e = fs::path(path).extension().string();
    for (const char* t : {".csv", ".txt", ".json", ".html", ".htm", ".xml", ".md", ".py"})
        if (e == t) return true;
    return false;
}

std::string read_prefix(const std::string& path, size_t n) {
    std::ifstream in(path, std::ios::binary);
    std::string s(n, '\0');
    in.read(&s[0], static_cast<std::streamsize>(n));
    s.resize(static_cast<size_t>(in.gcount()));
    return s;
}

// The unit's stored synth_items output for another stage of the same task.
json stage_output(Job& job, store::Database& db, const std::string& stage, int64_t task_id) {
    auto st = db.prepare("SELECT output FROM synth_items WHERE dataset_id=? AND stage=? AND task_id=?");
    if (!st.ok()) return json::object();
    st->bind_all(job.dataset_id, stage, task_id);
    auto row = st->step();
    if (!row.ok() || !*row) return json::object();
    json j = json::parse(st->column_text(0), nullptr, false);
    return j.is_object() ? j : json::object();
}
#endif

Result<std::string> task_query(store::Database& db, int64_t task_id) {
    MATRIX_TRY(store::Statement q, db.prepare("SELECT query FROM tasks WHERE id=?"));
    q.bind_all(task_id);
    MATRIX_TRY(bool found, q.step());
    if (!found) return make_error("task " + std::to_string(task_id) + " is gone");
    return q.column_text(0);
}

Result<UnitResult> finish(Job& job, store::Database& db, const std::string& stage, const Unit& unit, UnitResult& r,
                          const std::function<Status()>& effects = {}) {
    store::Transaction tx(db);
    MATRIX_CHECK(tx.begin_status());
    if (effects) MATRIX_CHECK(effects());
    MATRIX_CHECK(record_unit(job, db, stage, unit, r));
    MATRIX_CHECK(tx.commit());
    return r;
}

}  // namespace

Result<UnitResult> run_verify_files(Job& job, store::Database& db, const Unit& unit) {
    MATRIX_TRY(SynthPrompt prompt, load_synth_prompt(db, "verify_files"));
    UnitResult r;
    r.prompt_name = prompt.name;
    r.prompt_sha256 = prompt.sha256;
    r.seed = unit_seed(job, unit.key, 0);
    MATRIX_TRY(std::string query, task_query(db, unit.task_id));
    store::MediaRepo media(db);
    MATRIX_TRY(auto links, media.for_task(unit.task_id));
    std::string described;
    std::vector<std::string> images;
    json shown = json::array();  // what the verifier was given for each file
    int k = 0;
    for (const auto& l : links) {
        if (l.role != "attachment" && l.role != "image") continue;
        const std::string resolved = l.media.resolved_path.value_or("");
        described += "File " + std::to_string(++k) + ": " + l.media.path + "\n";
        if (l.role == "image") {
            described += "(the image is attached)\n";
            if (!resolved.empty()) images.push_back(resolved);
            shown.push_back({{"path", l.media.path}, {"as", "image"}});
            continue;
        }
        if (resolved.empty()) {
            r.reject({"unreadable file", l.media.path + ": the file is not in the project's media folder"});
            return finish(job, db, "verify-files", unit, r);
        }
#ifdef MATRIX_HAVE_DOCUMENTS
        const std::string kind = formats::document_kind(resolved);
        if (kind == "image") {
            described += "(the image is attached)\n";
            images.push_back(resolved);
            shown.push_back({{"path", l.media.path}, {"as", "image"}});
            continue;
        }
        auto text = formats::document_text(resolved);
        if (!text.ok()) {
            r.reject({"unreadable file", l.media.path + ": " + text.error().message});
            return finish(job, db, "verify-files", unit, r);
        }
        described += formats::cap_document_text(*text, k_verifier_file_bytes) + "\n";
        shown.push_back({{"path", l.media.path}, {"as", "text (" + kind + ")"}, {"bytes", text->size()},
                         {"truncated", text->size() > k_verifier_file_bytes}});
#else
        if (text_like(l.media.path)) {
            const std::string prefix = read_prefix(resolved, k_verifier_file_bytes + 4);
            described += std::string(utf8::truncate(prefix, k_verifier_file_bytes)) + "\n";
            shown.push_back({{"path", l.media.path}, {"as", "text (first bytes)"}});
        } else {
            const json files_out = stage_output(job, db, "files", unit.task_id);
            std::string content;
            if (files_out.contains("files"))
                for (const auto& f : files_out["files"])
                    if (f.value("path", "") == l.media.path) content = f.value("content", "");
            described += "(a binary file; this build cannot read it, so here is the content it was generated from:)\n" +
                         content + "\n";
            shown.push_back({{"path", l.media.path}, {"as", "content description (no document reader in this build)"}});
        }
#endif
    }
    r.output["files"] = shown;
    if (k == 0) {
        r.reject({"no files", "the task has no attached file or image"});
        return finish(job, db, "verify-files", unit, r);
    }
    json rounds = json::array();
    std::string current = query;
    for (int round = 0; round < 2; ++round) {
        MATRIX_TRY(std::string answer, ask_teacher(job, db, "verify-files", unit.key, prompt,
                                                   {{"query", current}, {"file_content", described}}, round, images));
        ParsedJson parsed = extract_json(answer, job.s.max_answer_chars);
        if (!parsed.ok()) {
            r.output["rounds"] = rounds;
            r.reject({parsed.rejection.reason, "round " + std::to_string(round + 1) + ": " + parsed.rejection.detail});
            return finish(job, db, "verify-files", unit, r);
        }
        const json& j = *parsed.value;
        if (auto bad = require_yes_no(j, "correct")) {
            r.output["rounds"] = rounds;
            r.reject({bad->reason, "round " + std::to_string(round + 1) + ": " + bad->detail});
            return finish(job, db, "verify-files", unit, r);
        }
        const bool yes = normalise_query(j["correct"].get<std::string>()) == "yes";
        rounds.push_back({{"query", current}, {"correct", yes ? "yes" : "no"}, {"thought", j.value("thought", "")}});
        r.output["rounds"] = rounds;
        if (yes) {
            r.n_out = 1;
            r.output["query"] = current;
            const bool rewritten = current != query;
            return finish(job, db, "verify-files", unit, r, [&]() -> Status {
                if (rewritten) return write_task_text(db, unit.task_id, current);
                return {};
            });
        }
        if (round == 1) break;
        const std::string updated = j.contains("updated_query") && j["updated_query"].is_string()
                                        ? j["updated_query"].get<std::string>() : std::string();
        if (updated.empty() || normalise_query(updated) == normalise_query(current)) {
            r.reject({"verifier: no", "round 1 gave no different updated query: " + excerpt(j.value("thought", ""), 160)});
            return finish(job, db, "verify-files", unit, r);
        }
        current = updated;
    }
    r.reject({"verifier: no", "both rounds: " + excerpt(rounds.back().value("thought", ""), 160)});
    return finish(job, db, "verify-files", unit, r);
}

Result<UnitResult> run_verify_trajectory(Job& job, store::Database& db, const Unit& unit) {
    MATRIX_TRY(SynthPrompt prompt, load_synth_prompt(db, "verify_trajectory"));
    UnitResult r;
    r.prompt_name = prompt.name;
    r.prompt_sha256 = prompt.sha256;
    r.seed = unit_seed(job, unit.key, 0);
    MATRIX_TRY(std::string query, task_query(db, unit.task_id));
    store::TrajectoryRepo trajectories(db);
    MATRIX_TRY(auto traj, trajectories.primary_for_task(unit.task_id));
    if (!traj) {
        r.reject({"no trajectory", "the task has no trajectory to verify"});
        return finish(job, db, "verify-trajectories", unit, r);
    }
    std::string text;
    for (const store::Step& s : traj->steps) {
        text += "Step " + std::to_string(s.idx + 1) + ":\n" + s.action.value_or("") + "\n";
        if (s.observation) text += "Observation: " + *s.observation + "\n";
    }
    const json synth = task_synth(db, unit.task_id);
    std::vector<std::string> tool_names;
    MATRIX_TRY(std::string answer, ask_teacher(job, db, "verify-trajectories", unit.key, prompt,
                                               {{"tools", tools_text(tool_names)}, {"query", query},
                                                {"trajectory", text}, {"result", traj->final_answer.value_or("")}}, 0));
    ParsedJson parsed = extract_json(answer, job.s.max_answer_chars);
    if (!parsed.ok()) {
        r.reject(parsed.rejection);
        return finish(job, db, "verify-trajectories", unit, r);
    }
    if (auto bad = require_yes_no(*parsed.value, "correct")) {
        r.reject(*bad);
        return finish(job, db, "verify-trajectories", unit, r);
    }
    const std::string verdict = normalise_query((*parsed.value)["correct"].get<std::string>());
    r.output = {{"correct", verdict}, {"thought", parsed.value->value("thought", "")}};
    if (verdict == "yes") r.n_out = 1;
    else r.reject({"verifier: no", excerpt(parsed.value->value("thought", ""), 160)});
    return finish(job, db, "verify-trajectories", unit, r, [&]() -> Status {
        MATRIX_TRY(store::Statement up, db.prepare("UPDATE tasks SET verdict=?, verifier_text=? WHERE id=?"));
        up.bind_all(verdict, answer, unit.task_id);
        return up.run();
    });
}

}  // namespace matrix::synth::detail
