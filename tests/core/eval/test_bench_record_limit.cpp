// The per-record size limit (core/util/record_limit.h) at every benchmark entry point: GTA dataset.json,
// Agent-X data.json (object and list), GAIA metadata.jsonl, JSONL runs and matrix-gta runs. The record over
// the limit is one warning naming file, item and byte offset with its exact size; the others load. Reading
// member by member gives the same syntax and nesting errors as reading the whole file.
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "core/eval/agentx_loader.h"
#include "core/eval/bench_store.h"
#include "core/eval/gaia_loader.h"
#include "core/eval/gta_loader.h"
#include "core/eval/json_file.h"
#include "core/eval/run_import.h"
#include "core/store/project.h"
#include "core/store/task_repo.h"
#include "core/util/record_limit.h"

using namespace matrix;
using namespace matrix::eval;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {
const std::string kData = std::string(MATRIX_SOURCE_DIR) + "/tests/data/bench/";

void write(const std::string& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}
std::string read(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
json gta_item(const std::string& query) {
    return {{"tools", json::array()},
            {"files", json::array()},
            {"dialogs", {{{"role", "user"}, {"content", query}}}},
            {"gt_answer", {{"whitelist", {{"a"}}}, {"blacklist", nullptr}}}};
}
// Every task's counters as "id n_steps n_images n_missing_media [tools]".
std::vector<std::string> counters(store::Database& db) {
    std::vector<std::string> out;
    auto st = db.prepare("SELECT id, n_steps, n_images, n_missing_media, tools FROM tasks ORDER BY id");
    if (!st.ok()) qFatal("%s", st.error().to_string().c_str());
    for (;;) {
        auto row = st->step();
        if (!row.ok() || !*row) break;
        out.push_back(std::to_string(st->column_int64(0)) + " " + std::to_string(st->column_int64(1)) + " " +
                      std::to_string(st->column_int64(2)) + " " + std::to_string(st->column_int64(3)) + " [" +
                      st->column_text(4) + "]");
    }
    return out;
}
std::vector<std::string> ids(const Benchmark& b) {
    std::vector<std::string> out;
    for (const auto& i : b.items) out.push_back(i.id);
    return out;
}
}  // namespace

class TestBenchRecordLimit : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::string path(const std::string& name) const { return (m_dir.path() + "/").toStdString() + name; }

private slots:
    void reason_text() {
        QCOMPARE(record_over_limit_reason(52428912, k_default_max_record_bytes),
                 std::string("the record is 52,428,912 bytes, over the 16 MiB per-record limit (--max-record-bytes)"));
        QCOMPARE(record_over_limit_reason(1001, 1000),
                 std::string("the record is 1,001 bytes, over the 1,000 bytes per-record limit (--max-record-bytes)"));
        QVERIFY(!record_over_limit(1 << 30, 0));
        QVERIFY(!record_over_limit(1000, 1000));
        QVERIFY(record_over_limit(1001, 1000));
    }

    void gta_item_over_the_limit() {
        QVERIFY(m_dir.isValid());
        const std::string big = gta_item(std::string(3000, 'q')).dump();
        const std::string head = "{\"0\": " + gta_item("first").dump() + ", \"7\": ";
        write(path("dataset.json"), head + big + ", \"2\": " + gta_item("third").dump() + "}");
        auto b = load_gta(path("dataset.json"), 2048);
        QVERIFY(b.ok());
        QCOMPARE(ids(*b), (std::vector<std::string>{"0", "2"}));
        QCOMPARE(b->items[1].query, std::string("third"));
        QCOMPARE(b->warnings.size(), size_t(1));
        QCOMPARE(b->warnings[0], path("dataset.json") + ": item 7 (byte " + std::to_string(head.size()) + "): the record is " +
                                     grouped_number(big.size()) + " bytes, over the 2,048 bytes per-record limit (--max-record-bytes)");
        QCOMPARE(big.size(), size_t(3115));
        // No limit: all three, and the same items as before the member-by-member reading.
        auto all = load_gta(path("dataset.json"), 0);
        QVERIFY(all.ok());
        QCOMPARE(ids(*all), (std::vector<std::string>{"0", "7", "2"}));
        QCOMPARE(all->items[1].raw, json::parse(big));
    }

    // The whole-file errors are those of read_json_file; a repeated id keeps its last value at its first place.
    void members_read_like_the_whole_file() {
        for (const std::string& text : {std::string("{\"a\": [1, 2}"), std::string("{\"a\": 1} x"), std::string(""),
                                       std::string("{\"a\": 2E2222}"), "{\"a\": " + std::string(600, '[') + std::string(600, ']') + "}"}) {
            write(path("e.json"), text);
            auto members = read_json_members(path("e.json"));
            auto whole = read_json_file(path("e.json"));
            QVERIFY(!members.ok());
            QVERIFY(!whole.ok());
            QCOMPARE(members.error().to_string(), whole.error().to_string());
        }
        write(path("dup.json"), "{\"x\": 1, \"y\": {\"k\": [\"}\"]}, \"x\": \"last\"}");
        auto m = read_json_members(path("dup.json"));
        QVERIFY(m.ok());
        QCOMPARE(m->members.size(), size_t(2));
        QCOMPARE(m->members[0].key, std::string("x"));
        QCOMPARE(std::string(m->value_text(m->members[0])), std::string("\"last\""));
        QCOMPARE(std::string(m->value_text(m->members[1])), std::string("{\"k\": [\"}\"]}"));
        write(path("dupgta.json"), "{\"1\": " + gta_item("old").dump() + ", \"2\": " + gta_item("two").dump() + ", \"1\": " +
                                       gta_item("new").dump() + "}");
        auto b = load_gta(path("dupgta.json"));
        QVERIFY(b.ok());
        QCOMPARE(ids(*b), (std::vector<std::string>{"1", "2"}));
        QCOMPARE(b->items[0].query, std::string("new"));
    }

    // store_benchmark writes each task row once with its counters (no UPDATE of a row holding a large field):
    // they equal what refresh_counters recomputes from the links and the gold trajectory.
    void stored_counters_match_a_recount() {
        auto bench = load_agentx(kData + "agentx", {});
        QVERIFY(bench.ok());
        QVERIFY(bench->items.size() >= 3);
        auto project = store::Project::open(":memory:");
        QVERIFY(project.ok());
        auto stored = store_benchmark(*project, *bench, {});
        QVERIFY(stored.ok());
        const std::vector<std::string> written = counters(project->db());
        QCOMPARE(written.size(), bench->items.size());
        int with_tools = 0, with_files = 0;
        for (const auto& line : written) {
            if (line.find(" []") == std::string::npos) ++with_tools;
            if (line.find(" 0 0 [") == std::string::npos) ++with_files;
        }
        QVERIFY(with_tools > 0);
        QVERIFY(with_files > 0);
        store::TaskRepo tasks(project->db());
        for (const auto& line : written) QVERIFY(tasks.refresh_counters(std::stoll(line)).ok());
        QCOMPARE(counters(project->db()), written);
    }

    void agentx_object_and_list() {
        const json small = {{"query", "q"}, {"final_answer", {{"value", "a"}}}};
        json big = small;
        big["query"] = std::string(1500, 'z');
        const std::string head = "{\"t1\": [" + small.dump() + "], \"t2\": ";
        write(path("ax.json"), head + big.dump() + "}");
        auto b = load_agentx(path("ax.json"), {}, 1024);
        QVERIFY(b.ok());
        QCOMPARE(ids(*b), (std::vector<std::string>{"t1"}));
        QCOMPARE(b->warnings, (std::vector<std::string>{path("ax.json") + ": task t2 (byte " + std::to_string(head.size()) +
                                                        "): the record is 1,541 bytes, over the 1,024 bytes per-record limit (--max-record-bytes)"}));
        QCOMPARE(big.dump().size(), size_t(1541));
        json a = small, c = small;
        a["id"] = "A";
        c["id"] = "C";
        write(path("axl.json"), "[" + a.dump() + ", " + big.dump() + ", " + c.dump() + "]");
        auto l = load_agentx(path("axl.json"), {}, 1024);
        QVERIFY(l.ok());
        QCOMPARE(ids(*l), (std::vector<std::string>{"A", "C"}));
        QCOMPARE(l->warnings, (std::vector<std::string>{path("axl.json") + ": record 1 (byte " + std::to_string(a.dump().size() + 3) +
                                                        "): the record is 1,541 bytes, over the 1,024 bytes per-record limit (--max-record-bytes)"}));
    }

    void gaia_line_over_the_limit() {
        const json line1 = {{"task_id", "g1"}, {"Question", "q1"}, {"Level", 1}, {"Final answer", "a"}};
        json line2 = line1;
        line2["task_id"] = "g2";
        line2["Question"] = std::string(700, 'k');
        json line3 = line1;
        line3["task_id"] = "g3";
        fs::create_directories(path("gaia"));
        write(path("gaia/metadata.jsonl"), line1.dump() + "\n" + line2.dump() + "\n" + line3.dump() + "\n");
        auto b = load_gaia(path("gaia"), 512);
        QVERIFY(b.ok());
        QCOMPARE(ids(*b), (std::vector<std::string>{"g1", "g3"}));
        QCOMPARE(b->warnings, (std::vector<std::string>{path("gaia/metadata.jsonl") + ":2 (byte " + std::to_string(line1.dump().size() + 1) +
                                                        "): the record is " + grouped_number(line2.dump().size()) +
                                                        " bytes, over the 512 bytes per-record limit (--max-record-bytes)"}));
        QCOMPARE(line2.dump().size(), size_t(759));
    }

    void jsonl_run_line_over_the_limit() {
        const std::string l1 = R"({"task_id": "1", "answer": "a"})";
        const std::string l2 = "{\"task_id\": \"2\", \"answer\": \"" + std::string(2000, 'b') + "\"}";
        const std::string l3 = R"({"task_id": "3", "answer": "c"})";
        write(path("run.jsonl"), l1 + "\n" + l2 + "\n" + l3 + "\n");
        auto run = import_run("jsonl", path("run.jsonl"), BenchKind::gta, {}, 1000);
        QVERIFY(run.ok());
        QCOMPARE(run->results.size(), size_t(2));
        QCOMPARE(run->results[1].task_id, std::string("3"));
        QCOMPARE(run->warnings, (std::vector<std::string>{path("run.jsonl") + ":2 (byte 32): the record is 2,030 bytes, over the "
                                                          "1,000 bytes per-record limit (--max-record-bytes)"}));
        // Under the limit the long answer arrives whole.
        auto whole = import_run("jsonl", path("run.jsonl"), BenchKind::gta);
        QVERIFY(whole.ok());
        QCOMPARE(whole->results.size(), size_t(3));
        QCOMPARE(whole->results[1].answer.value_or(""), std::string(2000, 'b'));
    }

    void matrix_gta_memory_over_the_limit() {
        const std::string run = path("gta-run");
        const std::string memory = read(kData + "matrix-gta/run-a/0/agent_memory.json");
        for (const char* id : {"0", "1", "2"}) {
            fs::create_directories(run + "/" + id);
            json doc = json::parse(memory);
            if (std::string(id) == "1") doc["padding"] = std::string(5000, 'p');
            write(run + "/" + id + "/agent_memory.json", doc.dump());
        }
        const uint64_t size = fs::file_size(run + "/1/agent_memory.json");
        auto r = import_run("matrix-gta", run, BenchKind::gta, {}, 4096);
        QVERIFY(r.ok());
        QCOMPARE(r->results.size(), size_t(2));
        QCOMPARE(r->results[1].task_id, std::string("2"));
        QCOMPARE(r->warnings, (std::vector<std::string>{run + "/1/agent_memory.json: the record is " + grouped_number(size) +
                                                        " bytes, over the 4,096 bytes per-record limit (--max-record-bytes)"}));
    }
};

QTEST_GUILESS_MAIN(TestBenchRecordLimit)
#include "test_bench_record_limit.moc"
