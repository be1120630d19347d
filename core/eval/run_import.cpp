// Run importers: MATRIX GTA folders, MATRIX GAIA qa_cache databases, generic JSONL (see run_import.h).
#include "core/eval/run_import.h"


#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "core/eval/json_file.h"
#include "core/eval/py_compat.h"
#include "core/store/database.h"
#include "core/conversation/action.h"
#include "core/conversation/observation.h"
#include "core/util/json_input.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace matrix::eval {

namespace {

std::string iso_time(fs::file_time_type t) {
    using namespace std::chrono;
    const auto sys = time_point_cast<seconds>(t - fs::file_time_type::clock::now() + system_clock::now());
    const std::time_t tt = system_clock::to_time_t(sys);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string content_text(const json& c) {
    if (c.is_string()) return c.get<std::string>();
    if (c.is_array()) {  // [{"type": "text", "text": ...}, ...]
        std::string out;
        for (const auto& part : c) {
            if (part.is_object() && part.contains("text")) out += text_of(part["text"]);
            else if (part.is_string()) out += part.get<std::string>();
        }
        return out;
    }
    return c.is_null() ? std::string() : text_of(c);
}

// "Thought: ...\nCode:\n```py\n...\n```<end_action>" -> thought, code. Looser than conversation::parse_action
// (any fence tag, Python's str.strip) and kept so, since recorded runs were imported this way.
void split_action(const std::string& text, std::string& thought, std::string& code) {
    using conversation::k_code_label;
    using conversation::k_thought_label;
    const size_t code_pos = text.find(k_code_label);
    std::string head = code_pos == std::string::npos ? text : text.substr(0, code_pos);
    const size_t t = head.find(k_thought_label);
    thought = py::strip(t == std::string::npos ? head : head.substr(t + k_thought_label.size()));
    code.clear();
    const size_t search_from = code_pos == std::string::npos ? 0 : code_pos;
    const size_t fence = text.find("```", search_from);
    if (fence != std::string::npos) {
        size_t body = text.find('\n', fence);
        if (body != std::string::npos) {
            ++body;
            const size_t end = text.find("```", body);
            code = text.substr(body, end == std::string::npos ? std::string::npos : end - body);
            while (!code.empty() && (code.back() == '\n' || code.back() == ' ')) code.pop_back();
        }
    } else if (code_pos != std::string::npos) {
        code = py::strip(text.substr(code_pos + k_code_label.size()));
    }
    const std::string_view end_action = conversation::k_end_action;
    if (code.size() >= end_action.size() && code.compare(code.size() - end_action.size(), end_action.size(), end_action) == 0) {
        code.erase(code.size() - end_action.size());
    }
}

bool calls_final_answer(const std::string& code) {
    // The MATRIX agent marks a step final when a line starts with "final_answer".
    size_t start = 0;
    while (start <= code.size()) {
        size_t end = code.find('\n', start);
        if (end == std::string::npos) end = code.size();
        if (code.compare(start, 12, "final_answer") == 0) return true;
        start = end + 1;
    }
    return false;
}

}  // namespace

std::vector<RunToolCall> tool_calls_in_code(const std::string& code) {
    // The project's action parser (core/conversation) reads the code: keyword and positional arguments,
    // positional ones mapped to the known tool's parameter names, non-literals as {"$expr": source}.
    const conversation::ParsedAction parsed = conversation::parse_action(conversation::render_action("", code));
    std::vector<RunToolCall> out;
    for (const auto& c : parsed.tool_calls) {
        if (!c.known) continue;
        out.push_back({c.name, c.arguments});
    }
    return out;
}

namespace {

RunStep step_from_action(int index, const std::string& text) {
    RunStep s;
    s.index = index;
    split_action(text, s.thought, s.code);
    s.tool_calls = tool_calls_in_code(s.code);
    s.is_final = calls_final_answer(s.code);
    return s;
}

// text_of, moving a string out of `v` instead of copying it (a record's long answer).
std::string take_text(json& v) {
    if (v.is_string()) return std::move(v.get_ref<std::string&>());
    return text_of(v);
}

// The size limit for a per-task file (agent_memory.json): the reason, or empty when it fits.
std::string file_over_limit(const fs::path& file, uint64_t max_record_bytes) {
    std::error_code ec;
    const uintmax_t size = fs::file_size(file, ec);
    if (ec || !record_over_limit(uint64_t(size), max_record_bytes)) return {};
    return record_over_limit_reason(uint64_t(size), max_record_bytes);
}

std::string error_text(const json& e) {
    if (e.is_object()) {
        if (e.contains("message")) return text_of(e["message"]);
        return e.dump();
    }
    return text_of(e);
}

}  // namespace

Result<TaskResult> parse_agent_memory(const json& mem, const std::string& task_id) {
    if (!mem.is_object()) return make_error("agent_memory.json is not an object", "task " + task_id);
    TaskResult r;
    r.task_id = task_id;
    if (mem.contains("final_answer") && !mem["final_answer"].is_null()) r.answer = text_of(mem["final_answer"]);
    r.ground_truth = mem.contains("ground_truth") ? mem["ground_truth"] : json();
    if (mem.contains("conversations") && mem["conversations"].is_array()) {
        int index = 0;
        for (const auto& msg : mem["conversations"]) {
            if (!msg.is_object()) continue;
            const std::string role = msg.contains("role") ? text_of(msg["role"]) : text_of(msg.value("from", json("")));
            const std::string text = content_text(msg.contains("content") ? msg["content"] : msg.value("value", json()));
            const bool observation_role = role == "user" || role == "tool-response" || role == "tool" || role == "human";
            conversation::ParsedObservation obs;
            if (observation_role) obs = conversation::parse_logged_observation(text);
            if (role == "assistant" || role == "gpt") {
                r.steps.push_back(step_from_action(index++, text));
            } else if (observation_role && obs.well_formed) {
                if (r.steps.empty()) continue;
                RunStep& last = r.steps.back();
                last.is_error = obs.is_error;
                last.observation = std::move(obs.text);
            } else if (role == "user" && r.question.empty()) {
                r.question = text;
            }
        }
    } else if (mem.contains("logs") && mem["logs"].is_array()) {
        int index = 0;
        for (const auto& log : mem["logs"]) {
            if (!log.is_object()) continue;
            if (log.contains("task") && !log.contains("llm_output") && !log.contains("tool_call")) {
                r.question = text_of(log["task"]);
                continue;
            }
            RunStep s;
            s.index = index++;
            std::string code;
            if (log.contains("llm_output")) {
                s = step_from_action(s.index, text_of(log["llm_output"]));
            }
            if (log.contains("rationale") && log["rationale"].is_string()) {
                std::string th = py::strip(log["rationale"].get<std::string>());
                if (th.rfind(conversation::k_thought_label, 0) == 0)
                    th = py::strip(th.substr(conversation::k_thought_label.size()));
                s.thought = th;
            }
            if (log.contains("tool_call") && log["tool_call"].is_object()) {
                const auto& tc = log["tool_call"];
                if (tc.contains("tool_arguments") && tc["tool_arguments"].is_string()) {
                    s.code = tc["tool_arguments"].get<std::string>();
                    s.tool_calls = tool_calls_in_code(s.code);
                    s.is_final = calls_final_answer(s.code);
                }
            }
            if (log.contains("observation")) s.observation = text_of(log["observation"]);
            if (log.contains("error") && !log["error"].is_null()) {
                s.is_error = true;
                s.observation = error_text(log["error"]);
            }
            if (log.contains("final_answer")) s.is_final = true;
            r.steps.push_back(std::move(s));
        }
    } else {
        return make_error("agent_memory.json has neither 'conversations' nor 'logs'", "task " + task_id);
    }
    return r;
}

Result<ImportedRun> import_matrix_gta_run(const std::string& folder, const Progress& progress, uint64_t max_record_bytes) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) return make_error("not a folder", folder);
    ImportedRun run;
    run.benchmark = BenchKind::gta;
    run.format = "matrix-gta";
    run.source_path = fs::absolute(folder, ec).lexically_normal().string();
    run.name = fs::path(run.source_path).filename().string();
    if (run.name.empty()) run.name = fs::path(run.source_path).parent_path().filename().string();
    run.model = run.name;  // MATRIX writes .cache/gta/<model or adapter name>/
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(folder, ec)) {
        if (e.is_directory()) dirs.push_back(e.path());
    }
    // Task ids are GTA's numeric keys: order numerically, others after, by name.
    std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
        const std::string x = a.filename().string(), y = b.filename().string();
        const bool nx = !x.empty() && x.find_first_not_of("0123456789") == std::string::npos;
        const bool ny = !y.empty() && y.find_first_not_of("0123456789") == std::string::npos;
        if (nx != ny) return nx;
        if (nx && x.size() != y.size()) return x.size() < y.size();
        return x < y;
    });
    fs::file_time_type latest{};
    int64_t done = 0;
    for (const auto& dir : dirs) {
        if (progress.cancelled()) return make_error("cancelled", folder);
        const fs::path mem = dir / "agent_memory.json";
        const std::string id = dir.filename().string();
        progress(++done, int64_t(dirs.size()), id);
        if (!fs::is_regular_file(mem, ec)) {
            run.warnings.push_back(dir.string() + ": no agent_memory.json");
            continue;
        }
        latest = std::max(latest, fs::last_write_time(mem, ec));
        if (auto why = file_over_limit(mem, max_record_bytes); !why.empty()) {
            run.warnings.push_back(mem.string() + ": " + why);
            continue;
        }
        auto doc = read_json_file(mem.string());
        if (!doc.ok()) {
            run.warnings.push_back(doc.error().to_string());
            continue;
        }
        auto r = parse_agent_memory(to_json(doc.value()), id);
        if (!r.ok()) {
            run.warnings.push_back(r.error().within(mem.string()).to_string());
            continue;
        }
        run.results.push_back(std::move(r).value());
    }
    if (latest != fs::file_time_type{}) run.date = iso_time(latest);
    return run;
}

namespace {
// SQLite's own reason, without the phase Database puts before it ("prepare: file is not a database").
std::string sqlite_reason(const Error& e) {
    for (const char* phase : {"prepare: ", "step: "})
        if (e.message.rfind(phase, 0) == 0) return e.message.substr(std::strlen(phase));
    return e.message;
}
}  // namespace

// Reads MATRIX's own result file (an external SQLite database, opened read-only); the project store is not
// involved here.
Result<ImportedRun> import_matrix_gaia_run(const std::string& db_path, const Progress& progress, uint64_t max_record_bytes) {
    std::error_code ec;
    if (!fs::is_regular_file(db_path, ec)) return make_error("no such file", db_path);
    store::OpenOptions read_only;
    read_only.create = false;
    read_only.read_only = true;
    auto db = store::Database::open(db_path, read_only);
    if (!db) {
        // The file opened but its first read (the connection's pragmas) failed: it is not SQLite.
        const std::string& why = db.error().message;
        if (why.rfind("cannot open database: ", 0) == 0) return make_error(why, db_path);
        return make_error("not a MATRIX GAIA result database: " + why, db_path);
    }
    auto st = db->prepare("SELECT question, task_id, answer, groundtruth FROM qa_cache");
    if (!st) return make_error("not a MATRIX GAIA result database: " + sqlite_reason(st.error()), db_path);
    ImportedRun run;
    run.benchmark = BenchKind::gaia;
    run.format = "matrix-gaia";
    run.source_path = fs::absolute(db_path, ec).lexically_normal().string();
    const fs::path dir = fs::path(run.source_path).parent_path();
    run.name = dir.filename().string() + "/" + fs::path(db_path).stem().string();
    run.model = dir.filename().string();  // .cache/qa_cache/<split>/<engine>/<model or adapter>/<name>.db
    run.date = iso_time(fs::last_write_time(db_path, ec));
    int64_t n = 0;
    for (;;) {
        auto row = st->step();
        if (!row) return make_error(sqlite_reason(row.error()), db_path);
        if (!*row) break;
        if (progress.cancelled()) return make_error("cancelled", db_path);
        TaskResult r;
        r.question = st->column_text(0);
        r.task_id = st->column_text(1);
        if (!st->column_is_null(2)) r.answer = st->column_text(2);
        if (!st->column_is_null(3)) r.ground_truth = st->column_text(3);
        const fs::path mem = dir / r.task_id / "agent_memory.json";
        if (!r.task_id.empty() && fs::is_regular_file(mem, ec)) {
            const std::string why = file_over_limit(mem, max_record_bytes);
            auto doc = why.empty() ? read_json_file(mem.string()) : Result<nlohmann::ordered_json>(make_error(why));
            auto parsed = doc.ok() ? parse_agent_memory(to_json(doc.value()), r.task_id)
                                   : Result<TaskResult>(doc.error());
            if (parsed.ok()) r.steps = std::move(parsed.value().steps);
            else run.warnings.push_back(parsed.error().within(mem.string()).to_string());
        }
        progress(++n, -1, r.task_id);
        if (r.task_id.empty()) {
            run.warnings.push_back(db_path + ": row " + std::to_string(n) + ": empty task_id");
            continue;
        }
        run.results.push_back(std::move(r));
    }
    return run;
}

Result<ImportedRun> import_jsonl_run(const std::string& path, BenchKind benchmark, const Progress& progress,
                                     uint64_t max_record_bytes) {
    ImportedRun run;
    run.benchmark = benchmark;
    run.format = "jsonl";
    std::error_code ec;
    run.source_path = fs::absolute(path, ec).lexically_normal().string();
    run.name = fs::path(path).stem().string();
    MATRIX_TRY(auto lines, read_jsonl_file(path, run.warnings, max_record_bytes));
    run.date = iso_time(fs::last_write_time(path, ec));
    int64_t n = 0;
    for (auto& line : lines) {
        if (progress.cancelled()) return make_error("cancelled", path);
        progress(++n, int64_t(lines.size()));
        const std::string ctx = path + ":" + std::to_string(line.line);
        json rec = to_json(std::move(line.value));  // the line's DOM is moved, not copied
        if (!rec.is_object() || !rec.contains("task_id") || rec["task_id"].is_null()) {
            run.warnings.push_back(ctx + ": missing 'task_id'");
            continue;
        }
        TaskResult r;
        r.task_id = text_of(rec["task_id"]);
        if (rec.contains("answer") && !rec["answer"].is_null()) r.answer = take_text(rec["answer"]);
        if (rec.contains("error") && !rec["error"].is_null()) r.error = error_text(rec["error"]);
        if (rec.contains("model") && run.model.empty()) run.model = text_of(rec["model"]);
        if (rec.contains("steps")) {
            if (!rec["steps"].is_array()) {
                run.warnings.push_back(ctx + ": 'steps' is not a list (ignored)");
            } else {
                int index = 0;
                for (const auto& s : rec["steps"]) {
                    RunStep step;
                    if (s.is_string()) {
                        step = step_from_action(index, s.get<std::string>());
                    } else if (s.is_object()) {
                        step.index = index;
                        if (s.contains("thought")) step.thought = text_of(s["thought"]);
                        if (s.contains("code")) step.code = text_of(s["code"]);
                        if (s.contains("observation")) step.observation = text_of(s["observation"]);
                        if (s.contains("error") && !s["error"].is_null() && !(s["error"].is_boolean() && !s["error"].get<bool>())) {
                            step.is_error = true;
                            if (!s["error"].is_boolean()) step.observation = error_text(s["error"]);
                        }
                        if (s.contains("tool_calls") && s["tool_calls"].is_array()) {
                            for (const auto& tc : s["tool_calls"]) {
                                if (!tc.is_object()) continue;
                                const json fn = tc.contains("function") ? tc["function"] : tc;
                                RunToolCall call;
                                call.name = fn.contains("name") ? text_of(fn["name"]) : "";
                                if (fn.contains("arguments")) {
                                    call.arguments = fn["arguments"];
                                    if (call.arguments.is_string()) {
                                        // Arguments kept as text when that text is not JSON.
                                        if (auto parsed = parse_json(call.arguments.get<std::string>()); parsed.ok())
                                            call.arguments = std::move(parsed).value();
                                    }
                                }
                                if (!call.name.empty()) step.tool_calls.push_back(std::move(call));
                            }
                        } else if (!step.code.empty()) {
                            step.tool_calls = tool_calls_in_code(step.code);
                        }
                        step.is_final = s.value("final", false) || calls_final_answer(step.code);
                    } else {
                        run.warnings.push_back(ctx + ": step " + std::to_string(index) + " is neither text nor an object");
                        continue;
                    }
                    r.steps.push_back(std::move(step));
                    ++index;
                }
            }
        }
        run.results.push_back(std::move(r));
    }
    return run;
}

namespace {
Result<ImportedRun> import_run_as(const std::string& format, const std::string& path, BenchKind benchmark,
                                  const Progress& progress, uint64_t max_record_bytes) {
    if (format == "matrix-gta") {
        if (benchmark != BenchKind::gta) return make_error("format matrix-gta is for the gta benchmark");
        return import_matrix_gta_run(path, progress, max_record_bytes);
    }
    if (format == "matrix-gaia") {
        if (benchmark != BenchKind::gaia) return make_error("format matrix-gaia is for the gaia benchmark");
        return import_matrix_gaia_run(path, progress, max_record_bytes);
    }
    if (format == "jsonl") {
        std::error_code ec;
        if (fs::is_directory(path, ec)) return make_error("is a folder; the jsonl format reads one file", path);
        return import_jsonl_run(path, benchmark, progress, max_record_bytes);
    }
    return make_error("unknown run format '" + format + "' (matrix-gta, matrix-gaia, jsonl)");
}
}  // namespace

Result<ImportedRun> import_run(const std::string& format, const std::string& path, BenchKind benchmark,
                               const Progress& progress, uint64_t max_record_bytes) {
    MATRIX_TRY(ImportedRun run, import_run_as(format, path, benchmark, progress, max_record_bytes));
    // One result per task: a task id seen again is reported, and the first result kept.
    std::map<std::string, int> seen;
    std::vector<TaskResult> unique;
    for (TaskResult& r : run.results)
        if (seen[r.task_id]++ == 0) unique.push_back(std::move(r));
    for (const auto& [id, n] : seen)
        if (n > 1)
            run.warnings.push_back(path + ": task " + id + " appears " + std::to_string(n) +
                                   " times; the first result is kept");
    run.results = std::move(unique);
    // Nothing to import is an error, not an empty run.
    if (run.results.empty())
        return make_error("no task results found" +
                              (run.warnings.empty() ? std::string() : " (" + std::to_string(run.warnings.size()) +
                                                                          " problems, the first: " + run.warnings[0] + ")"),
                          path);
    return run;
}

}  // namespace matrix::eval
