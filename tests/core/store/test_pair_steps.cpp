// Pref-X histories stored as steps (migration 7; core/store/pair_repo.h, core/conversation/prefx_history.h):
// the sample and the demo's Pref-X file imported into a schema-4 project export the same bytes before and
// after migrating to the current schema, and the same bytes and the same rows as a fresh import; the steps give
// the same curation turns and DPO prompt as the history text; a history the steps cannot reproduce stays text.
#include <QtTest>

#include <fstream>
#include <sstream>

#include "core/conversation/chat_messages.h"
#include "core/conversation/prefx_history.h"
#include "core/formats/exporters.h"
#include "core/formats/prefx_import.h"
#include "core/store/database.h"
#include "core/store/migrations.h"
#include "core/store/pair_repo.h"
#include "core/store/project.h"

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
std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
std::string export_all(store::Database& db, const std::string& dataset, const std::string& out) {
    formats::ExportOptions all;
    all.status = "all";
    all.write_dataset_info = false;
    (void)must(formats::export_prefx(db, dataset, out, all));
    return read_all(out);
}
// The stored prefixes and their steps as text, for comparing two projects row by row.
std::string prefix_rows(store::Database& db) {
    auto a = must(db.query_text(
        "SELECT group_concat(r, char(10)) FROM (SELECT id || '|' || sha256 || '|' || ifnull(system_prompt_id, '-') || "
        "'|' || images || '|' || history || '|' || ifnull(task_turn, '(null)') AS r FROM pair_prefixes ORDER BY id)"));
    auto b = must(db.query_text(
        "SELECT group_concat(r, char(10)) FROM (SELECT prefix_id || '|' || idx || '|' || ifnull(action, '(null)') || "
        "'|' || thought || '|' || code || '|' || ifnull(observation, '(null)') || '|' || "
        "ifnull(observation_raw, '(null)') || '|' || is_error || '|' || is_final AS r FROM pair_prefix_steps "
        "ORDER BY prefix_id, idx)"));
    return a.value_or("") + "\n--\n" + b.value_or("");
}
int64_t count(store::Database& db, const std::string& sql) { return must(db.query_int64(sql)); }
}  // namespace

class TestPairSteps : public QObject {
    Q_OBJECT
private slots:
    void migration_keeps_export_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("dataset");
        QTest::addColumn<int>("prefixes");
        QTest::addColumn<int>("steps");
        QTest::newRow("sample") << QStringLiteral(MATRIX_SOURCE_DIR "/tests/data/prefx/prefx-sample.json")
                                << "prefx-sample" << 4 << 1;
        QTest::newRow("demo") << QStringLiteral(MATRIX_SOURCE_DIR "/resources/demo/prefx_demo.json") << "prefx_demo"
                              << 23 << 20;
    }
    void migration_keeps_export() {
        QFETCH(QString, file);
        QFETCH(QString, dataset);
        QFETCH(int, prefixes);
        QFETCH(int, steps);
        QTemporaryDir dir;
        const std::string old_path = (dir.path() + "/old.matrix").toStdString();
        const std::string fresh_path = (dir.path() + "/fresh.matrix").toStdString();
        const std::string ds = dataset.toStdString();

        // A project at schema 4 (before histories were steps), imported and exported by this build.
        auto db = must(store::Database::open(old_path));
        must(store::migrate(db, 4));
        QCOMPARE(db.user_version(), 4);
        (void)must(formats::import_prefx(db, file.toStdString(), {}));
        QCOMPARE(count(db, "SELECT count(*) FROM sqlite_schema WHERE name='pair_prefix_steps'"), int64_t(0));
        const std::string before = export_all(db, ds, (dir.path() + "/before.json").toStdString());
        QVERIFY(!before.empty());

        must(store::migrate(db));
        QCOMPARE(db.user_version(), store::current_schema_version());
        QCOMPARE(count(db, "SELECT count(*) FROM pair_prefixes"), int64_t(prefixes));
        QCOMPARE(count(db, "SELECT count(*) FROM pair_prefixes WHERE task_turn IS NOT NULL AND history=''"),
                 int64_t(prefixes));  // every history of these files is stored as steps
        QCOMPARE(count(db, "SELECT count(*) FROM pair_prefix_steps"), int64_t(steps));
        const std::string after = export_all(db, ds, (dir.path() + "/after.json").toStdString());
        QVERIFY(after == before);

        // A fresh project (current schema) gets the same rows and export.
        auto fresh = must(store::Project::open(fresh_path));
        (void)must(formats::import_prefx(fresh.db(), file.toStdString(), {}));
        QVERIFY(prefix_rows(fresh.db()) == prefix_rows(db));
        QVERIFY(export_all(fresh.db(), ds, (dir.path() + "/fresh.json").toStdString()) == before);

        // Steps give what the text gave: curation turns and the DPO prompt.
        store::PairRepo repo(db);
        for (int64_t id = 1; id <= prefixes; ++id) {
            const auto pre = must(repo.prefix(id));
            QVERIFY(pre && pre->task_turn);
            const nlohmann::json h = nlohmann::json::parse(pre->history);
            const auto from_steps = conversation::prefx_turns(*pre);
            const auto from_text = conversation::prefx_history_turns(pre->history);
            QCOMPARE(from_steps.size(), h.size());
            for (size_t i = 0; i < from_steps.size(); ++i) {
                QCOMPARE(from_steps[i].from, from_text[i].from);
                QCOMPARE(from_steps[i].value, from_text[i].value);
            }
            const std::vector<int64_t> pads = {4, 6, 8};
            for (size_t drop = 0; drop <= pre->steps.size(); ++drop) {
                const auto a = tok::render_chat(conversation::prefx_turn_messages("SYS", from_steps, drop, pads));
                const auto b = tok::render_chat(conversation::prefx_history_messages("SYS", h, drop, pads));
                QCOMPARE(a, b);
            }
        }
    }

    // A history the steps cannot give back byte for byte stays text; one they can is stored as steps.
    void only_exact_histories_become_steps() {
        auto p = must(store::Project::open(":memory:"));
        store::PairRepo repo(p.db());
        store::PairPrefix odd;
        odd.history = "[{\"from\":\"human\",\"value\":\"Task: t\",\"x\":1}]";
        const int64_t a = must(repo.intern_prefix(odd));
        store::PairPrefix twice;
        twice.history = "[{\"from\":\"human\",\"value\":\"Task: t\"},{\"from\":\"human\",\"value\":\"again\"}]";
        const int64_t b = must(repo.intern_prefix(twice));
        store::PairPrefix spaced;
        spaced.history = "[{\"from\": \"human\", \"value\": \"Task: t\"}]";
        const int64_t c = must(repo.intern_prefix(spaced));
        store::PairPrefix good;
        good.history = "[{\"from\":\"human\",\"value\":\"Task: t\"},{\"from\":\"gpt\",\"value\":\"Thought: a\\n\\nCode:\\n```py\\nprint(1)\\n```<end_action>\"},{\"from\":\"human\",\"value\":\"[OUTPUT OF STEP 0] Observation:\\n1\\n\"}]";
        const int64_t d = must(repo.intern_prefix(good));
        for (int64_t id : {a, b, c}) {
            const auto pre = must(repo.prefix(id));
            QVERIFY(pre && !pre->task_turn && pre->steps.empty());
        }
        QCOMPARE(must(repo.prefix(a))->history, odd.history);
        QCOMPARE(must(repo.prefix(c))->history, spaced.history);
        const auto pre = must(repo.prefix(d));
        QVERIFY(pre && pre->task_turn);
        QCOMPARE(*pre->task_turn, std::string("Task: t"));
        QCOMPARE(pre->steps.size(), size_t(1));
        QCOMPARE(pre->steps[0].code, std::string("print(1)"));
        QCOMPARE(*pre->steps[0].observation, std::string("1\n"));
        QCOMPARE(pre->history, good.history);
        QCOMPARE(count(p.db(), "SELECT count(*) FROM pair_prefixes WHERE history=''"), int64_t(1));
        // Same text again: the same row.
        QCOMPARE(must(repo.intern_prefix(good)), d);
    }
};

QTEST_GUILESS_MAIN(TestPairSteps)
#include "test_pair_steps.moc"
