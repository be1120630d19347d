// M-TRACE and Pref-X export (see exporters.h).
#include "core/formats/exporters.h"

#include <filesystem>
#include <fstream>
#include <unordered_map>

#include "core/formats/json_writer.h"
#include "core/formats/mtrace_record.h"
#include "core/formats/prefx_record.h"
#include "core/store/dataset_repo.h"
#include "core/store/media_repo.h"
#include "core/store/pair_repo.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"

namespace fs = std::filesystem;

namespace matrix::formats {

namespace {
Result<store::Dataset> dataset_named(store::Database& db, const std::string& name) {
    store::DatasetRepo repo(db);
    MATRIX_TRY(auto d, repo.find(name));
    if (!d) return make_error("no dataset named '" + name + "'");
    return *d;
}

// System prompt texts by id, cached (a dataset usually has one).
class PromptCache {
public:
    explicit PromptCache(store::Database& db) : m_db(db) {}
    Result<std::optional<std::string>> get(const std::optional<int64_t>& id) {
        if (!id) return std::optional<std::string>();
        if (auto it = m_cache.find(*id); it != m_cache.end()) return std::optional<std::string>(it->second);
        MATRIX_TRY(auto text, store::system_prompt_text(m_db, *id));
        if (text) m_cache.emplace(*id, *text);
        return text;
    }

private:
    store::Database& m_db;
    std::unordered_map<int64_t, std::string> m_cache;
};
}  // namespace

nlohmann::ordered_json llamafactory_prefx_entry(const std::string& file_name) {
    nlohmann::ordered_json e;
    e["file_name"] = file_name;
    e["formatting"] = "sharegpt";
    e["ranking"] = true;
    e["columns"] = {{"messages", "conversations"},
                    {"chosen", "chosen"},
                    {"rejected", "rejected"},
                    {"images", "images"},
                    {"system", "system"}};
    return e;
}

Result<std::string> export_target(store::Database& db, const std::string& out_path, bool overwrite) {
    std::error_code ec;
    fs::path target = fs::absolute(out_path, ec);
    if (fs::is_symlink(fs::symlink_status(target, ec))) {
        target = fs::weakly_canonical(target, ec);  // write through the link: its target is the file replaced
        if (ec) return make_error("cannot follow the symbolic link: " + ec.message(), out_path);
    }
    const fs::file_status st = fs::status(target, ec);
    if (fs::is_directory(st)) return make_error("is a folder; give a file name", out_path);
    if (!fs::exists(st)) return target.string();
    if (!fs::is_regular_file(st)) return make_error("is not a regular file", out_path);
    const auto same = [&](const std::string& other) {
        std::error_code e2;
        return !other.empty() && fs::exists(other, e2) && fs::equivalent(target, other, e2);
    };
    const std::string db_path = db.path();
    if (same(db_path) || same(db_path + "-wal") || same(db_path + "-shm"))
        return make_error("is the project database itself; export to another file", out_path);
    MATRIX_TRY(auto datasets, store::DatasetRepo(db).list());
    for (const store::Dataset& d : datasets)
        if (same(d.source_path))
            return make_error("is the file dataset \"" + d.name + "\" was imported from; export to another file", out_path);
    if (!overwrite) return make_error("exists; choose another file or replace it (--force)", out_path);
    return target.string();
}

Result<ExportReport> export_mtrace(store::Database& db, const std::string& dataset, const std::string& out_path_as_given,
                                   const ExportOptions& options) {
    MATRIX_TRY(const std::string out_path, export_target(db, out_path_as_given, options.overwrite));
    MATRIX_TRY(store::Dataset ds, dataset_named(db, dataset));
    MATRIX_TRY(int64_t total, db.query_int64("SELECT count(*) FROM tasks WHERE dataset_id=" + std::to_string(ds.id)));
    JsonArrayWriter writer;
    MATRIX_CHECK(writer.open(out_path));
    store::TaskRepo tasks(db);
    store::MediaRepo media(db);
    store::TrajectoryRepo trajectories(db);
    PromptCache prompts(db);
    ExportReport report;
    MATRIX_TRY(store::Statement ids, db.prepare("SELECT id FROM tasks WHERE dataset_id=? ORDER BY ordinal, id"));
    ids.bind(1, ds.id);
    for (;;) {
        MATRIX_TRY(bool row, ids.step());
        if (!row) break;
        if (options.progress.cancelled()) {
            report.cancelled = true;
            return report;  // the writer removes its temporary file
        }
        MATRIX_TRY(auto task, tasks.get(ids.column_int64(0)));
        MATRIX_TRY(auto system, prompts.get(task->system_prompt_id));
        MATRIX_TRY(auto links, media.for_task(task->id));
        std::vector<MediaRef> refs;
        for (auto& l : links)
            if (l.role == "image" || l.role == "attachment") refs.push_back({l.media.path, l.role, l.position, l.label});
        MATRIX_TRY(auto traj, trajectories.primary_for_task(task->id));
        static const std::vector<store::Step> kNoSteps;
        MATRIX_CHECK(writer.write(mtrace_export_record(*task, system, refs, traj ? traj->steps : kNoSteps)));
        ++report.records;
        if (report.records % 256 == 0) options.progress(report.records, total, "records");
    }
    MATRIX_CHECK(writer.finish());
    options.progress(report.records, total, "records");
    return report;
}

Result<ExportReport> export_prefx(store::Database& db, const std::string& dataset, const std::string& out_path_as_given,
                                  const ExportOptions& options) {
    MATRIX_TRY(const std::string out_path, export_target(db, out_path_as_given, options.overwrite));
    if (options.status != "all" && options.status != "approved" && options.status != "pending" &&
        options.status != "rejected")
        return make_error("unknown status '" + options.status + "' (approved, pending, rejected or all)");
    MATRIX_TRY(store::Dataset ds, dataset_named(db, dataset));
    store::PairRepo pairs(db);
    store::PairFilter filter;
    filter.dataset_id = ds.id;
    if (options.status != "all") filter.status = options.status;
    MATRIX_TRY(int64_t total, pairs.count(filter));
    JsonArrayWriter writer;
    MATRIX_CHECK(writer.open(out_path));
    PromptCache prompts(db);
    std::unordered_map<int64_t, std::pair<nlohmann::json, nlohmann::json>> prefix_cache;  // id -> images, history
    std::unordered_map<int64_t, std::optional<int64_t>> prefix_system;
    ExportReport report;
    const int64_t page = 1000;
    for (int64_t offset = 0;; offset += page) {
        MATRIX_TRY(auto batch, pairs.list(filter, offset, page));
        if (batch.empty()) break;
        for (const auto& p : batch) {
            if (options.progress.cancelled()) {
                report.cancelled = true;
                return report;
            }
            auto it = prefix_cache.find(p.prefix_id);
            if (it == prefix_cache.end()) {
                if (prefix_cache.size() > 10000) prefix_cache.clear();
                MATRIX_TRY(auto pre, pairs.prefix(p.prefix_id));
                if (!pre) return make_error("pair " + std::to_string(p.id) + " has no prefix row");
                auto images = nlohmann::json::parse(pre->images, nullptr, false);
                auto history = nlohmann::json::parse(pre->history, nullptr, false);
                it = prefix_cache.emplace(p.prefix_id, std::make_pair(images, history)).first;
                prefix_system[p.prefix_id] = pre->system_prompt_id;
            }
            MATRIX_TRY(auto system, prompts.get(prefix_system[p.prefix_id]));
            MATRIX_CHECK(writer.write(prefx_export_record(system, it->second.first, it->second.second, p)));
            ++report.records;
        }
        options.progress(report.records, total, "pairs");
    }
    MATRIX_CHECK(writer.finish());

    if (options.write_dataset_info) {
        fs::path dir = fs::path(out_path).parent_path();
        fs::path info_path = (dir.empty() ? fs::path(".") : dir) / "dataset_info.json";
        nlohmann::ordered_json info = nlohmann::ordered_json::object();
        std::error_code ec;
        if (fs::exists(info_path, ec)) {
            std::ifstream in(info_path);
            info = nlohmann::ordered_json::parse(in, nullptr, false);
            if (!info.is_object())
                return make_error("existing dataset_info.json is not a JSON object; not overwritten", info_path.string());
        }
        info[dataset] = llamafactory_prefx_entry(fs::path(out_path).filename().string());
        MATRIX_CHECK(write_json_file(info_path.string(), info));
        report.dataset_info_path = info_path.string();
    }
    return report;
}

}  // namespace matrix::formats
