// Tests for core/store: connection/transaction RAII, datasets, tasks with paged filtered queries, full-text
// search, trajectories, pairs with edit history and undo/redo, runs and metrics, stats. In-memory databases.
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include "core/conversation/steps.h"
#include "core/jobs/job_repo.h"
#include "core/store/database.h"
#include "core/store/dataset_repo.h"
#include "core/store/fts.h"
#include "core/store/media_repo.h"
#include "core/store/pair_repo.h"
#include "core/store/project.h"
#include "core/store/provenance.h"
#include "core/store/run_repo.h"
#include "core/store/stats.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"

using namespace matrix;
using namespace matrix::store;

namespace {

template <class T>
T must(Result<T> r) {
    if (!r.ok()) qFatal("unexpected error: %s", r.error().to_string().c_str());
    return std::move(r).value();
}
void must(Status s) {
    if (!s.ok()) qFatal("unexpected error: %s", s.error().to_string().c_str());
}

Step make_step(int idx, const std::string& thought, const std::string& code, const std::string& obs,
               std::vector<std::string> tools, bool error = false) {
    Step s;
    s.idx = idx;
    s.thought = thought;
    s.code = code;
    s.action = "Thought: " + thought + "\n\nCode:\n```py\n" + code + "\n```";
    s.observation = obs;
    s.is_error = error;
    int pos = 0;
    for (auto& t : tools) {
        ToolCallRow c;
        c.position = pos++;
        c.name = t;
        c.arguments = R"({"image_path":"a.jpg"})";
        c.known = true;
        s.tool_calls.push_back(c);
        if (t == "final_answer") s.is_final = true;
    }
    return s;
}

// A small project: dataset "d1" with 6 tasks of varied steps/tools/verdicts, dataset "d2" with 1 task.
struct Fixture {
    Project project = must(Project::open(":memory:"));
    int64_t d1 = 0, d2 = 0;
    std::vector<int64_t> tasks;

    Fixture() {
        Database& db = project.db();
        DatasetRepo ds(db);
        d1 = must(ds.create({0, "d1", "mtrace"}));
        d2 = must(ds.create({0, "d2", "demo"}));
        TaskRepo tr(db);
        TrajectoryRepo trj(db);
        MediaRepo media(db);
        struct Spec {
            const char* query;
            const char* verdict;
            std::vector<std::vector<std::string>> step_tools;
            bool missing_image;
        };
        std::vector<Spec> specs = {
            {"How many calories in this sushi dish", "yes", {{"visualizer"}, {}, {"final_answer"}}, true},
            {"Calculate the monthly utility cost", "yes", {{}, {"final_answer"}}, false},
            {"Read the receipt total with OCR", "no", {{"ocr"}, {"final_answer"}}, false},
            {"Locate the cars in the picture", "unknown", {{"objectlocation"}, {"ocr"}, {"visualizer"}, {"final_answer"}}, true},
            {"Search the weather in Seattle", "yes", {{"ask_search_agent"}, {"final_answer"}}, false},
            {"Translate the hospital sign", "no", {{"ocr"}, {"ask_search_agent"}, {"final_answer"}}, false},
        };
        Transaction tx(db);
        int ord = 0;
        for (auto& sp : specs) {
            Task t;
            t.dataset_id = d1;
            t.record_key = "k" + std::to_string(ord);
            t.external_id = "id" + std::to_string(ord);
            t.ordinal = ord++;
            t.query = sp.query;
            t.verdict = sp.verdict;
            int64_t id = must(tr.insert(t));
            tasks.push_back(id);
            Media m;
            m.path = "img/" + std::to_string(id) + ".jpg";
            if (!sp.missing_image) m.resolved_path = "/abs/img/" + std::to_string(id) + ".jpg";
            int64_t mid = must(media.upsert(m));
            must(media.link(id, "image", 0, mid, std::string("<image_00>")));
            Trajectory traj;
            traj.task_id = id;
            traj.source = "mtrace";
            int idx = 0;
            for (auto& tools : sp.step_tools) {
                traj.steps.push_back(make_step(idx, std::string("thinking about ") + sp.query,
                                               tools.empty() ? "print(1+1)" : tools[0] + "(\"a.jpg\")",
                                               "observation number " + std::to_string(idx + 1), tools));
                ++idx;
            }
            must(trj.insert(traj));
            must(tr.refresh_counters(id));
        }
        Task other;
        other.dataset_id = d2;
        other.record_key = "x";
        other.ordinal = 0;
        other.query = "A demo task about a receipt";
        tasks.push_back(must(tr.insert(other)));
        must(tx.commit());
    }
};

}  // namespace

class TestStore : public QObject {
    Q_OBJECT
private slots:
    void pragmas_are_set() {
        QTemporaryDir dir;
        auto db = must(Database::open((dir.path() + "/p.db").toStdString()));
        QCOMPARE(must(db.query_text("PRAGMA journal_mode")).value_or(""), std::string("wal"));
        QCOMPARE(must(db.query_int64("PRAGMA foreign_keys")), int64_t(1));
        QCOMPARE(must(db.query_int64("PRAGMA synchronous")), int64_t(1));  // NORMAL
        QCOMPARE(must(db.query_int64("PRAGMA busy_timeout")), int64_t(5000));
    }

    void transaction_rolls_back_unless_committed() {
        auto db = must(Database::open(":memory:"));
        must(db.exec("CREATE TABLE t(x INTEGER)"));
        {
            Transaction tx(db);
            QVERIFY(tx.begin_status().ok());
            must(db.exec("INSERT INTO t VALUES(1)"));
        }
        QCOMPARE(must(db.query_int64("SELECT count(*) FROM t")), int64_t(0));
        {
            Transaction tx(db);
            must(db.exec("INSERT INTO t VALUES(1)"));
            {
                Transaction inner(db);  // savepoint
                must(db.exec("INSERT INTO t VALUES(2)"));
            }  // inner rolled back
            QVERIFY(tx.commit().ok());
        }
        QCOMPARE(must(db.query_int64("SELECT group_concat(x) FROM t")), int64_t(1));
        QVERIFY(!db.in_transaction());
    }

    void errors_carry_sql_context() {
        auto db = must(Database::open(":memory:"));
        auto r = db.prepare("SELECT * FROM no_such_table");
        QVERIFY(!r.ok());
        QVERIFY(r.error().message.find("no such table") != std::string::npos);
        QVERIFY(r.error().context.find("SELECT * FROM no_such_table") != std::string::npos);
    }

    void project_settings_and_datasets() {
        auto p = must(Project::open(":memory:"));
        must(p.set_image_roots({"/a", "/b c"}));
        QCOMPARE(must(p.image_roots()), (std::vector<std::string>{"/a", "/b c"}));
        QVERIFY(!p.set_setting("x", "not json").ok());
        DatasetRepo ds(p.db());
        auto d = must(ds.find_or_create("m", "mtrace", "/tmp/m.json"));
        QCOMPARE(d.kind, std::string("mtrace"));
        QCOMPARE(must(ds.find_or_create("m", "mtrace")).id, d.id);
        QVERIFY(!ds.find_or_create("m", "prefx").ok());
        QVERIFY(!ds.create({0, "bad", "nope"}).ok());
        QCOMPARE(must(ds.list()).size(), size_t(1));
    }

    void page_filters_data() {
        QTest::addColumn<QString>("filter");
        QTest::addColumn<QList<int>>("expected");  // indices into Fixture::tasks, in page order
        QTest::newRow("all d1") << "ds=1" << QList<int>{0, 1, 2, 3, 4, 5};
        QTest::newRow("tool ocr") << "tool=ocr" << QList<int>{2, 3, 5};
        QTest::newRow("verdict no") << "verdict=no" << QList<int>{2, 5};
        QTest::newRow("steps 3..4") << "min=3;max=4" << QList<int>{0, 3, 5};
        QTest::newRow("missing media") << "missing=1" << QList<int>{0, 3};
        QTest::newRow("no missing media d1") << "ds=1;missing=0" << QList<int>{1, 2, 4, 5};
        QTest::newRow("ocr and verdict no and 2 steps") << "tool=ocr;verdict=no;max=2" << QList<int>{2};
        QTest::newRow("text receipt") << "text=receipt" << QList<int>{2, 6};
        QTest::newRow("text in observation") << "text=observation number 4" << QList<int>{3};
        QTest::newRow("text prefix") << "text=calor*" << QList<int>{0};
        QTest::newRow("text code") << "text=objectlocation" << QList<int>{3};
        QTest::newRow("text no word") << "text=--" << QList<int>{};
        QTest::newRow("sort steps desc") << "ds=1;sort=steps;desc=1" << QList<int>{3, 5, 0, 4, 2, 1};
        QTest::newRow("paged offset 2 limit 2") << "ds=1;offset=2;limit=2" << QList<int>{2, 3};
        QTest::newRow("pair status pending") << "pair=pending" << QList<int>{1};
        QTest::newRow("tasks with pairs of d1") << "pairds=1" << QList<int>{1};
        QTest::newRow("tasks with pairs of d2") << "pairds=2" << QList<int>{};
        QTest::newRow("pairs of d1, pending") << "pairds=1;pair=pending" << QList<int>{1};
        QTest::newRow("pairs of d1, approved") << "pairds=1;pair=approved" << QList<int>{};
    }
    void page_filters() {
        QFETCH(QString, filter);
        QFETCH(QList<int>, expected);
        Fixture f;
        // One pending pair on task 1.
        PairRepo pairs(f.project.db());
        int64_t prefix = must(pairs.intern_prefix({0, "", std::nullopt, "[]", "[]"}));
        Pair p;
        p.dataset_id = f.d1;
        p.prefix_id = prefix;
        p.task_id = f.tasks[1];
        p.record_key = "p0";
        p.chosen_action = "a";
        p.rejected_action = "b";
        must(pairs.insert(p));

        TaskFilter tf;
        TaskPageRequest req;
        for (const QString& part : filter.split(';')) {
            auto kv = part.split('=');
            const QString k = kv[0], v = kv.value(1);
            if (k == "ds") tf.dataset_id = v == "1" ? f.d1 : f.d2;
            if (k == "tool") tf.tool = v.toStdString();
            if (k == "verdict") tf.verdict = v.toStdString();
            if (k == "min") tf.min_steps = v.toInt();
            if (k == "max") tf.max_steps = v.toInt();
            if (k == "missing") tf.has_missing_media = v == "1";
            if (k == "text") tf.text = v.toStdString();
            if (k == "pair") tf.pair_status = v.toStdString();
            if (k == "pairds") tf.pairs_dataset_id = v == "1" ? f.d1 : f.d2;
            if (k == "sort" && v == "steps") req.sort = TaskSort::Steps;
            if (k == "desc") req.descending = true;
            if (k == "offset") req.offset = v.toInt();
            if (k == "limit") req.limit = v.toInt();
        }
        req.sort = filter.contains("sort=") ? req.sort : TaskSort::Id;
        TaskRepo repo(f.project.db());
        auto page = must(repo.page(tf, req));
        QList<int> got;
        for (auto& s : page) got.push_back(int(std::find(f.tasks.begin(), f.tasks.end(), s.id) - f.tasks.begin()));
        QCOMPARE(got, expected);
        if (!filter.contains("offset")) QCOMPARE(must(repo.count(tf)), int64_t(expected.size()));
    }

    void summary_row_fields() {
        Fixture f;
        TaskRepo repo(f.project.db());
        TaskFilter tf;
        tf.dataset_id = f.d1;
        auto page = must(repo.page(tf, {}));
        QCOMPARE(page.size(), size_t(6));
        QCOMPARE(page[3].n_steps, 4);
        QCOMPARE(page[3].tools, std::string("final_answer objectlocation ocr visualizer"));
        QCOMPARE(page[3].n_images, 1);
        QCOMPARE(page[3].n_missing_media, 1);
        QCOMPARE(page[3].verdict, std::string("unknown"));
        QCOMPARE(page[3].external_id, std::string("id3"));
        auto t = must(repo.get(page[3].id));
        QVERIFY(t);
        QCOMPARE(t->query, std::string("Locate the cars in the picture"));
    }

    void fts_stays_consistent_after_dataset_removal() {
        Fixture f;
        DatasetRepo ds(f.project.db());
        must(ds.remove(f.d1));
        TaskRepo repo(f.project.db());
        TaskFilter tf;
        tf.text = "receipt";
        auto page = must(repo.page(tf, {}));
        QCOMPARE(page.size(), size_t(1));
        QCOMPARE(page[0].id, f.tasks[6]);
        QCOMPARE(must(f.project.db().query_int64("SELECT count(*) FROM steps")), int64_t(0));
        QCOMPARE(must(f.project.db().query_int64("SELECT count(*) FROM tool_calls")), int64_t(0));
        // The index agrees with a rebuild from the tables ("integrity-check" compares against content: for a
        // contentless table we check that every term query gives the same rows as after a rebuild).
        must(fts_rebuild(f.project.db()));
        QCOMPARE(must(repo.page(tf, {})).size(), size_t(1));
    }

    void fts_query_escaping_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("query");
        QTest::newRow("words") << "foo bar" << "\"foo\" \"bar\"";
        QTest::newRow("quote") << "a\"b" << "\"a\"\"b\"";
        QTest::newRow("prefix") << "cal*" << "\"cal\"*";
        QTest::newRow("syntax chars") << "NOT (x) OR y:" << "\"NOT\" \"(x)\" \"OR\" \"y:\"";
        QTest::newRow("only punctuation") << " -- + " << "";
    }
    void fts_query_escaping() {
        QFETCH(QString, text);
        QFETCH(QString, query);
        QCOMPARE(QString::fromStdString(fts_query_from_text(text.toStdString())), query);
    }

    void trajectory_round_trip() {
        Fixture f;
        TrajectoryRepo repo(f.project.db());
        auto t = must(repo.primary_for_task(f.tasks[3]));
        QVERIFY(t);
        QCOMPARE(t->steps.size(), size_t(4));
        QCOMPARE(t->steps[1].tool_calls.size(), size_t(1));
        QCOMPARE(t->steps[1].tool_calls[0].name, std::string("ocr"));
        QCOMPARE(nlohmann::json::parse(t->steps[1].tool_calls[0].arguments)["image_path"], nlohmann::json("a.jpg"));
        QVERIFY(t->steps[3].is_final);
        QCOMPARE(*conversation::observation_turn(t->steps[0]), std::string("[OUTPUT OF STEP 0] Observation:\nobservation number 1"));
        Step e;
        e.idx = 2;
        e.observation = "boom";
        e.is_error = true;
        QCOMPARE(*conversation::observation_turn(e), std::string("[OUTPUT OF STEP 2] Error: boom"));
        // A run's trajectory does not replace the primary one.
        RunRepo runs(f.project.db());
        Run rr;
        rr.kind = "eval";
        int64_t run = must(runs.create(rr));
        Trajectory rt;
        rt.task_id = f.tasks[3];
        rt.source = "run";
        rt.run_id = run;
        rt.steps.push_back(make_step(0, "x", "final_answer(1)", "", {"final_answer"}));
        int64_t rid = must(repo.insert(rt));
        QCOMPARE(must(repo.primary_for_task(f.tasks[3]))->id, t->id);
        auto list = must(repo.list_for_task(f.tasks[3]));
        QCOMPARE(list.size(), size_t(2));
        QCOMPARE(list[1].id, rid);
        QCOMPARE(must(TaskRepo(f.project.db()).get(f.tasks[3]))->n_steps, 4);
    }

    void system_prompt_dedup() {
        auto p = must(Project::open(":memory:"));
        int64_t a = must(intern_system_prompt(p.db(), std::string(13000, 'x')));
        int64_t b = must(intern_system_prompt(p.db(), std::string(13000, 'x')));
        int64_t c = must(intern_system_prompt(p.db(), "other"));
        QCOMPARE(a, b);
        QVERIFY(a != c);
        QCOMPARE(must(p.db().query_int64("SELECT count(*) FROM system_prompts")), int64_t(2));
    }

    void pair_edits_history_undo_redo() {
        Fixture f;
        PairRepo repo(f.project.db());
        int64_t prefix = must(repo.intern_prefix({0, "", std::nullopt, "[\"a.jpg\"]", "[]"}));
        QCOMPARE(must(repo.intern_prefix({0, "", std::nullopt, "[\"a.jpg\"]", "[]"})), prefix);
        Pair p;
        p.dataset_id = f.d1;
        p.prefix_id = prefix;
        p.record_key = "r";
        p.chosen_action = "good";
        p.chosen_observation = "ok";
        p.rejected_action = "bad";
        int64_t id = must(repo.insert(p));

        must(repo.set_status(id, "rejected", std::string("wrong tool")));
        must(repo.set_note(id, std::string("checked")));
        must(repo.swap(id));
        must(repo.edit_chosen(id, "better"));
        must(repo.set_note(id, std::string("checked")));  // no change: no edit
        QVERIFY(!repo.set_status(id, "maybe").ok());
        auto cur = must(repo.get(id));
        QCOMPARE(cur->status, std::string("rejected"));
        QCOMPARE(*cur->rejection_reason, std::string("wrong tool"));
        QCOMPARE(cur->chosen_action, std::string("better"));
        QVERIFY(!cur->chosen_observation);
        QCOMPARE(cur->rejected_action, std::string("good"));
        QCOMPARE(*cur->rejected_observation, std::string("ok"));

        auto hist = must(repo.history(id));
        QCOMPARE(hist.size(), size_t(2 + 1 + 4 + 1));
        QCOMPARE(hist[0].field, std::string("status"));
        QCOMPARE(*hist[0].old_value, std::string("pending"));
        QCOMPARE(hist[0].group_id, hist[1].group_id);
        QVERIFY(hist[3].group_id == hist[6].group_id && hist[6].group_id != hist[7].group_id);
        QVERIFY(!hist[0].at.empty());

        QCOMPARE(*must(repo.undo_last(f.d1)), id);  // undo edit_chosen
        QCOMPARE(must(repo.get(id))->chosen_action, std::string("bad"));
        QCOMPARE(*must(repo.undo_last()), id);  // undo swap
        cur = must(repo.get(id));
        QCOMPARE(cur->chosen_action, std::string("good"));
        QCOMPARE(*cur->chosen_observation, std::string("ok"));
        QCOMPARE(*must(repo.redo_last()), id);  // redo swap
        QCOMPARE(must(repo.get(id))->chosen_action, std::string("bad"));
        must(repo.set_status(id, "approved"));  // a new edit drops the redo chain
        QVERIFY(!must(repo.redo_last()));
        QVERIFY(!must(repo.undo_last(f.d2)));
        QCOMPARE(must(repo.count({f.d1, {}, {}, std::string("approved"), {}})), int64_t(1));
        QCOMPARE(must(repo.list({f.d1})).size(), size_t(1));
    }

    void runs_metrics_checkpoints_results() {
        Fixture f;
        RunRepo runs(f.project.db());
        Run r;
        r.kind = "dpo";
        r.name = "dpo-1";
        r.dataset_id = f.d1;
        r.config = R"({"beta":0.1})";
        int64_t id = must(runs.create(r));
        must(runs.set_status(id, "running"));
        must(runs.append_metrics(id, 1, {{"loss", 0.69}, {"margin", 0.0}}));
        must(runs.append_metrics(id, 2, {{"loss", 0.5}, {"margin", 0.3}}));
        must(runs.append_metric(id, "loss", 2, 0.45));  // replaces
        must(runs.append_log(id, "step 1\n"));
        must(runs.append_log(id, "step 2\n"));
        QCOMPARE(must(runs.metric_names(id)), (std::vector<std::string>{"loss", "margin"}));
        auto loss = must(runs.metric_series(id, "loss"));
        QCOMPARE(loss.size(), size_t(2));
        QCOMPARE(loss[1].value, 0.45);
        QCOMPARE(must(runs.metric_series(id, "loss", 1)).size(), size_t(1));
        must(runs.add_checkpoint({0, id, 10, "/ckpt/10", std::string("ab")}));
        must(runs.add_checkpoint({0, id, 20, "/ckpt/20"}));
        QCOMPARE(must(runs.latest_checkpoint(id))->path, std::string("/ckpt/20"));
        must(runs.add_samples(id, {{"pair", 1, "h1"}, {"pair", 2, "h2"}}));
        QCOMPARE(must(runs.samples(id)).size(), size_t(2));
        RunResult res;
        res.run_id = id;
        res.task_key = "t1";
        res.answer = "42";
        int64_t rid = must(runs.put_result(res));
        res.answer = "43";
        QCOMPARE(must(runs.put_result(res)), rid);
        QCOMPARE(*must(runs.results(id))[0].answer, std::string("43"));
        must(runs.set_status(id, "finished"));
        auto got = must(runs.get(id));
        QCOMPARE(got->status, std::string("finished"));
        QVERIFY(got->started_at && got->finished_at);
        QCOMPARE(got->log, std::string("step 1\nstep 2\n"));
        QVERIFY(!runs.set_status(id, "bogus").ok());
        ProvenanceRepo prov(f.project.db());
        int64_t l1 = must(prov.link("run", id, "dataset", f.d1, "trained_on"));
        QCOMPARE(must(prov.link("run", id, "dataset", f.d1, "trained_on")), l1);
        must(prov.link("run", id, "checkpoint", 1, "produced"));
        QCOMPARE(must(prov.from("run", id)).size(), size_t(2));
        QCOMPARE(must(prov.to("dataset", f.d1)).size(), size_t(1));
    }

    // A process running as a job (MATRIX_JOB_ID / MATRIX_JOB_DB, set by the job supervisor) links the run it creates
    // to the job's row in the same transaction; not in another project, not over a run the job already names, not
    // outside a job.
    void run_created_in_a_job_links_to_it() {
        QTemporaryDir dir;
        const std::string db = dir.filePath("jobs.matrix").toStdString();
        Project p = must(Project::open(db));
        jobs::JobRepo jobs(p.db());
        jobs::Job j;
        j.kind = "eval";
        j.argv = {"eval", "run", "--db", db};
        j.log_path = dir.filePath("job.log").toStdString();
        const int64_t job = must(jobs.create(j));
        const int64_t other = must(jobs.create(j));
        RunRepo runs(p.db());
        Run r;
        r.kind = "eval";
        r.name = "plain";
        const int64_t outside = must(runs.create(r));  // no job in the environment
        QVERIFY(!must(jobs.get(job))->run_id);

        qputenv("MATRIX_JOB_ID", QByteArray::number(qint64(job)));
        qputenv("MATRIX_JOB_DB", dir.filePath("elsewhere.matrix").toUtf8());
        must(runs.create(r));  // another project's job
        QVERIFY(!must(jobs.get(job))->run_id);
        // The same file by another spelling is the same project.
        qputenv("MATRIX_JOB_DB", (dir.path() + "/./jobs.matrix").toUtf8());
        const int64_t first = must(runs.create(r));
        QCOMPARE(must(jobs.get(job))->run_id.value_or(0), first);
        QVERIFY(first != outside);
        must(runs.create(r));  // a second run of the same job does not take the link over
        QCOMPARE(must(jobs.get(job))->run_id.value_or(0), first);
        QVERIFY(!must(jobs.get(other))->run_id);
        qputenv("MATRIX_JOB_ID", "12x");  // not a number: no link, no error
        QVERIFY(runs.create(r).ok());
        QVERIFY(!must(jobs.get(other))->run_id);
        qunsetenv("MATRIX_JOB_ID");
        qunsetenv("MATRIX_JOB_DB");
    }

    void stats_counts() {
        Fixture f;
        auto s = must(compute_stats(f.project.db()));
        QCOMPARE(s.datasets, int64_t(2));
        QCOMPARE(s.tasks, int64_t(7));
        QCOMPARE(s.trajectories, int64_t(6));
        QCOMPARE(s.steps, int64_t(3 + 2 + 2 + 4 + 2 + 3));
        QCOMPARE(s.media, int64_t(6));
        QCOMPARE(s.media_missing, int64_t(2));
        QCOMPARE(s.tool_histogram["final_answer"], int64_t(6));
        QCOMPARE(s.tool_histogram["ocr"], int64_t(3));
        QCOMPARE(s.verdict_histogram["yes"], int64_t(3));
        auto j = stats_to_json(s);
        QCOMPARE(j["media"]["missing"].get<int>(), 2);
        QCOMPARE(j["pairs"]["pending"].get<int>(), 0);
        auto s2 = must(compute_stats(f.project.db(), f.d2));
        QCOMPARE(s2.tasks, int64_t(1));
        QCOMPARE(s2.steps, int64_t(0));
    }

    void foreign_keys_enforced() {
        auto p = must(Project::open(":memory:"));
        Task t;
        t.dataset_id = 999;
        t.record_key = "x";
        QVERIFY(!TaskRepo(p.db()).insert(t).ok());
        QCOMPARE(must(p.db().query_int64("SELECT count(*) FROM task_fts")), int64_t(0));
    }
};

QTEST_GUILESS_MAIN(TestStore)
#include "test_store.moc"
