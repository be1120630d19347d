// Step-sampling (beam_search_data.json) import (see beam_import.h).
#include "core/formats/beam_import.h"

#include <algorithm>
#include <filesystem>

#include "core/conversation/action.h"
#include "core/conversation/observation.h"
#include "core/conversation/prefx_history.h"
#include "core/conversation/steps.h"
#include "core/conversation/user_prompt.h"
#include "core/formats/char_bleu.h"
#include "core/formats/import_context.h"
#include "core/formats/json_stream.h"
#include "core/formats/record_import.h"
#include "core/store/media_repo.h"
#include "core/store/pair_repo.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"

namespace fs = std::filesystem;

namespace matrix::formats {

std::vector<std::string> find_beam_files(const std::string& path) {
    std::vector<std::string> files;
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) return {path};
    if (fs::is_regular_file(fs::path(path) / "beam_search_data.json", ec))
        return {(fs::path(path) / "beam_search_data.json").string()};
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec) && it->path().filename() == "beam_search_data.json")
            files.push_back(it->path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

namespace {

struct Candidate {
    std::string action;
    std::optional<std::string> rationale, tool_call, observation;
};
struct BeamStep {
    int number = 0;
    std::vector<Candidate> candidates;
    int best = 0;
    nlohmann::json extra = nlohmann::json::object();
};
struct BeamTask {
    std::string task;
    std::vector<std::string> images;
    std::optional<std::string> final_answer;
    std::vector<BeamStep> steps;
    std::optional<std::string> error;  // "Reached max iterations."
};

std::optional<std::string> text_of(const nlohmann::json& v) {
    if (v.is_null()) return std::nullopt;
    return v.is_string() ? v.get<std::string>() : v.dump();
}

Result<BeamTask> parse_beam(const std::vector<nlohmann::json>& elems) {
    if (elems.empty()) return make_error("empty list (element 0 with the task is missing)");
    const auto& head = elems[0];
    if (!head.is_object()) return make_error("element 0 is not an object");
    BeamTask t;
    auto task = head.find("task");
    if (task == head.end()) return make_error("element 0: missing key 'task'");
    if (!task->is_string()) return make_error("element 0: 'task' is not a string");
    t.task = task->get<std::string>();
    if (auto im = head.find("image_paths"); im != head.end() && !im->is_null()) {
        if (!im->is_array()) return make_error("element 0: 'image_paths' is not an array");
        for (auto& p : *im) {
            if (!p.is_string()) return make_error("element 0: 'image_paths' has a non-string entry");
            t.images.push_back(p.get<std::string>());
        }
    }
    if (auto fa = head.find("final_answer"); fa != head.end()) t.final_answer = text_of(*fa);
    for (size_t i = 1; i < elems.size(); ++i) {
        const auto& e = elems[i];
        const std::string where = "element " + std::to_string(i);
        if (!e.is_object()) return make_error(where + " is not an object");
        if (e.contains("error") && !e.contains("llm_output_0")) {
            t.error = text_of(e["error"]);
            continue;
        }
        BeamStep s;
        s.number = e.value("step number", int(i));
        int beam = 0;
        if (auto b = e.find("beam_size"); b != e.end()) {
            if (!b->is_number_integer()) return make_error(where + ": 'beam_size' is not an integer");
            beam = b->get<int>();
        } else {
            while (e.contains("llm_output_" + std::to_string(beam))) ++beam;
        }
        if (beam <= 0) return make_error(where + ": no candidates (llm_output_0 missing)");
        for (int j = 0; j < beam; ++j) {
            const std::string sj = std::to_string(j);
            auto out = e.find("llm_output_" + sj);
            if (out == e.end()) return make_error(where + ": missing key 'llm_output_" + sj + "'");
            if (!out->is_string()) return make_error(where + ": 'llm_output_" + sj + "' is not a string");
            Candidate c;
            c.action = out->get<std::string>();
            if (auto r = e.find("rationale_" + sj); r != e.end()) c.rationale = text_of(*r);
            if (auto r = e.find("tool_call_" + sj); r != e.end() && !r->is_null()) c.tool_call = r->dump();
            if (auto r = e.find("observation_" + sj); r != e.end()) c.observation = text_of(*r);
            s.candidates.push_back(std::move(c));
        }
        auto best = e.find("best_step_idx");
        if (best == e.end()) return make_error(where + ": missing key 'best_step_idx'");
        if (best->is_string()) {
            const std::string& b = best->get_ref<const std::string&>();
            char* end = nullptr;
            long v = std::strtol(b.c_str(), &end, 10);
            if (b.empty() || *end) return make_error(where + ": 'best_step_idx' \"" + b + "\" is not a number");
            s.best = int(v);
        } else if (best->is_number_integer()) {
            s.best = best->get<int>();
        } else {
            return make_error(where + ": 'best_step_idx' is not a string");
        }
        if (s.best < 0 || s.best >= beam)
            return make_error(where + ": 'best_step_idx' " + std::to_string(s.best) + " out of range (beam_size " +
                              std::to_string(beam) + ")");
        for (const char* k : {"rank_reason", "final_answer"})
            if (e.contains(k)) s.extra[k] = e[k];
        s.extra["beam_size"] = beam;
        s.extra["best_step_idx"] = *best;
        s.extra["step number"] = s.number;
        t.steps.push_back(std::move(s));
    }
    return t;
}

bool is_error_observation(const std::optional<std::string>& obs) {
    if (!obs) return false;
    std::string_view o = *obs;
    while (!o.empty() && (o.front() == ' ' || o.front() == '\n')) o.remove_prefix(1);
    if (o.rfind("Error", 0) == 0) return true;
    size_t nl = o.find('\n');
    std::string_view first = o.substr(0, nl);
    return first.find("] Error:") != std::string_view::npos;
}

bool has_format_error(const std::string& action) {
    conversation::ParsedAction a = conversation::parse_action(conversation::strip_end_action(action));
    return !a.has_thought || !a.has_code;
}

// A task folder read and parsed on the producer thread.
struct BeamRecord {
    BeamTask task;
    std::string key;     // "beam:<folder>"
    std::string folder;  // relative to the imported folder
};

// One file -> its record, or why it was refused (syntax errors count as such).
void read_beam_file(const std::string& file, const fs::path& base, uint64_t max_record_bytes, SourceItem<BeamRecord>& out) {
    std::error_code ec;
    const uintmax_t size = fs::file_size(file, ec);
    if (!ec && record_over_limit(uint64_t(size), max_record_bytes)) {
        out.reason = record_over_limit_reason(uint64_t(size), max_record_bytes);
        return;
    }
    auto reader = JsonArrayReader::open_file(file);
    if (!reader.ok()) {
        out.reason = reader.error().message;
        return;
    }
    std::vector<nlohmann::json> elems;
    JsonItem item;
    while (reader->next(item)) {
        if (item.kind == JsonItem::Kind::SyntaxError) {
            out.syntax_error = true;
            out.offset = item.offset;
            out.reason = "JSON syntax error: " + item.message;
            return;
        }
        elems.push_back(std::move(item.value));
    }
    auto parsed = parse_beam(elems);
    if (!parsed.ok()) {
        out.reason = parsed.error().message;
        return;
    }
    fs::path rel = fs::path(file).parent_path().lexically_relative(base);
    BeamRecord rec;
    rec.task = std::move(parsed).value();
    rec.folder = rel.empty() || rel == "." ? fs::path(file).parent_path().filename().string() : rel.string();
    rec.key = "beam:" + rec.folder;
    out.rows.emplace(std::move(rec));
}

}  // namespace

Result<ImportReport> import_beam(store::Database& db, const std::string& path, const ImportOptions& options) {
    std::error_code ec;
    if (!fs::exists(path, ec)) return make_error("no such file or folder", path);
    const std::vector<std::string> files = find_beam_files(path);
    ImportReport report;
    ImportContext ctx(db, options);
    MATRIX_CHECK(ctx.begin(file_stem(path), "beam", path));
    report.dataset_id = ctx.dataset_id();
    store::TaskRepo tasks(db);
    store::TrajectoryRepo trajectories(db);
    store::MediaRepo media(db);
    store::PairRepo pairs(db);
    MATRIX_TRY(int64_t task_ordinal, tasks.next_ordinal(ctx.dataset_id()));
    MATRIX_TRY(int64_t pair_ordinal, db.query_int64("SELECT COALESCE(max(ordinal)+1, 0) FROM pairs WHERE dataset_id=" +
                                                    std::to_string(ctx.dataset_id())));
    const fs::path base = fs::is_directory(path, ec) ? fs::path(path) : fs::path(path).parent_path();

    // Record index = the task folder's position in sorted order; every task folder is a record.
    RecordFormat<BeamRecord> format;
    format.next = [&files, base, limit = options.max_record_bytes, fi = size_t(0)](SourceItem<BeamRecord>& out) mutable {
        if (fi >= files.size()) return false;
        out.file = files[fi];
        out.index = int64_t(fi);
        out.position = int64_t(fi);
        read_beam_file(files[fi], base, limit, out);
        ++fi;
        return true;
    };
    format.total = int64_t(files.size());
    format.unit = "tasks";
    format.progress_every = 1;
    format.exists = [&](const ItemInfo&, BeamRecord& rec) -> Result<bool> {
        MATRIX_TRY(auto existing, tasks.find_by_key(ctx.dataset_id(), rec.key));
        return existing.has_value();
    };
    format.write = [&](const ItemInfo& item, BeamRecord& rec, ImportReport& report) -> Status {
        const BeamTask& bt = rec.task;
        const std::string& task_key = rec.key;
        const std::string& folder = rec.folder;
        const std::string& file = item.file;
        const int64_t index = item.index;
        conversation::UserPrompt up = conversation::parse_user_prompt(bt.task);
        store::Task task;
        task.dataset_id = ctx.dataset_id();
        task.record_key = task_key;
        task.external_id = folder;
        task.ordinal = task_ordinal++;
        task.query = up.task;
        task.prompt_text = bt.task;
        task.answer = bt.final_answer;
        task.source = "beam";
        std::vector<std::tuple<int64_t, std::string, int>> links;
        int pos = 0;
        for (const auto& p : bt.images) {
            auto use = ctx.media(p, report);
            if (!use.ok()) return use.error();
            if (use->missing) ++task.n_missing_media;
            if (use->warning) report.issues.push_back({file, index, -1, *use->warning, false});
            links.emplace_back(use->id, "image", pos++);
        }
        task.n_images = pos;
        pos = 0;
        for (const auto& p : up.attachments) {
            auto use = ctx.media(p, report);
            if (!use.ok()) return use.error();
            if (use->missing) ++task.n_missing_media;
            links.emplace_back(use->id, "attachment", pos++);
        }
        {
            std::vector<store::Step> best_steps;
            for (const auto& bs : bt.steps) best_steps.push_back(conversation::step_from_action(0, bs.candidates[size_t(bs.best)].action));
            task.n_steps = int(bt.steps.size());
            task.tools = store::tools_of(best_steps);
        }
        auto task_id = tasks.insert(task, false);
        if (!task_id.ok()) return task_id.error();
        for (auto& [mid, role, p] : links)
            if (auto s = media.link(task_id.value(), role, p, mid); !s.ok()) return s.error();

        // The best path as the task's trajectory, every candidate kept.
        store::Trajectory traj;
        traj.task_id = task_id.value();
        traj.source = "beam";
        traj.final_answer = bt.final_answer;
        if (bt.error) traj.extra = nlohmann::json{{"error", *bt.error}}.dump();
        for (size_t k = 0; k < bt.steps.size(); ++k) {
            const BeamStep& bs = bt.steps[k];
            const Candidate& best = bs.candidates[size_t(bs.best)];
            store::Step s = conversation::step_from_action(int(k), best.action);
            if (best.observation) {
                s.observation = best.observation;
                s.is_error = is_error_observation(best.observation);
            }
            s.extra = bs.extra.dump();
            for (size_t j = 0; j < bs.candidates.size(); ++j) {
                store::StepCandidate c;
                c.position = int(j);
                c.action = bs.candidates[j].action;
                c.rationale = bs.candidates[j].rationale;
                c.tool_call = bs.candidates[j].tool_call;
                c.observation = bs.candidates[j].observation;
                c.is_best = int(j) == bs.best;
                s.candidates.push_back(std::move(c));
            }
            traj.steps.push_back(std::move(s));
        }
        store::TrajectoryInsertOptions topt;
        topt.task_fts_indexed = false;
        topt.new_task_query = task.query;
        topt.refresh_task_counters = false;  // set in the task row above
        if (auto t = trajectories.insert(traj, topt); !t.ok()) return t.error();

        // Pairs per step, with the Pref-X prefix (human task turn, then best actions and their observations).
        nlohmann::json images = bt.images;
        nlohmann::json history = nlohmann::json::array();
        history.push_back({{"from", "human"}, {"value", conversation::prefx_task_turn(bt.images.size(), bt.task)}});
        for (size_t k = 0; k < bt.steps.size(); ++k) {
            const BeamStep& bs = bt.steps[k];
            const Candidate& best = bs.candidates[size_t(bs.best)];
            store::PairPrefix prefix;
            prefix.images = images.dump();
            prefix.history = history.dump();
            auto prefix_id = pairs.intern_prefix(prefix);
            if (!prefix_id.ok()) return prefix_id.error();
            const std::string chosen = conversation::with_end_action(best.action);
            int format_rejects = 0;
            for (size_t j = 0; j < bs.candidates.size(); ++j) {
                if (int(j) == bs.best) continue;
                const Candidate& c = bs.candidates[j];
                const double bleu = char_bleu(conversation::strip_end_action(c.action), conversation::strip_end_action(best.action));
                const bool format_error = has_format_error(c.action) || is_error_observation(c.observation);
                if (options.bleu_filter) {
                    bool keep = bleu < options.bleu_threshold;
                    if (!keep && format_error && format_rejects < options.max_format_error_rejects) {
                        keep = true;
                        ++format_rejects;
                    }
                    if (!keep) continue;
                }
                store::Pair pair;
                pair.dataset_id = ctx.dataset_id();
                pair.prefix_id = prefix_id.value();
                pair.task_id = task_id.value();
                pair.step_index = int(k);
                pair.record_key = task_key + ":" + std::to_string(bs.number) + ":" + std::to_string(j);
                pair.ordinal = pair_ordinal++;
                pair.chosen_action = chosen;
                pair.chosen_observation = best.observation;
                pair.rejected_action = conversation::with_end_action(c.action);
                pair.rejected_observation = c.observation;
                pair.origin = "sampled";
                pair.extra = nlohmann::json{{"bleu", bleu}, {"format_error", format_error},
                                            {"candidate", j}}.dump();
                if (auto p = pairs.insert(pair); !p.ok()) return p.error();
                ++report.pairs;
            }
            conversation::append_prefx_step(history, chosen,
                                            conversation::render_observation(int(k), best.observation.value_or("")));
        }
        return {};
    };
    return run_record_import(ctx, path, format, std::move(report));
}

}  // namespace matrix::formats
