// Tests for M-TRACE import/export: the real 60-record subset (counts derived from the JSON itself, the three
// image forms, Picture/Attachment paths, observation steps and errors, system prompt dedup), import -> export
// round trip equal record for record, re-import idempotence, the real truncated tail, bad records
// (data-driven), image resolution against roots (found / unreadable / missing) and cancellation.
#include <QtTest>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/formats/exporters.h"
#include "core/formats/mtrace_import.h"
#include "core/store/media_repo.h"
#include "core/store/project.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"
#include "core/util/sha256.h"

using namespace matrix;
using namespace matrix::formats;
namespace fs = std::filesystem;

namespace {
const std::string kSubset = std::string(MATRIX_SHARED_DIR) + "/data/mtrace/mtrace-subset-60.json";
const std::string kTail = std::string(MATRIX_SHARED_DIR) + "/data/mtrace/truncated-tail.json";

template <class T>
T must(Result<T> r) {
    if (!r.ok()) qFatal("unexpected error: %s", r.error().to_string().c_str());
    return std::move(r).value();
}
nlohmann::json load(const std::string& p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}
void write(const std::string& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}
int64_t count(store::Database& db, const std::string& sql) { return must(db.query_int64(sql)); }
}  // namespace

class TestMtraceFormat : public QObject {
    Q_OBJECT
private slots:
    void import_real_subset() {
        auto p = must(store::Project::open(":memory:"));
        auto r = must(import_mtrace(p.db(), kSubset, {}));
        const auto json = load(kSubset);
        QCOMPARE(r.records, int64_t(60));
        QCOMPARE(r.imported, int64_t(60));
        QVERIFY(r.all_imported());
        QVERIFY(r.issues.empty());
        int64_t assistant = 0, errors = 0;
        std::set<std::string> prompts;
        for (auto& rec : json) {
            prompts.insert(rec["conversations"][0]["value"].get<std::string>());
            for (auto& t : rec["conversations"]) {
                if (t["from"] == "assistant") ++assistant;
                if (t["from"] == "user" && t["value"].get<std::string>().find("] Error:") < 30) ++errors;
            }
        }
        QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks"), int64_t(60));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM trajectories"), int64_t(60));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM steps"), assistant);
        QCOMPARE(count(p.db(), "SELECT count(*) FROM steps WHERE is_error"), errors);
        QCOMPARE(count(p.db(), "SELECT count(*) FROM system_prompts"), int64_t(prompts.size()));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks WHERE system_prompt_id IS NULL"), int64_t(0));
        // Every record is reproduced from the rows (no raw copy needed) and every trajectory ends in final_answer.
        QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks WHERE extra IS NOT NULL"), int64_t(0));
        QCOMPARE(count(p.db(), "SELECT count(DISTINCT trajectory_id) FROM steps WHERE is_final"), int64_t(60));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM tool_calls WHERE name='final_answer'"), int64_t(60));
        QCOMPARE(r.media_missing, count(p.db(), "SELECT count(*) FROM media"));
    }

    void image_forms_and_prompt_parts() {
        auto p = must(store::Project::open(":memory:"));
        (void)must(import_mtrace(p.db(), kSubset, {}));
        store::TaskRepo tasks(p.db());
        store::MediaRepo media(p.db());
        auto task_of = [&](const char* id) { return *must(tasks.find_by_external_id(1, id)); };
        // {} form: no media.
        QCOMPARE(must(media.for_task(task_of("hkzm_ewM"))).size(), size_t(0));
        // String form + Picture line with the same path + an Attachment with another prefix.
        auto m1 = must(media.for_task(task_of("vekLv30X")));
        QCOMPARE(m1.size(), size_t(2));
        QCOMPARE(m1[0].role, std::string("image"));
        QVERIFY(!m1[0].label);
        QCOMPARE(m1[0].media.path, std::string("data/open_llava_next/llava/llava_pretrain/images/00015/000151737.jpg"));
        QVERIFY(!m1[0].media.resolved_path);
        QCOMPARE(m1[1].role, std::string("attachment"));
        QCOMPARE(m1[1].media.path, std::string("data/tongagent/llava/llava_pretrain/images/00015/000151737.jpg"));
        auto t1 = must(tasks.get(task_of("vekLv30X")));
        QCOMPARE(t1->query, std::string("How many calories are there in a serving of this sushi dish shown in the image?"));
        QCOMPARE(t1->n_images, 1);
        QCOMPARE(t1->n_missing_media, 2);
        // Object form with two images (keys out of order in the file).
        auto m2 = must(media.for_task(task_of("whD3h3j5")));
        std::vector<std::string> labels;
        for (auto& m : m2)
            if (m.role == "image") labels.push_back(m.label.value_or("-"));
        QCOMPARE(labels, (std::vector<std::string>{"<image_00>", "<image_01>"}));
        // Steps of the sushi task: visualizer call with keyword arguments, observation text without header.
        auto traj = must(store::TrajectoryRepo(p.db()).primary_for_task(task_of("vekLv30X")));
        QVERIFY(traj);
        QCOMPARE(traj->steps[0].tool_calls[0].name, std::string("visualizer"));
        QVERIFY(traj->steps[0].tool_calls[0].known);
        QCOMPARE(traj->steps[1].observation.value_or(""), std::string("Total Calories in the serving: 527\n"));
        QVERIFY(traj->steps.back().is_final);
    }

    void round_trip_equals_input() {
        QTemporaryDir dir;
        auto p = must(store::Project::open(":memory:"));
        (void)must(import_mtrace(p.db(), kSubset, {}));
        const std::string out = (dir.path() + "/out.json").toStdString();
        auto r = must(export_mtrace(p.db(), "mtrace-subset-60", out));
        QCOMPARE(r.records, int64_t(60));
        auto a = load(kSubset), b = load(out);
        QCOMPARE(b.size(), a.size());
        for (size_t i = 0; i < a.size(); ++i) QVERIFY2(a[i] == b[i], a[i]["id"].get<std::string>().c_str());
    }

    void reimport_adds_nothing() {
        auto p = must(store::Project::open(":memory:"));
        (void)must(import_mtrace(p.db(), kSubset, {}));
        const int64_t steps = count(p.db(), "SELECT count(*) FROM steps");
        auto again = must(import_mtrace(p.db(), kSubset, {}));
        QCOMPARE(again.imported, int64_t(0));
        QCOMPARE(again.already_present, int64_t(60));
        QVERIFY(again.all_imported());
        QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks"), int64_t(60));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM steps"), steps);
        QCOMPARE(count(p.db(), "SELECT count(*) FROM datasets"), int64_t(1));
    }

    void truncated_tail_imports_whole_records() {
        auto p = must(store::Project::open(":memory:"));
        auto r = must(import_mtrace(p.db(), kTail, {}));
        QCOMPARE(r.imported, int64_t(9));
        QCOMPARE(r.records, int64_t(14));
        QCOMPARE(r.rejected, int64_t(5));
        QCOMPARE(r.syntax_errors, int64_t(2));
        QVERIFY(!r.all_imported());
        QStringList lines;
        for (auto& i : r.issues) lines << QString::fromStdString(i.to_string()).remove(QString::fromStdString(kTail));
        QCOMPARE(lines, (QStringList{
                            ": record 0 (byte 6): missing key 'id'",
                            ": record 1 (byte 187): missing key 'id'",
                            ": record 2 (byte 797): missing key 'id'",
                            ": record 3 (byte 926): missing key 'id'",
                            ": record 4 (byte 1150): JSON syntax error: unexpected content after the end of the array",
                            ": record 13 (byte 195296): JSON syntax error: unexpected end of file inside a string "
                            "(record starts at byte 185973)"}));
        QCOMPARE(QString::fromStdString(*must(p.db().query_text("SELECT group_concat(external_id, ',') FROM "
                                                                 "(SELECT external_id FROM tasks ORDER BY ordinal)"))),
                 QString("laQhVGaK,3uac3UOA,VBC98fah,YA27bG_Z,RqygWvXB,aHyPhr_g,OvDovIfM,T3m1oAfn,15oHNehT"));
    }

    void bad_records_data() {
        QTest::addColumn<QString>("bad");       // the middle record's JSON text
        QTest::addColumn<QString>("reason");    // expected issue reason (substring)
        QTest::addColumn<int>("syntax");        // syntax errors expected
        QTest::newRow("missing id") << "{\"conversations\": []}" << "missing key 'id'" << 0;
        QTest::newRow("id not a string") << "{\"id\": 7, \"conversations\": []}" << "'id' is a number, not a string" << 0;
        QTest::newRow("conversations not an array") << "{\"id\": \"x\", \"conversations\": {}}"
                                                    << "'conversations' is a object, not an array" << 0;
        QTest::newRow("turn value not a string")
            << "{\"id\": \"x\", \"conversations\": [{\"from\": \"user\", \"value\": 3}]}"
            << "conversations[0].value is a number, not a string" << 0;
        QTest::newRow("turn missing from") << "{\"id\": \"x\", \"conversations\": [{\"value\": \"a\"}]}"
                                           << "conversations[0]: missing key 'from'" << 0;
        QTest::newRow("image wrong type") << "{\"id\": \"x\", \"image\": 5, \"conversations\": []}"
                                          << "'image' is a number, not an object or a string" << 0;
        QTest::newRow("correct not a string") << "{\"id\": \"x\", \"correct\": true, \"conversations\": []}"
                                              << "'correct' is a boolean, not a string" << 0;
        QTest::newRow("not an object") << "[1, 2]" << "record is a JSON array, not an object" << 0;
        QTest::newRow("syntax error inside") << "{\"id\": \"x\", \"conversations\": [{\"from\": \"user\" \"value\": 1}]}"
                                             << "JSON syntax error: unexpected character '\"', expected ',' or '}'" << 1;
    }
    void bad_records() {
        QFETCH(QString, bad);
        QFETCH(QString, reason);
        QFETCH(int, syntax);
        auto json = load(kSubset);
        QTemporaryDir dir;
        const std::string path = (dir.path() + "/bad.json").toStdString();
        const std::string text = "[" + json[0].dump() + ",\n" + bad.toStdString() + ",\n" + json[1].dump() + "]";
        write(path, text);
        auto p = must(store::Project::open(":memory:"));
        // Data already in the store must survive a bad import untouched.
        (void)must(import_mtrace(p.db(), kSubset, {}));
        auto r = must(import_mtrace(p.db(), path, {}));
        QCOMPARE(r.rejected, int64_t(1));
        QCOMPARE(r.syntax_errors, int64_t(syntax));
        QCOMPARE(r.imported, int64_t(2));
        QCOMPARE(r.issues.size(), size_t(1));
        QCOMPARE(r.issues[0].index, int64_t(1));
        QCOMPARE(r.issues[0].file, path);
        QVERIFY2(QString::fromStdString(r.issues[0].reason).contains(reason), r.issues[0].reason.c_str());
        if (!syntax) QCOMPARE(r.issues[0].offset, int64_t(text.find(bad.toStdString())));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks"), int64_t(62));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM datasets"), int64_t(2));
    }

    void images_resolved_against_roots() {
        QTemporaryDir dir;
        const std::string root = (dir.path() + "/images").toStdString();
        fs::create_directories(root + "/coco/train2017");
        fs::copy_file(std::string(MATRIX_SHARED_DIR) + "/data/images/receipt.jpg", root + "/coco/train2017/r.jpg");
        fs::copy_file(std::string(MATRIX_SHARED_DIR) + "/data/images/cars.png", root + "/cars.png");
        write(root + "/broken.jpg", "this is not an image");
        nlohmann::json rec = load(kSubset)[0];
        rec["id"] = "img-test";
        rec["image"] = {{"<image_00>", "data/open_llava_next/coco/train2017/r.jpg"},
                        {"<image_01>", "/elsewhere/cars.png"},
                        {"<image_02>", "broken.jpg"},
                        {"<image_03>", "nowhere/missing.jpg"}};
        const std::string path = (dir.path() + "/imgs.json").toStdString();
        write(path, nlohmann::json::array({rec}).dump());
        auto p = must(store::Project::open(":memory:"));
        ImportOptions opt;
        opt.image_roots = {root};
        auto r = must(import_mtrace(p.db(), path, opt));
        QCOMPARE(r.imported, int64_t(1));
        QVERIFY(r.all_imported());  // an unreadable image is a warning, not a rejection
        QCOMPARE(r.media_missing, int64_t(1));
        QCOMPARE(r.issues.size(), size_t(1));
        QVERIFY(!r.issues[0].rejected);
        QVERIFY(QString::fromStdString(r.issues[0].to_string()).contains("broken.jpg: not a readable image"));
        auto links = must(store::MediaRepo(p.db()).for_task(1));
        QCOMPARE(links.size(), size_t(4));
        QCOMPARE(*links[0].media.resolved_path, fs::canonical(root + "/coco/train2017/r.jpg").string());
        QCOMPARE(*links[0].media.width, 700);
        QCOMPARE(*links[0].media.height, 933);
        QCOMPARE(*links[0].media.sha256, std::string("39c9c9b69673880b17fa038c74f2a46e3e97841ed39ac4318efc5fde58512984"));
        QCOMPARE(*links[1].media.width, 1570);
        QCOMPARE(*links[1].media.height, 1053);
        QVERIFY(links[2].media.resolved_path && !links[2].media.width);
        QVERIFY(!links[3].media.resolved_path);
        auto t = must(store::TaskRepo(p.db()).get(1));
        QCOMPARE(t->n_images, 4);
        QCOMPARE(t->n_missing_media, 1);
        // Re-importing with the missing file now present resolves it and updates the task's counter.
        fs::create_directories(root + "/nowhere");
        fs::copy_file(std::string(MATRIX_SHARED_DIR) + "/data/images/menu.jpeg", root + "/nowhere/missing.jpg");
        auto again = must(import_mtrace(p.db(), path, opt));
        QCOMPARE(again.already_present, int64_t(1));
        QCOMPARE(must(store::TaskRepo(p.db()).get(1))->n_missing_media, 0);
    }

    void cancel_keeps_committed_batches() {
        QTemporaryDir dir;
        auto json = load(kSubset);
        nlohmann::json many = nlohmann::json::array();
        for (int i = 0; i < 200; ++i) {
            auto r = json[size_t(i) % json.size()];
            r["id"] = "c" + std::to_string(i);
            many.push_back(r);
        }
        const std::string path = (dir.path() + "/many.json").toStdString();
        write(path, many.dump());
        auto p = must(store::Project::open(":memory:"));
        std::atomic<bool> cancel{false};
        ImportOptions opt;
        opt.batch_size = 10;
        opt.progress.cancel = &cancel;
        opt.progress.report = [&](int64_t, int64_t, const std::string&) { cancel = true; };  // first report: record 64
        auto r = must(import_mtrace(p.db(), path, opt));
        QVERIFY(r.cancelled);
        QVERIFY(!r.all_imported());
        // Records 0..59 were committed in batches of 10; 60..63 were in the open batch and rolled back.
        QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks"), int64_t(60));
        auto rest = must(import_mtrace(p.db(), path, {}));
        QCOMPARE(rest.already_present, int64_t(60));
        QCOMPARE(rest.imported, int64_t(140));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks"), int64_t(200));
        store::TaskFilter f;
        f.text = "sushi";
        QCOMPARE(must(store::TaskRepo(p.db()).count(f)),
                 count(p.db(), "SELECT count(*) FROM tasks WHERE query LIKE '%sushi%' OR id IN (SELECT t.task_id FROM "
                               "trajectories t JOIN steps s ON s.trajectory_id=t.id WHERE s.thought LIKE '%sushi%' OR "
                               "s.code LIKE '%sushi%' OR s.observation LIKE '%sushi%')"));
    }

    void unreadable_file_is_an_error() {
        auto p = must(store::Project::open(":memory:"));
        auto r = import_mtrace(p.db(), "/nonexistent/file.json", {});
        QVERIFY(!r.ok());
        QVERIFY(QString::fromStdString(r.error().to_string()).contains("/nonexistent/file.json"));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM datasets"), int64_t(0));
    }
};

QTEST_GUILESS_MAIN(TestMtraceFormat)
#include "test_mtrace_format.moc"
