// The store queries the GUI's loaders call through ProjectSession (ui/models: the curation queue, a task's pair
// counts per step and its twin tasks in pair datasets, the sampling runs' ids): exact rows on a small project.
#include <QtTest>

#include "core/store/dataset_repo.h"
#include "core/store/pair_repo.h"
#include "core/store/project.h"
#include "core/store/run_repo.h"
#include "core/store/task_repo.h"

using namespace matrix;

namespace {
template <class T>
T must(Result<T> r) {
    if (!r.ok()) qFatal("unexpected error: %s", r.error().to_string().c_str());
    return std::move(r).value();
}
void must(Status s) {
    if (!s.ok()) qFatal("unexpected error: %s", s.error().to_string().c_str());
}

int64_t add_dataset(store::Database& db, const std::string& name, const std::string& kind) {
    store::Dataset d;
    d.name = name;
    d.kind = kind;
    return must(store::DatasetRepo(db).create(d));
}

int64_t add_task(store::Database& db, int64_t dataset, const std::string& key, const std::string& query) {
    store::TaskRepo tasks(db);
    store::Task t;
    t.dataset_id = dataset;
    t.record_key = key;
    t.ordinal = must(tasks.next_ordinal(dataset));
    t.query = query;
    return must(tasks.insert(t));
}

int64_t add_pair(store::Database& db, int64_t dataset, std::optional<int64_t> task, int step, const std::string& key) {
    store::PairRepo pairs(db);
    store::PairPrefix prefix;
    prefix.history = R"([{"from":"human","value":")" + key + R"("}])";
    store::Pair p;
    p.dataset_id = dataset;
    p.prefix_id = must(pairs.intern_prefix(prefix));
    p.task_id = task;
    p.step_index = step;
    p.record_key = key;
    p.ordinal = step;
    p.chosen_action = "chosen " + key;
    p.rejected_action = "rejected " + key;
    return must(pairs.insert(p));
}
}  // namespace

class TestStoreQueries : public QObject {
    Q_OBJECT
private slots:
    void queries() {
        QTemporaryDir dir;
        auto project = must(store::Project::open((dir.path() + "/q.matrix").toStdString()));
        store::Database& db = project.db();
        const int64_t mtrace = add_dataset(db, "m", "mtrace");
        const int64_t prefx = add_dataset(db, "p", "prefx");
        const int64_t beam = add_dataset(db, "b", "beam");
        const int64_t task = add_task(db, mtrace, "t1", "count the apples");
        add_task(db, mtrace, "t2", "count the apples");  // same text, not a pair dataset: no twin
        const int64_t twin_p = add_task(db, prefx, "p1", "count the apples");
        const int64_t twin_b = add_task(db, beam, "b1", "count the apples");
        add_task(db, prefx, "p2", "count the pears");

        // Twins: pair datasets only, never the task itself, by id, limited.
        QCOMPARE(must(store::TaskRepo(db).pair_dataset_twins(task, "count the apples")),
                 (std::vector<int64_t>{twin_p, twin_b}));
        QCOMPARE(must(store::TaskRepo(db).pair_dataset_twins(task, "count the apples", 1)),
                 (std::vector<int64_t>{twin_p}));
        QCOMPARE(must(store::TaskRepo(db).pair_dataset_twins(twin_p, "count the apples")),
                 (std::vector<int64_t>{twin_b}));
        QVERIFY(must(store::TaskRepo(db).pair_dataset_twins(task, "no such text")).empty());

        // Pairs: two on step 1, one on step 0 of the twin; one without a task in the beam dataset.
        const int64_t a = add_pair(db, prefx, twin_p, 1, "a");
        const int64_t b = add_pair(db, prefx, twin_p, 0, "b");
        const int64_t c = add_pair(db, prefx, twin_p, 2, "c");
        must(store::PairRepo(db).set_status(c, "rejected", std::string("wrong tool")));
        const int64_t d = add_pair(db, beam, std::nullopt, 1, "d");
        must(db.exec("UPDATE pairs SET step_index = 1 WHERE id = " + std::to_string(c)));

        using Steps = std::vector<std::pair<int, int64_t>>;
        QCOMPARE(must(store::PairRepo(db).count_by_step(twin_p)), (Steps{{0, 1}, {1, 2}}));
        QVERIFY(must(store::PairRepo(db).count_by_step(task)).empty());

        // The queue: by dataset, then ordinal; task 0 when absent.
        auto all = must(store::PairRepo(db).queue(std::nullopt));
        QCOMPARE(int(all.size()), 4);
        QCOMPARE(all[0].id, b);  // ordinal 0
        QCOMPARE(all[0].step_index, 0);
        QCOMPARE(all[1].id, a);
        QCOMPARE(all[2].id, c);
        QCOMPARE(all[2].status, std::string("rejected"));
        QCOMPARE(all[2].task_id, twin_p);
        QCOMPARE(all[3].id, d);
        QCOMPARE(all[3].task_id, int64_t(0));
        QCOMPARE(all[3].status, std::string("pending"));
        auto beam_only = must(store::PairRepo(db).queue(beam));
        QCOMPARE(int(beam_only.size()), 1);
        QCOMPARE(beam_only[0].id, d);

        // Run ids of one kind, highest first.
        store::RunRepo runs(db);
        store::Run r;
        r.kind = "sample";
        const int64_t s1 = must(runs.create(r));
        r.kind = "sft";
        must(runs.create(r));
        r.kind = "sample";
        const int64_t s2 = must(runs.create(r));
        QCOMPARE(must(runs.ids("sample")), (std::vector<int64_t>{s2, s1}));
        QVERIFY(must(runs.ids("dpo")).empty());
    }
};

QTEST_GUILESS_MAIN(TestStoreQueries)
#include "test_store_queries.moc"
