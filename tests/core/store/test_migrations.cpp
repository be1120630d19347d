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
        for (const auto& m : migrations()) QCOMPARE(m.version, ++v);
        QCOMPARE(current_schema_version(), v);
        QVERIFY(v >= 2);
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
