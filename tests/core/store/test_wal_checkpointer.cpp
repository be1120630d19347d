// Tests for core/store/wal_checkpointer: checkpoints run on the second connection after commits, the writer's
// auto-checkpoint is off while it runs and restored after, the WAL starts again from its beginning once it
// passes the cap (so a long bulk write does not leave a WAL as large as everything it wrote), and the rows
// written are all there.
#include <QtTest>

#include <filesystem>

#include "core/store/database.h"
#include "core/store/project.h"
#include "core/store/wal_checkpointer.h"

using namespace matrix;
using namespace matrix::store;

namespace {

int64_t file_size(const std::string& path) {
    std::error_code ec;
    auto n = std::filesystem::file_size(path, ec);
    return ec ? 0 : int64_t(n);
}

// One batch: 100 rows of 2 KB in one transaction (~60 pages). The caller checks the status (a QVERIFY in here
// would return from this function only).
Status write_batch(Database& db, int batch) {
    Transaction tx(db);
    MATRIX_CHECK(tx.begin_status());
    for (int i = 0; i < 100; ++i) {
        MATRIX_TRY(auto st, db.prepare("INSERT INTO settings(key, value) VALUES(?, ?)"));
        st.bind_all("k" + std::to_string(batch) + "_" + std::to_string(i), std::string(2000, char('a' + batch % 26)));
        MATRIX_CHECK(st.run());
    }
    return tx.commit();
}

// The message of a failed status, for QVERIFY2.
std::string why(const Status& s) { return s.ok() ? std::string() : s.error().to_string(); }

}  // namespace

class TestWalCheckpointer : public QObject {
    Q_OBJECT
private slots:
    void memory_database_has_none() {
        auto p = Project::open(":memory:");
        QVERIFY(p.ok());
        QVERIFY(WalCheckpointer::start(p->db()) == nullptr);
    }

    void checkpoints_in_background_and_restarts_the_wal() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/p.matrix").toStdString();
        auto p = Project::open(path);
        QVERIFY(p.ok());
        Database& db = p->db();
        QCOMPARE(db.query_int64("PRAGMA wal_autocheckpoint").value(), int64_t(1000));
        int64_t largest_wal = 0;
        {
            // Cap of 64 KiB: every batch (~230 KB) passes it, so every batch waits for the previous checkpoint.
            auto checkpointer = WalCheckpointer::start(db, 64 << 10);
            QVERIFY(checkpointer != nullptr);
            QCOMPARE(db.query_int64("PRAGMA wal_autocheckpoint").value(), int64_t(0));
            for (int b = 0; b < 30; ++b) {
                checkpointer->before_transaction();
                const Status written = write_batch(db, b);
                QVERIFY2(written.ok(), why(written).c_str());
                checkpointer->committed();
                largest_wal = std::max(largest_wal, file_size(path + "-wal"));
            }
            checkpointer->before_transaction();  // waits for the last batch's checkpoint
            QVERIFY(checkpointer->checkpoints() >= 1);
            QVERIFY(checkpointer->wal_frames() > 0);
            QCOMPARE(checkpointer->backfilled_frames(), checkpointer->wal_frames());  // no reader held it back
        }
        QCOMPARE(db.query_int64("PRAGMA wal_autocheckpoint").value(), int64_t(1000));
        // 30 batches of ~230 KB (7 MB) went through a WAL that never held more than a few of them.
        QVERIFY2(largest_wal > 0 && largest_wal < 2 * 1024 * 1024, std::to_string(largest_wal).c_str());
        QCOMPARE(db.query_int64("SELECT count(*) FROM settings WHERE key LIKE 'k%'").value(), int64_t(3000));
        QCOMPARE(*db.query_text("PRAGMA integrity_check").value(), std::string("ok"));
        // A fresh connection sees everything too (the database file plus what is left in the WAL).
        auto other = Database::open(path);
        QVERIFY(other.ok());
        QCOMPARE(other->query_int64("SELECT count(*) FROM settings WHERE key LIKE 'k%'").value(), int64_t(3000));
    }

    void without_cap_the_writer_never_waits_and_data_is_complete() {
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/q.matrix").toStdString();
        auto p = Project::open(path);
        QVERIFY(p.ok());
        Database& db = p->db();
        {
            auto checkpointer = WalCheckpointer::start(db, int64_t(1) << 40);
            QVERIFY(checkpointer != nullptr);
            for (int b = 0; b < 10; ++b) {
                checkpointer->before_transaction();
                const Status written = write_batch(db, b);
                QVERIFY2(written.ok(), why(written).c_str());
                checkpointer->committed();
            }
        }  // the destructor runs the last checkpoint
        auto other = Database::open(path);
        QVERIFY(other.ok());
        QCOMPARE(other->query_int64("SELECT count(*) FROM settings WHERE key LIKE 'k%'").value(), int64_t(1000));
    }
};

QTEST_GUILESS_MAIN(TestWalCheckpointer)
#include "test_wal_checkpointer.moc"
