// A benchmark task row keeps its query once (migration 13, core/store/query_refs.h): the prompt text equal to the
// query is not stored again, and the item JSON in tasks.extra lists where its copies were ("query_at") instead of
// holding them. Checked: the stored bytes of a task with a 1 MB query are the query once plus a few hundred bytes;
// what the readers see (the task row through TaskRepo, the stored benchmark) is byte for byte what the item gives;
// a project written before migration 13 (its rows in the old form) reads the same after the migration converts it.
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include "core/eval/bench_store.h"
#include "core/eval/gta_loader.h"
#include "core/store/migrations.h"
#include "core/store/query_refs.h"
#include "core/store/task_repo.h"

using namespace matrix;
using namespace matrix::eval;
using nlohmann::json;

namespace {
const std::string kShared = MATRIX_SHARED_DIR;

template <class T>
T must(Result<T> r) {
    if (!r.ok()) qFatal("unexpected error: %s", r.error().to_string().c_str());
    return std::move(r).value();
}
void check(const Status& s) {
    if (!s.ok()) qFatal("unexpected error: %s", s.error().to_string().c_str());
}

std::string gta_item(const std::string& query) {
    return json{{"tools", json::array()},
                {"files", json::array()},
                {"dialogs", {{{"role", "user"}, {"content", query}}, {{"role", "assistant"}, {"content", "a"}}}},
                {"gt_answer", {{"whitelist", {{"a"}}}, {"blacklist", nullptr}}}}
        .dump();
}

// Every stored item as the readers get it: the task row through TaskRepo and the item through the stored benchmark.
std::vector<std::string> readers_view(store::Project& project) {
    std::vector<std::string> out;
    store::TaskRepo tasks(project.db());
    const Benchmark bench = must(load_stored_benchmark(project, BenchKind::gta));
    for (const auto& item : bench.items) {
        const auto id = must(tasks.find_by_external_id(1, item.id));
        const auto t = must(tasks.get(*id));
        out.push_back(item.id + " | " + t->query + " | " + t->prompt_text.value_or("<null>") + " | " +
                      t->answer.value_or("") + " | " + t->ground_truth.value_or("") + " | " + item_to_json(item).dump());
    }
    return out;
}

int64_t stored_bytes(store::Project& project, const std::string& external_id) {
    return must(project.db().query_int64("SELECT length(query) + COALESCE(length(prompt_text), 0) + length(extra) "
                                         "FROM tasks WHERE external_id='" + external_id + "'"));
}
}  // namespace

class TestBenchStoreOnce : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::string path(const std::string& name) const { return (m_dir.path() + "/").toStdString() + name; }

private slots:
    void json_copies_dropped_and_restored() {
        json v = json::parse(R"({"query": "q/~", "a": ["x", "q/~", {"k/~": "q/~"}], "n": 1})");
        const json original = v;
        store::drop_query_copies(v, "q/~");
        QCOMPARE(v.dump(), std::string(R"({"a":["x",null,{"k/~":null}],"n":1,"query":null,"query_at":["/a/1","/a/2/k~1~0","/query"]})"));
        store::restore_query_copies(v, "q/~");
        QCOMPARE(v, original);
        // Nothing to drop, an empty query, a row written before (no "query_at"): unchanged.
        json w = json::parse(R"({"a": "b"})");
        store::drop_query_copies(w, "zz");
        store::drop_query_copies(w, "");
        store::restore_query_copies(w, "zz");
        QCOMPARE(w.dump(), std::string(R"({"a":"b"})"));
    }

    // A 1 MB query: the row holds it once (tasks.query) and a fixed few hundred bytes besides.
    void big_query_stored_once() {
        const std::string field(1'000'000, 'y');
        std::ofstream(path("gta.json")) << "{\"0\": " << gta_item("q0") << ", \"1\": " << gta_item(field) << "}";
        auto project = must(store::Project::open(path("once.matrix")));
        must(store_benchmark(project, must(load_gta(path("gta.json")))));
        QCOMPARE(stored_bytes(project, "1") - int64_t(field.size()), stored_bytes(project, "0") - int64_t(2));
        QCOMPARE(stored_bytes(project, "0"), int64_t(2 + 513));  // the fixed part: the item JSON without its query
        QCOMPARE(must(project.db().query_int64("SELECT count(*) FROM tasks WHERE prompt_text IS NULL AND prompt_is_query=1")),
                 int64_t(2));
        const auto view = readers_view(project);
        QCOMPARE(view.size(), size_t(2));
        // The readers get every copy back: query, prompt text, the item's query, user turn and raw turn.
        const json item = json::parse(view[1].substr(view[1].rfind(" | {") + 3));
        QCOMPARE(item["query"].get<std::string>(), field);
        QCOMPARE(item["gold_steps"][0]["content"].get<std::string>(), field);
        QCOMPARE(item["gold_steps"][0]["raw"]["content"].get<std::string>(), field);
        QVERIFY(view[1].rfind("1 | " + field + " | " + field + " | ", 0) == 0);
    }

    // A project written before migration 13 (the rows as the old store_benchmark wrote them: the item's JSON whole,
    // prompt_text = query) reads the same after it converts them.
    void pre_migration_project_reads_the_same() {
        const Benchmark bench = must(load_gta(kShared + "/data/gta/dataset.json"));
        QCOMPARE(bench.items.size(), size_t(229));
        const std::string db_path = path("old.matrix");
        std::vector<std::string> fresh;
        int64_t new_bytes = 0, old_bytes = 0;
        {
            auto project = must(store::Project::open(db_path));
            must(store_benchmark(project, bench));
            fresh = readers_view(project);
            new_bytes = must(project.db().query_int64("SELECT sum(length(extra)) FROM tasks"));
            // Back to the old form, row by row, and to schema 12.
            auto& db = project.db();
            auto up = must(db.prepare("UPDATE tasks SET extra=?, prompt_text=query, prompt_is_query=0 WHERE external_id=?"));
            for (const auto& item : bench.items) {
                json extra = json::object();
                extra["bench_item"] = item_to_json(item);
                up.bind_all(extra.dump(), item.id);
                check(up.run());
            }
            // Every later migration's change is undone too, so opening re-applies 13 onwards cleanly
            // (14: run_ranks.heartbeat_every_s).
            check(db.exec("ALTER TABLE tasks DROP COLUMN prompt_is_query; "
                          "ALTER TABLE run_ranks DROP COLUMN heartbeat_every_s; PRAGMA user_version = 12;"));
            old_bytes = must(db.query_int64("SELECT sum(length(extra)) FROM tasks"));
            QCOMPARE(must(db.query_int64("SELECT count(*) FROM tasks WHERE prompt_text=query")), int64_t(229));
        }
        QVERIFY(old_bytes > new_bytes);
        auto project = must(store::Project::open(db_path));  // migrates
        QCOMPARE(project.db().user_version(), store::current_schema_version());
        QCOMPARE(must(project.db().query_int64("SELECT count(*) FROM tasks WHERE prompt_text IS NULL AND prompt_is_query=1")),
                 int64_t(229));
        QCOMPARE(must(project.db().query_int64("SELECT sum(length(extra)) FROM tasks")), new_bytes);
        const auto migrated = readers_view(project);
        QCOMPARE(migrated.size(), fresh.size());
        for (size_t i = 0; i < fresh.size(); ++i) QCOMPARE(QString::fromStdString(migrated[i]), QString::fromStdString(fresh[i]));
        // And both are what the loaded items give (through the item's JSON form, as stored).
        const Benchmark back = must(load_stored_benchmark(project, BenchKind::gta));
        for (size_t i = 0; i < bench.items.size(); ++i) {
            QCOMPARE(item_to_json(back.items[i]).dump(), item_to_json(item_from_json(item_to_json(bench.items[i]))).dump());
        }
    }
};

QTEST_GUILESS_MAIN(TestBenchStoreOnce)
#include "test_bench_store_once.moc"
