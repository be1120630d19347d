// Tests for Pref-X import/export on tests/data/prefx/prefx-sample.json (written for these tests following spec
// section 2): pairs, shared prefixes and tasks, steps, round trip (all pairs; approved only), the
// LLaMA-Factory dataset_info.json entry, a record kept raw (extra key) with an edited action, re-import, and
// a bad record.
#include <QtTest>

#include <fstream>

#include "core/formats/exporters.h"
#include "core/formats/mtrace_import.h"
#include "core/formats/prefx_import.h"
#include "core/store/pair_repo.h"
#include "core/store/project.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"

using namespace matrix;
using namespace matrix::formats;

namespace {
const std::string kSample = std::string(MATRIX_SOURCE_DIR) + "/tests/data/prefx/prefx-sample.json";
template <class T>
T must(Result<T> r) {
    if (!r.ok()) qFatal("unexpected error: %s", r.error().to_string().c_str());
    return std::move(r).value();
}
void must(Status s) {
    if (!s.ok()) qFatal("unexpected error: %s", s.error().to_string().c_str());
}
nlohmann::json load(const std::string& p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}
int64_t count(store::Database& db, const std::string& sql) { return must(db.query_int64(sql)); }
}  // namespace

class TestPrefxFormat : public QObject {
    Q_OBJECT
private slots:
    void import_sample() {
        auto p = must(store::Project::open(":memory:"));
        const int64_t cache_before = count(p.db(), "PRAGMA cache_size");
        auto r = must(import_prefx(p.db(), kSample, {}));
        // the import's bigger page cache (ImportOptions::cache_mib) is given back
        QCOMPARE(count(p.db(), "PRAGMA cache_size"), cache_before);
        QCOMPARE(r.records, int64_t(5));
        QCOMPARE(r.imported, int64_t(5));
        QCOMPARE(r.pairs, int64_t(5));
        QVERIFY(r.all_imported());
        QCOMPARE(count(p.db(), "SELECT count(*) FROM pairs"), int64_t(5));
        // Records 0 and 1 share prefix and chosen; record 2 extends the history of the same task.
        QCOMPARE(count(p.db(), "SELECT count(*) FROM pair_prefixes"), int64_t(4));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks"), int64_t(3));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM system_prompts"), int64_t(1));
        QCOMPARE(*must(p.db().query_text("SELECT group_concat(step_index) FROM (SELECT step_index FROM pairs ORDER BY "
                                         "ordinal)")),
                 std::string("0,0,1,0,0"));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM pairs WHERE status='pending' AND origin='imported'"), int64_t(5));
        store::PairRepo pairs(p.db());
        auto all = must(pairs.list({}));
        QCOMPARE(all[0].task_id, all[2].task_id);
        QVERIFY(all[0].task_id != all[3].task_id);
        QCOMPARE(all[0].chosen_observation.value_or(""), std::string("STORE 42\nTOTAL 12.50\nTHANK YOU"));
        QVERIFY(!all[2].chosen_observation);
        QVERIFY(!all[0].extra && all[4].extra);  // record 4 has an extra key: kept raw
        // The receipt task: query, image + attachment media, a trajectory with the one history step.
        auto task = must(store::TaskRepo(p.db()).get(*all[0].task_id));
        QCOMPARE(task->query, std::string("What is the total on this receipt?"));
        QCOMPARE(task->n_images, 1);
        auto traj = must(store::TrajectoryRepo(p.db()).primary_for_task(task->id));
        QCOMPARE(traj->steps.size(), size_t(1));
        QCOMPARE(traj->steps[0].tool_calls[0].name, std::string("ocr"));
        QCOMPARE(traj->steps[0].observation.value_or(""), std::string("STORE 42\nTOTAL 12.50\nTHANK YOU"));
        QCOMPARE(task->n_steps, 1);
        store::TaskFilter f;
        f.text = "THANK";
        QCOMPARE(must(store::TaskRepo(p.db()).count(f)), int64_t(1));
    }

    void round_trip_all_and_approved() {
        QTemporaryDir dir;
        auto p = must(store::Project::open(":memory:"));
        (void)must(import_prefx(p.db(), kSample, {}));
        const auto input = load(kSample);
        ExportOptions all;
        all.status = "all";
        const std::string out = (dir.path() + "/all.json").toStdString();
        QCOMPARE(must(export_prefx(p.db(), "prefx-sample", out, all)).records, int64_t(5));
        QCOMPARE(load(out), input);

        store::PairRepo pairs(p.db());
        auto list = must(pairs.list({}));
        must(pairs.set_status(list[1].id, "approved"));
        must(pairs.set_status(list[3].id, "approved"));
        must(pairs.set_status(list[0].id, "rejected", std::string("wrong tool")));
        const std::string approved = (dir.path() + "/approved.json").toStdString();
        auto rep = must(export_prefx(p.db(), "prefx-sample", approved));
        QCOMPARE(rep.records, int64_t(2));
        QCOMPARE(load(approved), nlohmann::json::array({input[1], input[3]}));
        auto info = load(rep.dataset_info_path);
        QCOMPARE(info["prefx-sample"],
                 nlohmann::json::parse(R"({"file_name": "approved.json", "formatting": "sharegpt", "ranking": true,
                    "columns": {"messages": "conversations", "chosen": "chosen", "rejected": "rejected",
                                "images": "images", "system": "system"}})"));
    }

    void edited_raw_record_exports_edit() {
        QTemporaryDir dir;
        auto p = must(store::Project::open(":memory:"));
        (void)must(import_prefx(p.db(), kSample, {}));
        store::PairRepo pairs(p.db());
        auto list = must(pairs.list({}));
        must(pairs.swap(list[4].id));
        must(pairs.edit_chosen(list[3].id, "Thought: x\n\nCode:\n```py\nprint(391)\n```<end_action>"));
        ExportOptions all;
        all.status = "all";
        const std::string out = (dir.path() + "/e.json").toStdString();
        (void)must(export_prefx(p.db(), "prefx-sample", out, all));
        auto input = load(kSample), got = load(out);
        auto expected4 = input[4];
        std::swap(expected4["chosen"], expected4["rejected"]);
        QCOMPARE(got[4], expected4);
        QCOMPARE(got[4]["score"], nlohmann::json(0.93));
        QCOMPARE(got[3]["chosen"]["value"], nlohmann::json("Thought: x\n\nCode:\n```py\nprint(391)\n```<end_action>"));
        QCOMPARE(got[3]["chosen"]["observation"], input[3]["chosen"]["observation"]);
    }

    // Pref-X cut from an M-TRACE trajectory: its pairs land on the M-TRACE task (no twin task, no second trajectory),
    // although the first user turn is spelled differently (Picture line vs <image>, attachment path prefix).
    void pairs_attach_to_the_mtrace_task() {
        QFETCH(bool, link);
        QTemporaryDir dir;
        auto sample = load(kSample);
        nlohmann::json mtrace = nlohmann::json::array();
        mtrace.push_back({{"id", "rcpt01"},
                          {"image", "data/img/receipt.jpg"},
                          {"correct", "yes"},
                          {"answer", "12.50"},
                          {"traj_verification", ""},
                          {"conversations",
                           {{{"from", "system"}, {"value", sample[0]["system"]}},
                            {{"from", "user"},
                             {"value", "Picture 1: <img>data/img/receipt.jpg</img>\nTask: What is the total on this "
                                       "receipt?\nAttachment: data/img/receipt.jpg; "}},
                            {{"from", "assistant"},
                             {"value", "Thought: Read it.\n\nCode:\n```py\nprint(ocr(image_path=\"data/img/receipt.jpg\"))\n```"}},
                            {{"from", "user"}, {"value", "[OUTPUT OF STEP 0] Observation:\nTOTAL 12.50"}},
                            {{"from", "assistant"},
                             {"value", "Thought: Done.\n\nCode:\n```py\nfinal_answer(\"12.50\")\n```"}}}}});
        const std::string mtrace_path = (dir.path() + "/mtrace.json").toStdString();
        std::ofstream(mtrace_path) << mtrace.dump();
        auto p = must(store::Project::open(":memory:"));
        (void)must(import_mtrace(p.db(), mtrace_path, {}));
        const int64_t mtrace_task = count(p.db(), "SELECT id FROM tasks");
        ImportOptions opt;
        opt.link_existing_tasks = link;
        auto r = must(import_prefx(p.db(), kSample, opt));
        QCOMPARE(r.imported, int64_t(5));
        auto all = must(store::PairRepo(p.db()).list({}));
        if (link) {
            QCOMPARE(r.linked_tasks, int64_t(3));  // records 0-2 are the receipt task
            QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks"), int64_t(3));
            for (int i : {0, 1, 2}) QCOMPARE(*all[i].task_id, mtrace_task);
            QVERIFY(*all[3].task_id != mtrace_task);
            // the M-TRACE trajectory is left as it was (two steps), no Pref-X trajectory was added to the task
            QCOMPARE(count(p.db(), "SELECT count(*) FROM trajectories WHERE task_id=" + std::to_string(mtrace_task)),
                     int64_t(1));
            QCOMPARE(count(p.db(), "SELECT n_steps FROM tasks WHERE id=" + std::to_string(mtrace_task)), int64_t(2));
        } else {
            QCOMPARE(r.linked_tasks, int64_t(0));
            QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks"), int64_t(4));
            QVERIFY(*all[0].task_id != mtrace_task);
        }
        // Re-import adds nothing either way.
        auto again = must(import_prefx(p.db(), kSample, opt));
        QCOMPARE(again.already_present, int64_t(5));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks"), int64_t(link ? 3 : 4));
    }
    void pairs_attach_to_the_mtrace_task_data() {
        QTest::addColumn<bool>("link");
        QTest::newRow("linked (default)") << true;
        QTest::newRow("--no-link") << false;
    }

    void reimport_and_bad_record() {
        QTemporaryDir dir;
        auto p = must(store::Project::open(":memory:"));
        (void)must(import_prefx(p.db(), kSample, {}));
        auto again = must(import_prefx(p.db(), kSample, {}));
        QCOMPARE(again.already_present, int64_t(5));
        QCOMPARE(again.imported, int64_t(0));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM pairs"), int64_t(5));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM steps"), int64_t(1));

        auto input = load(kSample);
        nlohmann::json bad = input;
        bad[1].erase("chosen");
        bad[2]["rejected"]["observation"] = 5;
        // One image more than the prompt's <image> placeholders: LLaMA-Factory would refuse the record.
        const size_t images = bad[3]["images"].size();
        bad[3]["images"].push_back("extra.png");
        const std::string path = (dir.path() + "/bad.json").toStdString();
        std::ofstream(path) << bad.dump(2);
        ImportOptions opt;
        opt.dataset_name = "bad";
        auto r = must(import_prefx(p.db(), path, opt));
        QCOMPARE(r.imported, int64_t(2));
        QCOMPARE(r.rejected, int64_t(3));
        QCOMPARE(QString::fromStdString(r.issues[0].reason), QString("missing key 'chosen'"));
        QCOMPARE(r.issues[0].index, int64_t(1));
        QCOMPARE(QString::fromStdString(r.issues[1].reason),
                 QString("rejected.observation is a number, not a string"));
        QCOMPARE(QString::fromStdString(r.issues[2].reason),
                 QString("%1 image(s) but %2 <image> placeholder(s) in the conversation (LLaMA-Factory needs one per image)")
                     .arg(images + 1)
                     .arg(images));
    }
};

QTEST_GUILESS_MAIN(TestPrefxFormat)
#include "test_prefx_format.moc"
