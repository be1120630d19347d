// Benchmarks in the project store (see bench_store.h): a benchmark as a dataset of tasks and back. Runs are in
// run_store.cpp, their scoring in run_score_store.cpp. Only store repositories are used here.
#include "core/eval/bench_store.h"

#include <filesystem>

#include "core/eval/bench_store_detail.h"
#include "core/eval/py_compat.h"
#include "core/store/dataset_repo.h"
#include "core/store/media_repo.h"
#include "core/store/query_refs.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"
#include "core/util/sha256.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace matrix::eval {

namespace detail {

Result<std::optional<store::Dataset>> find_dataset(store::Project& project, BenchKind kind, const std::string& name) {
    store::DatasetRepo repo(project.db());
    if (!name.empty()) return repo.find(name);
    MATRIX_TRY(auto all, repo.list());
    for (auto& d : all) {
        if (d.kind == to_string(kind)) return std::optional<store::Dataset>(d);
    }
    return std::optional<store::Dataset>();
}

json parse_or(const std::optional<std::string>& text, json fallback) {
    if (!text || text->empty()) return fallback;
    try {
        return json::parse(*text);
    } catch (const json::exception&) {
        return fallback;
    }
}

}  // namespace detail

using detail::find_dataset;
using detail::parse_or;

namespace {

// "Name(key='value', n=3)": a readable code line for a gold tool call (gold dialogs carry no code).
std::string render_call(const ToolCallSpec& c) {
    std::string out = c.name + "(";
    bool first = true;
    if (c.arguments.is_object()) {
        for (auto it = c.arguments.begin(); it != c.arguments.end(); ++it) {
            if (!first) out += ", ";
            first = false;
            out += it.key() + "=" + (it.value().is_string() ? json(it.value()).dump() : py::str_of(it.value()));
        }
    }
    return out + ")";
}

std::vector<store::Step> gold_steps_of(const BenchItem& item) {
    std::vector<store::Step> steps;
    for (const auto& g : item.gold_steps) {
        if (g.role == "assistant") {
            store::Step s;
            s.idx = int(steps.size());
            if (!g.raw.is_null()) s.action = g.raw.dump();
            s.thought = g.thought;
            int pos = 0;
            for (const auto& c : g.tool_calls) {
                if (!s.code.empty()) s.code += "\n";
                s.code += render_call(c);
                store::ToolCallRow row;
                row.position = pos++;
                row.name = c.name;
                row.arguments = c.arguments.is_object() ? c.arguments.dump() : json{{"input", c.arguments}}.dump();
                row.known = true;
                s.tool_calls.push_back(std::move(row));
            }
            if (!g.observation.empty()) s.observation = g.observation;
            if (g.tool_calls.empty() && !g.content.empty()) {
                s.code = "final_answer(" + json(g.content).dump() + ")";
                s.is_final = true;
                store::ToolCallRow row;
                row.name = "final_answer";
                row.arguments = json{{"answer", g.content}}.dump();
                row.known = true;
                s.tool_calls.push_back(std::move(row));
            }
            steps.push_back(std::move(s));
        } else if (g.role == "tool" && !steps.empty()) {
            steps.back().observation = g.content;
        }
    }
    return steps;
}

std::optional<std::string> resolve_file(const BenchFile& f, const std::vector<std::string>& roots) {
    if (!f.resolved.empty()) return f.resolved;
    std::error_code ec;
    for (const auto& r : roots) {
        for (const fs::path& cand : {fs::path(r) / f.path, fs::path(r) / fs::path(f.path).filename()}) {
            if (fs::is_regular_file(cand, ec)) return fs::absolute(cand, ec).lexically_normal().string();
        }
    }
    return std::nullopt;
}

}  // namespace

Result<StoredBenchmark> store_benchmark(store::Project& project, const Benchmark& bench,
                                        const StoreBenchmarkOptions& options, const Progress& progress) {
    store::Database& db = project.db();
    store::DatasetRepo datasets(db);
    store::TaskRepo tasks(db);
    store::MediaRepo media(db);
    store::TrajectoryRepo trajectories(db);
    const std::string name = options.dataset_name.empty() ? std::string(to_string(bench.kind)) : options.dataset_name;
    std::vector<std::string> roots = options.image_roots;
    if (auto pr = project.image_roots(); pr.ok()) roots.insert(roots.end(), pr->begin(), pr->end());

    store::Transaction tx(db);
    if (!tx.begin_status().ok()) return tx.begin_status().error();
    MATRIX_TRY(store::Dataset ds, datasets.find_or_create(name, to_string(bench.kind), bench.source_path));
    if (!options.image_roots.empty()) MATRIX_CHECK(datasets.set_image_roots(ds.id, options.image_roots));
    StoredBenchmark out;
    out.dataset_id = ds.id;
    MATRIX_TRY(int64_t ordinal, tasks.next_ordinal(ds.id));
    int64_t done = 0;
    for (const auto& item : bench.items) {
        if (progress.cancelled()) return make_error("cancelled", bench.source_path);
        progress(++done, int64_t(bench.items.size()), item.id);
        const std::string ctx = "benchmark item " + item.id;
        MATRIX_TRY(auto existing, tasks.find_by_external_id(ds.id, item.id));
        if (existing) {
            ++out.n_existing;
            continue;
        }
        // The media first, then the task row with its counters, then its links and gold trajectory: the row is
        // written once. (Its counters used to be filled in by two UPDATEs, each of which reads and rewrites the
        // whole row, query and item JSON included: with a 12 MB field, 140 MB per UPDATE.)
        store::Task t;
        std::vector<std::pair<std::string, int64_t>> links;  // role, media id
        for (const auto& f : item.files) {
            store::Media m;
            m.path = f.path;
            m.resolved_path = resolve_file(f, roots);
            if (m.resolved_path) {
                m.sha256 = sha256_file_hex(*m.resolved_path);
                std::error_code ec;
                m.size_bytes = int64_t(fs::file_size(*m.resolved_path, ec));
            } else {
                m.error = "not found beside the benchmark or under the image roots";
                ++out.n_media_missing;
            }
            ++out.n_media;
            auto mid = media.upsert(m, m.resolved_path.has_value());
            if (!mid.ok()) return mid.error().within(ctx);
            // Missing as the store has it (an existing row keeps a path found earlier).
            MATRIX_TRY(int64_t missing, db.query_int64("SELECT resolved_path IS NULL FROM media WHERE id=" +
                                                       std::to_string(mid.value())));
            if (missing) ++t.n_missing_media;
            const std::string role = f.type == "image" ? "image" : "attachment";
            if (role == "image") ++t.n_images;
            links.emplace_back(role, mid.value());
        }
        store::Trajectory tr;
        tr.source = "gold";
        tr.final_answer = item.gold_answer_text;
        tr.steps = gold_steps_of(item);
        t.dataset_id = ds.id;
        t.record_key = item.id;
        t.external_id = item.id;
        t.ordinal = ordinal++;
        t.query = item.query;
        t.prompt_text = item.query;
        t.answer = item.gold_answer_text;
        t.ground_truth = item.gold_answer.dump();
        t.source = to_string(bench.kind);
        if (item.level > 0) t.level = std::to_string(item.level);
        if (!item.category.empty()) t.category = item.category;
        {
            json extra = json::object();
            extra["bench_item"] = item_to_json(item);  // moved in: an initializer list would copy the item's JSON
            // The query is in the row once, as tasks.query: the item's copies of it (its query, the first user
            // turn's text and raw turn) are left out and put back when read (query_refs.h).
            store::drop_query_copies(extra["bench_item"], item.query);
            t.extra = extra.dump();
        }
        t.n_steps = int(tr.steps.size());
        t.tools = store::tools_of(tr.steps);
        // The full-text row is written once: with the gold steps when there are any.
        auto task_id = tasks.insert(t, /*index_fts=*/tr.steps.empty());
        if (!task_id.ok()) return task_id.error().within(ctx);
        t.extra.reset();
        t.prompt_text.reset();
        int position = 0;
        for (const auto& [role, mid] : links) MATRIX_CHECK(media.link(task_id.value(), role, position++, mid));
        if (!tr.steps.empty()) {
            tr.task_id = task_id.value();
            store::TrajectoryInsertOptions topt;
            topt.task_fts_indexed = false;
            topt.refresh_task_counters = false;  // in the task row above
            topt.new_task_query = std::move(t.query);
            auto tid = trajectories.insert(tr, topt);
            if (!tid.ok()) return tid.error().within(ctx);
            ++out.n_trajectories;
        }
        ++out.n_added;
    }
    MATRIX_CHECK(tx.commit());
    return out;
}

Result<Benchmark> load_stored_benchmark(store::Project& project, BenchKind kind, const std::string& dataset_name) {
    MATRIX_TRY(auto ds, find_dataset(project, kind, dataset_name));
    if (!ds) {
        return make_error(std::string("no ") + to_string(kind) + " benchmark in the project" +
                          (dataset_name.empty() ? "" : " (dataset '" + dataset_name + "')"));
    }
    store::TaskRepo tasks(project.db());
    store::TaskFilter filter;
    filter.dataset_id = ds->id;
    Benchmark bench;
    bench.kind = kind;
    bench.name = ds->name;
    bench.source_path = ds->source_path;
    store::TaskPageRequest req;
    req.sort = store::TaskSort::Ordinal;
    req.limit = 1000;
    for (req.offset = 0;; req.offset += req.limit) {
        MATRIX_TRY(auto page, tasks.page(filter, req));
        for (const auto& summary : page) {
            MATRIX_TRY(auto task, tasks.get(summary.id));
            if (!task) continue;
            json extra = parse_or(task->extra, json::object());
            if (extra.contains("bench_item")) {
                store::restore_query_copies(extra["bench_item"], task->query);
                bench.items.push_back(item_from_json(extra["bench_item"]));
            } else {  // a task stored by something else: what the row itself says
                BenchItem item;
                item.id = task->external_id;
                item.query = task->query;
                item.gold_answer = parse_or(task->ground_truth, json());
                item.gold_answer_text = task->answer.value_or("");
                item.category = task->category.value_or("");
                bench.items.push_back(std::move(item));
            }
        }
        if (int64_t(page.size()) < req.limit) break;
    }
    return bench;
}

}  // namespace matrix::eval
