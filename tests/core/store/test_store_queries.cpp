// The store queries the GUI's loaders call through ProjectSession (ui/models: the curation queue, a task's pair
// counts per step and its twin tasks in pair datasets, the sampling runs' ids; the training panel's runs with their
// last loss, curves, dataset names and per-rank status with the lost rule): exact rows on a small project.
#include <QtTest>

#include "core/store/dataset_repo.h"
#include "core/store/pair_repo.h"
#include "core/store/project.h"
#include "core/store/run_rank_repo.h"
#include "core/store/run_repo.h"
#include "core/store/task_repo.h"
#include "core/store/training_runs.h"

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

    // The training panel: SFT/DPO runs newest first with the last logged loss, curves, dataset names.
    void training_runs() {
        QTemporaryDir dir;
        auto project = must(store::Project::open((dir.path() + "/t.matrix").toStdString()));
        store::Database& db = project.db();
        add_dataset(db, "demo", "mtrace");
        add_dataset(db, "prefs", "prefx");
        store::RunRepo runs(db);
        store::Run r;
        r.kind = "sft";
        r.name = "first";
        const int64_t sft = must(runs.create(r));
        r.kind = "eval";
        r.name = "not training";
        must(runs.create(r));
        r.kind = "dpo";
        r.name = "second";
        const int64_t dpo = must(runs.create(r));
        must(runs.append_metrics(sft, 1, {{"loss", 2.5}, {"lr", 0.01}}));
        must(runs.append_metrics(sft, 3, {{"loss", 1.25}, {"lr", 0.005}}));
        must(runs.append_metrics(sft, 2, {{"loss", 2.0}}));

        const auto rows = must(store::list_training_runs(db));
        QCOMPARE(int(rows.size()), 2);
        QCOMPARE(rows[0].run.id, dpo);
        QCOMPARE(rows[0].run.name, std::string("second"));
        QCOMPARE(rows[0].last_step, int64_t(0));
        QVERIFY(!rows[0].last_loss);
        QCOMPARE(rows[1].run.id, sft);
        QCOMPARE(rows[1].last_step, int64_t(3));
        QCOMPARE(*rows[1].last_loss, 1.25);

        const auto curves = must(store::run_curves(db, sft, {"loss", "lr", "eval_loss"}));
        QCOMPARE(int(curves.size()), 3);
        const auto& loss = curves.at("loss");
        QCOMPARE(int(loss.size()), 3);
        QCOMPARE(loss[0].step, int64_t(1));
        QCOMPARE(loss[1].value, 2.0);
        QCOMPARE(loss[2].value, 1.25);
        QCOMPARE(curves.at("lr")[1].value, 0.005);
        QVERIFY(curves.at("eval_loss").empty());
        QCOMPARE(must(store::dataset_names(db)), (std::vector<std::string>{"demo", "prefs"}));
    }

    // Ranks: each writes its own row; a running row shows as lost when its heartbeat is older than 10 of its
    // intervals or when its run has ended without it, and as paused while a job running the run is paused.
    void run_ranks() {
        QTemporaryDir dir;
        auto project = must(store::Project::open((dir.path() + "/r.matrix").toStdString()));
        store::Database& db = project.db();
        store::RunRepo runs(db);
        store::Run r;
        r.kind = "sft";
        const int64_t run = must(runs.create(r));
        must(runs.set_status(run, "running"));
        store::RunRankRepo ranks(db);
        for (int k = 0; k < 3; ++k) {
            store::RunRank rk;
            rk.run_id = run;
            rk.rank = k;
            rk.world_size = 3;
            rk.host = "node" + std::to_string(k);
            rk.pid = 1000 + k;
            rk.last_heartbeat = 5000.0;
            rk.heartbeat_every_s = 6.0;  // lost after 10 x 6 = 60 s of silence
            must(ranks.put(rk));
        }
        must(ranks.heartbeat(run, 0, 4, 812.5, 5100.0));
        must(ranks.heartbeat(run, 1, 4, 790.0, 5099.0));
        must(ranks.finish(run, 2, "failed", 3, std::string("out of memory at step 4")));
        QVERIFY(!ranks.heartbeat(run, 7, 1, 1.0, 1.0).ok());  // no such rank: an error, not a silent no-op

        // At 5130 (lost after 60 s): rank 0 heard 30 s ago, rank 1 31 s ago, rank 2 ended.
        auto st = must(ranks.status(run, 5130.0));
        QCOMPARE(int(st.size()), 3);
        QCOMPARE(st[0].row.host, std::string("node0"));
        QCOMPARE(st[0].row.pid, int64_t(1000));
        QCOMPARE(st[0].row.step, int64_t(4));
        QCOMPARE(st[0].row.tokens_per_s, 812.5);
        QCOMPARE(st[0].shown_state, std::string("running"));
        QCOMPARE(st[0].seconds_since_heartbeat, 30.0);
        QCOMPARE(st[0].row.heartbeat_every_s, 6.0);
        QCOMPARE(st[1].shown_state, std::string("running"));
        QCOMPARE(st[2].row.state, std::string("failed"));
        QCOMPARE(st[2].shown_state, std::string("failed"));
        QCOMPARE(st[2].row.step, int64_t(3));
        QCOMPARE(*st[2].row.error, std::string("out of memory at step 4"));
        // At 5159.5 rank 1 (heard at 5099) is past 60 s, rank 0 (heard 1 s later) is not.
        st = must(ranks.status(run, 5159.5));
        QCOMPARE(st[0].shown_state, std::string("running"));
        QCOMPARE(st[1].shown_state, std::string("lost"));
        QCOMPARE(st[1].row.state, std::string("running"));
        // The liveness beat: last_heartbeat only, on a running row; never on a final one.
        QCOMPARE(must(ranks.touch(run, 1, 5158.0)), true);
        QCOMPARE(must(ranks.touch(run, 2, 5158.0)), false);
        QCOMPARE(must(ranks.touch(run, 7, 5158.0)), false);
        st = must(ranks.status(run, 5159.5));
        QCOMPARE(st[1].shown_state, std::string("running"));
        QCOMPARE(st[1].row.step, int64_t(4));
        QCOMPARE(st[1].row.tokens_per_s, 790.0);
        QCOMPARE(st[1].row.last_heartbeat, 5158.0);
        // A job running this run is paused (its processes stopped, so no beats): running rows show paused, however
        // old their heartbeat; resumed, the lost rule applies again.
        must(db.exec("INSERT INTO jobs(kind, argv, log_path, state, run_id) VALUES('train', '[]', 'j.log', 'paused', " +
                     std::to_string(run) + ")"));
        st = must(ranks.status(run, 9000.0));
        QCOMPARE(st[0].shown_state, std::string("paused"));
        QCOMPARE(st[1].shown_state, std::string("paused"));
        QCOMPARE(st[2].shown_state, std::string("failed"));
        must(db.exec("UPDATE jobs SET state='running'"));
        st = must(ranks.status(run, 9000.0));
        QCOMPARE(st[0].shown_state, std::string("lost"));
        // An interval must be positive.
        store::RunRank bad;
        bad.run_id = run;
        bad.rank = 5;
        bad.heartbeat_every_s = 0;
        QVERIFY(!ranks.put(bad).ok());
        // The run ends (rank 0 marked it failed): rows still running show as lost whatever their heartbeat.
        must(runs.set_status(run, "failed", std::string("rank 1 is gone")));
        st = must(ranks.status(run, 5100.0));
        QCOMPARE(st[0].shown_state, std::string("lost"));
        QCOMPARE(st[2].shown_state, std::string("failed"));
        // finish keeps an earlier error when none is given; clear drops the run's rows.
        must(ranks.finish(run, 2, "lost", std::nullopt));
        QCOMPARE(*must(ranks.list(run))[2].error, std::string("out of memory at step 4"));
        QCOMPARE(must(ranks.list(run))[2].state, std::string("lost"));
        QCOMPARE(must(ranks.list(run))[2].step, int64_t(3));
        QVERIFY(!ranks.status(run + 100, 0).ok());
        must(ranks.clear(run));
        QVERIFY(must(ranks.list(run)).empty());
    }
};

QTEST_GUILESS_MAIN(TestStoreQueries)
#include "test_store_queries.moc"
