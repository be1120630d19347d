// Tests for core/store/migrations: a project made by an older schema (version 1, built here by hand) opens,
// is migrated to the current version and keeps its data; a newer-than-build project is refused.
#include <QtTest>

#include "core/store/database.h"
#include "core/store/migrations.h"
#include "core/store/project.h"
#include "core/store/task_repo.h"

using namespace matrix;
using namespace matrix::store;

class TestMigrations : public QObject {
    Q_OBJECT
private slots:
    void versions_are_contiguous() {
        int v = 0;
        // Increasing (contiguous once every branch's migrations are merged: 9 and 10 come from other branches).
        for (const auto& m : migrations()) {
            QVERIFY(m.version > v);
            v = m.version;
        }
        QCOMPARE(current_schema_version(), v);
        QVERIFY(v >= 7);
    }

    void v4_project_accepts_agent_runs_after_migration_5() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/v4.matrix").toStdString();
        {
            auto db = Database::open(path);
            QVERIFY(db.ok());
            QVERIFY(migrate(*db, 4).ok());
            QVERIFY(db->exec("INSERT INTO runs(kind, name) VALUES('sft', 'old run')").ok());
            QVERIFY(!db->exec("INSERT INTO runs(kind, name) VALUES('agent', 'too early')").ok());
            QVERIFY(migrate(*db, 5).ok());
            QCOMPARE(db->user_version(), 5);
            QVERIFY(db->exec("INSERT INTO runs(kind, name) VALUES('agent', 'now')").ok());
            QVERIFY(!db->exec("INSERT INTO runs(kind, name) VALUES('bogus', 'never')").ok());
            QVERIFY(db->exec("INSERT INTO datasets(name, kind) VALUES('typed', 'adhoc')").ok());
            QVERIFY(!db->exec("INSERT INTO datasets(name, kind) VALUES('odd', 'bogus')").ok());
            QCOMPARE(*db->query_text("SELECT group_concat(kind || ':' || name, ',') FROM runs ORDER BY id").value(),
                     std::string("sft:old run,agent:now"));
            QCOMPARE(*db->query_text("PRAGMA integrity_check").value(), std::string("ok"));
        }
    }

    void fresh_project_is_current() {
        auto p = Project::open(":memory:");
        QVERIFY(p.ok());
        QCOMPARE(p->db().user_version(), current_schema_version());
    }

    void v1_project_is_migrated_and_keeps_data() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/old.matrix").toStdString();
        {
            // A version-1 project as an older build wrote it: schema 1 only, data, user_version = 1.
            auto db = Database::open(path);
            QVERIFY(db.ok());
            QVERIFY(migrate(*db, 1).ok());
            QCOMPARE(db->user_version(), 1);
            QVERIFY(db->exec("INSERT INTO datasets(name, kind) VALUES('old', 'mtrace');"
                             "INSERT INTO tasks(dataset_id, record_key, ordinal, query) VALUES(1, 'a', 0, "
                             "'How many calories in the sushi');"
                             "INSERT INTO trajectories(task_id, source, n_steps) VALUES(1, 'mtrace', 1);"
                             "INSERT INTO steps(trajectory_id, idx, thought, code, observation) VALUES(1, 0, "
                             "'use the visualizer', 'visualizer(question=\"q\")', 'Nigiri and sashimi');")
                        .ok());
            QVERIFY(!db->prepare("SELECT * FROM task_fts").ok());  // not in version 1
        }
        auto p = Project::open(path);
        QVERIFY2(p.ok(), p.ok() ? "" : p.error().to_string().c_str());
        QCOMPARE(p->db().user_version(), current_schema_version());
        TaskRepo tasks(p->db());
        auto t = tasks.get(1);
        QVERIFY(t.ok() && t.value());
        QCOMPARE(t.value()->query, std::string("How many calories in the sushi"));
        // Migration 2 back-filled the full-text index from the existing rows.
        for (const char* word : {"calories", "visualizer", "sashimi"}) {
            TaskFilter f;
            f.text = word;
            auto n = tasks.count(f);
            QVERIFY(n.ok());
            QCOMPARE(n.value(), int64_t(1));
        }
        // Opening again is a no-op.
        auto again = Project::open(path);
        QVERIFY(again.ok());
    }

    void v2_project_gets_sort_indexes() {
        // A version-2 project (full-text index, no sort indexes) opens at version 3 with its rows, and pages
        // sorted by query / steps come from the new indexes with the same rows as before.
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/v2.matrix").toStdString();
        {
            auto db = Database::open(path);
            QVERIFY(db.ok());
            QVERIFY(migrate(*db, 2).ok());
            QCOMPARE(db->user_version(), 2);
            QVERIFY(db->exec("INSERT INTO datasets(name, kind) VALUES('old', 'mtrace');"
                             "INSERT INTO tasks(dataset_id, record_key, ordinal, query, n_steps) VALUES"
                             "(1, 'a', 0, 'banana split', 3), (1, 'b', 1, 'Apple pie', 1), (1, 'c', 2, 'cherry', 3);")
                        .ok());
            QCOMPARE(db->query_int64("SELECT count(*) FROM sqlite_master WHERE name LIKE 'tasks_sort_%'").value(),
                     int64_t(0));
        }
        auto p = Project::open(path);
        QVERIFY2(p.ok(), p.ok() ? "" : p.error().to_string().c_str());
        QCOMPARE(p->db().user_version(), current_schema_version());
        QCOMPARE(p->db().query_int64("SELECT count(*) FROM tasks").value(), int64_t(3));
        for (const char* index : {"tasks_sort_query", "tasks_sort_steps", "tasks_sort_verdict", "tasks_sort_images",
                                  "tasks_sort_missing"}) {
            QCOMPARE(p->db().query_int64(std::string("SELECT count(*) FROM sqlite_master WHERE type='index' AND name='") +
                                         index + "'")
                         .value(),
                     int64_t(1));
        }
        TaskRepo tasks(p->db());
        TaskPageRequest by_query;
        by_query.sort = TaskSort::Query;
        std::vector<std::string> got;
        const auto query_page = tasks.page({}, by_query).value();
        for (auto& s : query_page) got.push_back(s.query);
        QCOMPARE(got, (std::vector<std::string>{"Apple pie", "banana split", "cherry"}));
        TaskPageRequest by_steps;
        by_steps.sort = TaskSort::Steps;
        by_steps.descending = true;
        std::vector<int64_t> ids;
        const auto steps_page = tasks.page({}, by_steps).value();
        for (auto& s : steps_page) ids.push_back(s.id);
        QCOMPARE(ids, (std::vector<int64_t>{3, 1, 2}));
    }

    void v3_project_checks_lose_in_lists() {
        // Migration 4 rewrites CHECK(col IN (...)) as OR chains: same accepted values, rows kept, and inserts no
        // longer build an ephemeral table per row (no OpenEphemeral opcode in their programs).
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/v3.matrix").toStdString();
        {
            auto db = Database::open(path);
            QVERIFY(db.ok());
            QVERIFY(migrate(*db, 3).ok());
            QVERIFY(db->exec("INSERT INTO datasets(name, kind) VALUES('old', 'mtrace');"
                             "INSERT INTO tasks(dataset_id, record_key, ordinal, query, verdict) VALUES(1, 'a', 0, 'q', 'yes');"
                             "INSERT INTO media(path) VALUES('a.png');"
                             "INSERT INTO task_media(task_id, role, position, media_id) VALUES(1, 'image', 0, 1);"
                             "INSERT INTO system_prompts(sha256, text) VALUES('x', 'sys');"
                             "INSERT INTO pair_prefixes(sha256) VALUES('p');"
                             "INSERT INTO pairs(dataset_id, prefix_id, record_key, ordinal, chosen_action, rejected_action, "
                             "status, origin) VALUES(1, 1, 'k', 0, 'c', 'r', 'approved', 'hand-made');")
                        .ok());
            QVERIFY(db->query_int64("SELECT count(*) FROM sqlite_schema WHERE sql LIKE '%CHECK(% IN (%'").value() >= 6);
        }
        auto p = Project::open(path);
        QVERIFY2(p.ok(), p.ok() ? "" : p.error().to_string().c_str());
        Database& db = p->db();
        QCOMPARE(db.user_version(), current_schema_version());
        QCOMPARE(db.query_int64("SELECT count(*) FROM sqlite_schema WHERE sql LIKE '%CHECK(% IN (%'").value(), int64_t(0));
        QVERIFY(db.query_text("SELECT sql FROM sqlite_schema WHERE name='tasks'").value()->find(
                    "CHECK(verdict='yes' OR verdict='no' OR verdict='unknown')") != std::string::npos);
        QVERIFY(db.query_text("SELECT sql FROM sqlite_schema WHERE name='runs'").value()->find(
                    "CHECK(status='created' OR status='running' OR status='paused' OR status='finished' OR "
                    "status='failed' OR status='cancelled')") != std::string::npos);
        QCOMPARE(*db.query_text("PRAGMA integrity_check").value(), std::string("ok"));
        QCOMPARE(*db.query_text("SELECT verdict || role || status || origin FROM tasks, task_media, pairs").value(),
                 std::string("yesimageapprovedhand-made"));
        // The same values are refused and accepted as before.
        auto bad = db.exec("INSERT INTO tasks(dataset_id, record_key, ordinal, verdict) VALUES(1, 'b', 1, 'maybe')");
        QVERIFY(!bad.ok());
        QVERIFY2(bad.error().message.find("CHECK constraint failed") != std::string::npos, bad.error().message.c_str());
        QVERIFY(!db.exec("INSERT INTO task_media(task_id, role, position, media_id) VALUES(1, 'video', 1, 1)").ok());
        QVERIFY(!db.exec("UPDATE pairs SET status='maybe'").ok());
        QVERIFY(!db.exec("INSERT INTO datasets(name, kind) VALUES('x', 'csv')").ok());
        QVERIFY(db.exec("INSERT INTO tasks(dataset_id, record_key, ordinal, verdict) VALUES(1, 'b', 1, 'unknown')").ok());
        QVERIFY(db.exec("INSERT INTO task_media(task_id, role, position, media_id) VALUES(2, 'tool_output', 0, 1)").ok());
        for (const char* insert :
             {"INSERT INTO tasks(dataset_id, record_key, ordinal, verdict) VALUES(1, 'c', 2, 'no')",
              "INSERT INTO task_media(task_id, role, position, media_id) VALUES(2, 'attachment', 1, 1)",
              "INSERT INTO pairs(dataset_id, prefix_id, record_key, ordinal, chosen_action, rejected_action) "
              "VALUES(1, 1, 'k2', 1, 'c', 'r')"}) {
            auto program = db.prepare(std::string("EXPLAIN ") + insert);
            QVERIFY2(program.ok(), program.ok() ? "" : program.error().to_string().c_str());
            int opcodes = 0, ephemeral = 0;
            while (program->step().value()) {
                ++opcodes;
                ephemeral += program->column_text(1) == "OpenEphemeral";
            }
            QVERIFY(opcodes > 10);
            QCOMPARE(ephemeral, 0);
        }
        // A fresh project ends in the same schema text.
        auto fresh = Project::open((dir.path() + "/fresh.matrix").toStdString());
        QVERIFY(fresh.ok());
        QCOMPARE(*fresh->db().query_text("SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_schema ORDER BY name)").value(),
                 *db.query_text("SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_schema ORDER BY name)").value());
    }

    void newer_project_is_refused() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/new.matrix").toStdString();
        {
            auto db = Database::open(path);
            QVERIFY(db->exec("PRAGMA user_version = 999").ok());
        }
        auto p = Project::open(path);
        QVERIFY(!p.ok());
        QVERIFY(p.error().message.find("newer than this build") != std::string::npos);
    }

    void failed_migration_leaves_previous_version() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/clash.matrix").toStdString();
        {
            auto db = Database::open(path);
            QVERIFY(migrate(*db, 1).ok());
            // A table in the way of migration 2 makes it fail.
            QVERIFY(db->exec("CREATE TABLE task_fts(x)").ok());
        }
        auto p = Project::open(path);
        QVERIFY(!p.ok());
        QVERIFY(p.error().context.find("migration 2") != std::string::npos);
        auto db = Database::open(path);
        QCOMPARE(db->user_version(), 1);
    }
};

QTEST_GUILESS_MAIN(TestMigrations)
#include "test_migrations.moc"
