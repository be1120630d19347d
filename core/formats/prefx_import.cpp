// Pref-X import (see prefx_import.h): the record_import.h loop; each record's pair is attached to its task
// (found, linked from another dataset, or created with the history as its trajectory).
#include "core/formats/prefx_import.h"

#include <unordered_map>

#include "core/conversation/prefx_history.h"
#include "core/formats/import_context.h"
#include "core/formats/json_stream.h"
#include "core/formats/prefx_record.h"
#include "core/formats/record_import.h"
#include "core/store/media_repo.h"
#include "core/store/pair_repo.h"
#include "core/store/prompt_index.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"
#include "core/util/sha256.h"

namespace matrix::formats {

namespace {
// A converted record and its identity (the SHA-256 of its content), both made on the producer thread.
struct PrefxItem {
    PrefxRows rows;
    std::string key;
};
struct TaskState {
    int64_t trajectory_id = 0;
    std::vector<std::string> actions;  // the trajectory's step actions so far
};
}  // namespace

Result<ImportReport> import_prefx(store::Database& db, const std::string& path, const ImportOptions& options) {
    MATRIX_TRY(JsonArrayReader reader, JsonArrayReader::open_file(path));
    reader.set_record_predicate([](const nlohmann::json& v) {
        return v.contains("conversations") && v.contains("chosen") && v.contains("rejected");
    });
    ImportReport report;
    ImportContext ctx(db, options);
    MATRIX_CHECK(ctx.begin(file_stem(path), "prefx", path));
    report.dataset_id = ctx.dataset_id();

    store::TaskRepo tasks(db);
    store::TrajectoryRepo trajectories(db);
    store::MediaRepo media(db);
    store::PairRepo pairs(db);
    MATRIX_TRY(int64_t task_ordinal, tasks.next_ordinal(ctx.dataset_id()));
    MATRIX_TRY(int64_t pair_ordinal,
               db.query_int64("SELECT COALESCE(max(ordinal)+1, 0) FROM pairs WHERE dataset_id=" +
                              std::to_string(ctx.dataset_id())));
    std::unordered_map<std::string, int> key_seen;
    std::unordered_map<int64_t, TaskState> task_states;
    std::optional<store::PromptIndex> other_tasks;
    if (options.link_existing_tasks) {
        auto index = store::PromptIndex::build(db, ctx.dataset_id());
        if (!index.ok()) {
            ctx.abort();
            return index.error().within(path);
        }
        other_tasks.emplace(std::move(index.value()));
    }

    RecordFormat<PrefxItem> format;
    format.next = json_array_source<PrefxItem>(reader, path, options.max_record_bytes,
                                               [](const nlohmann::json& v) -> Result<PrefxItem> {
        MATRIX_TRY(PrefxRows rows, prefx_record_to_rows(v));
        // Identity: the record's content (several records legitimately share prefix + chosen).
        return PrefxItem{std::move(rows), sha256_hex(v.dump())};
    });
    format.total = reader.size();
    format.exists = [&](const ItemInfo&, PrefxItem& rec) -> Result<bool> {
        int& seen = key_seen[rec.key];
        if (++seen > 1) rec.key += "#" + std::to_string(seen);
        MATRIX_TRY(auto existing, pairs.find_by_key(ctx.dataset_id(), rec.key));
        return existing.has_value();
    };
    format.write = [&](const ItemInfo& item, PrefxItem& rec, ImportReport& report) -> Status {
        PrefxRows& rows = rec.rows;
        const std::string& key = rec.key;
        std::optional<int64_t> system_id;
        if (rows.system_prompt) {
            auto sp = ctx.system_prompt_id(*rows.system_prompt);
            if (!sp.ok()) return sp.error();
            system_id = sp.value();
        }
        store::PairPrefix prefix;
        prefix.system_prompt_id = system_id;
        prefix.images = nlohmann::json(rows.images).dump();
        prefix.history = rows.history.dump();
        auto prefix_id = pairs.intern_prefix(prefix);
        if (!prefix_id.ok()) return prefix_id.error();

        // The task: one per (system, images, first human turn).
        const std::string task_key =
            "prefx:" + sha256_hex((system_id ? std::to_string(*system_id) : std::string("-")) + "\x1f" + prefix.images +
                                  "\x1f" + rows.first_human);
        auto task_id_r = tasks.find_by_key(ctx.dataset_id(), task_key);
        if (!task_id_r.ok()) return task_id_r.error();
        std::optional<int64_t> linked_task;
        if (!task_id_r.value() && other_tasks && !rows.prompt.task.empty()) {
            auto found = other_tasks->find(system_id, rows.prompt.task, int(rows.images.size()));
            if (!found.ok()) return found.error();
            linked_task = found.value();
        }
        std::vector<store::Step> history_steps = conversation::steps_of_prefx_history(rows.history);
        int64_t task_id;
        if (linked_task) {
            // The task (and its trajectory) came from another dataset: the pair only points at it.
            task_id = *linked_task;
            ++report.linked_tasks;
        } else if (!task_id_r.value()) {
            store::Task task;
            task.dataset_id = ctx.dataset_id();
            task.record_key = task_key;
            task.ordinal = task_ordinal++;
            task.query = rows.prompt.task;
            task.prompt_text = rows.first_human;
            task.source = "prefx";
            task.system_prompt_id = system_id;
            std::vector<std::pair<ImportContext::MediaUse, std::pair<std::string, int>>> links;
            int pos = 0;
            for (const auto& p : rows.images) {
                auto use = ctx.media(p, report);
                if (!use.ok()) return use.error();
                if (use->missing) ++task.n_missing_media;
                if (use->warning) report.issues.push_back({item.file, item.index, item.offset, *use->warning, false});
                links.push_back({use.value(), {"image", pos++}});
            }
            task.n_images = pos;
            pos = 0;
            for (const auto& p : rows.prompt.attachments) {
                auto use = ctx.media(p, report);
                if (!use.ok()) return use.error();
                if (use->missing) ++task.n_missing_media;
                links.push_back({use.value(), {"attachment", pos++}});
            }
            auto id = tasks.insert(task, false);
            if (!id.ok()) return id.error();
            task_id = id.value();
            for (auto& [use, rp] : links)
                if (auto s = media.link(task_id, rp.first, rp.second, use.id); !s.ok()) return s.error();
            store::Trajectory traj;
            traj.task_id = task_id;
            traj.source = "prefx";
            traj.steps = history_steps;
            store::TrajectoryInsertOptions topt;
            topt.task_fts_indexed = false;
            topt.new_task_query = task.query;
            auto tid = trajectories.insert(traj, topt);
            if (!tid.ok()) return tid.error();
            TaskState st;
            st.trajectory_id = tid.value();
            for (auto& s : history_steps) st.actions.push_back(s.action.value_or(""));
            task_states[task_id] = std::move(st);
        } else {
            task_id = *task_id_r.value();
            auto it = task_states.find(task_id);
            if (it == task_states.end()) {
                auto traj = trajectories.primary_for_task(task_id);
                if (!traj.ok()) return traj.error();
                TaskState st;
                if (traj.value()) {
                    st.trajectory_id = traj.value()->id;
                    for (auto& s : traj.value()->steps) st.actions.push_back(s.action.value_or(""));
                }
                it = task_states.emplace(task_id, std::move(st)).first;
            }
            // A longer history along the same path extends the task's trajectory.
            TaskState& st = it->second;
            if (st.trajectory_id && history_steps.size() > st.actions.size()) {
                bool same_path = true;
                for (size_t i = 0; i < st.actions.size() && same_path; ++i)
                    same_path = history_steps[i].action.value_or("") == st.actions[i];
                if (same_path) {
                    std::vector<store::Step> extra(history_steps.begin() + long(st.actions.size()), history_steps.end());
                    if (auto s = trajectories.append_steps(st.trajectory_id, extra); !s.ok()) return s.error();
                    for (auto& s : extra) st.actions.push_back(s.action.value_or(""));
                }
            }
        }

        store::Pair pair;
        pair.dataset_id = ctx.dataset_id();
        pair.prefix_id = prefix_id.value();
        pair.task_id = task_id;
        pair.step_index = rows.step_index;
        pair.record_key = key;
        pair.ordinal = pair_ordinal++;
        pair.chosen_action = rows.chosen_action;
        pair.chosen_observation = rows.chosen_observation;
        pair.rejected_action = rows.rejected_action;
        pair.rejected_observation = rows.rejected_observation;
        pair.origin = "imported";
        pair.extra = rows.extra;
        if (auto p = pairs.insert(pair); !p.ok()) return p.error();
        ++report.pairs;
        return {};
    };
    return run_record_import(ctx, path, format, std::move(report));
}

}  // namespace matrix::formats
