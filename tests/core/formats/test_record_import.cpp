// The per-record size limit of the import skeleton (record_import.h, ImportOptions::max_record_bytes): for
// M-TRACE, Pref-X and step sampling a record over the limit is refused with its exact size and the limit,
// naming file, record and byte offset, without its DOM being built, and the good records around it are
// imported; a damaged record over the limit stays the syntax error it was; 0 means no limit.
#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "core/formats/beam_import.h"
#include "core/formats/json_stream.h"
#include "core/formats/mtrace_import.h"
#include "core/formats/prefx_import.h"
#include "core/store/project.h"
#include "core/util/record_limit.h"

using namespace matrix;
using namespace matrix::formats;
namespace fs = std::filesystem;

namespace {
const std::string kPrefx = std::string(MATRIX_SOURCE_DIR) + "/tests/data/prefx/prefx-sample.json";
const std::string kBeam = std::string(MATRIX_SOURCE_DIR) + "/tests/data/beam";

template <class T>
T must(Result<T> r) {
    if (!r.ok()) qFatal("unexpected error: %s", r.error().to_string().c_str());
    return std::move(r).value();
}
void write(const std::string& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}
std::string read(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
int64_t count(store::Database& db, const std::string& sql) { return must(db.query_int64(sql)); }

// A valid M-TRACE record whose task text carries `pad` extra bytes.
std::string mtrace_record(int i, size_t pad = 0) {
    nlohmann::json r = {{"id", "t" + std::to_string(i)},
                        {"conversations",
                         {{{"from", "user"}, {"value", "Find answer " + std::to_string(i) + std::string(pad, 'x')}},
                          {{"from", "assistant"},
                           {"value", "Thought: done\nCode:\n```py\nfinal_answer('" + std::to_string(i) + "')\n```<end_action>"}}}}};
    return r.dump();
}
}  // namespace

class TestRecordImport : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::string path(const std::string& name) const { return (m_dir.path() + "/").toStdString() + name; }

private slots:
    void reader_skips_an_oversized_element_without_its_dom() {
        const std::string text = "[{\"a\": 1}, {\"b\": \"" + std::string(100, 'y') + "\"}, [2], \"" + std::string(50, 'z') + "\"]";
        auto reader = JsonArrayReader::from_string(text);
        reader.set_max_record_bytes(40);
        JsonItem item;
        QVERIFY(reader.next(item));
        QVERIFY(item.kind == JsonItem::Kind::Element);
        QVERIFY(reader.next(item));
        QVERIFY(item.kind == JsonItem::Kind::Oversized);
        QCOMPARE(item.index, int64_t(1));
        QCOMPARE(item.offset, int64_t(11));
        QCOMPARE(item.end - item.offset, int64_t(109));
        QVERIFY(item.value.is_null());
        QVERIFY(reader.next(item));
        QVERIFY(item.kind == JsonItem::Kind::Element);
        QCOMPARE(item.index, int64_t(2));
        QCOMPARE(item.value.dump(), std::string("[2]"));
        QVERIFY(reader.next(item));  // a long string element is measured as well
        QVERIFY(item.kind == JsonItem::Kind::Oversized);
        QCOMPARE(item.end - item.offset, int64_t(52));
        QVERIFY(!reader.next(item));
        // Exactly at the limit is allowed.
        auto exact = JsonArrayReader::from_string("[\"" + std::string(38, 'q') + "\"]");
        exact.set_max_record_bytes(40);
        QVERIFY(exact.next(item));
        QVERIFY(item.kind == JsonItem::Kind::Element);
    }

    // The size scan ends where the parser ends, escaped quotes and backslashes included, and gives up past the limit.
    void size_scan_ends_where_the_parser_ends() {
        for (const std::string& text : {std::string("\"a\\\"b\""), std::string("\"a\\\\\""), std::string("{\"k\": \"x\\\\\\\"}\"}"),
                                       std::string("[\"]\", [\"[\"], {}]"), std::string("  {\"a\": {\"b\": [1, \"\\\\\"]}} , 5")}) {
            size_t pos = 0, err_pos = 0;
            std::string err;
            nlohmann::json v;
            QVERIFY2(parse_json_value(text, pos, v, err, err_pos), text.c_str());
            QCOMPARE(json_value_end_within(text, 0, text.size()), pos);
            QCOMPARE(json_value_end_within(text, 0, pos - 1), std::string_view::npos);
        }
    }

    void validation_without_dom_matches_the_parser() {
        for (const std::string& text : {std::string("{\"a\": [1, 2, {\"b\": \"c\\u00e9\"}]}"), std::string("{\"a\" 1}"),
                                       std::string("[\"\\q\"]"), std::string("{\"a\": \"\xC3\x28\"}"), std::string("[1, 2")}) {
            size_t p1 = 0, p2 = 0, e1 = 0, e2 = 0;
            std::string m1, m2;
            nlohmann::json v;
            const bool ok1 = parse_json_value(text, p1, v, m1, e1);
            const bool ok2 = validate_json_value(text, p2, m2, e2);
            QCOMPARE(ok2, ok1);
            QCOMPARE(m2, m1);
            QCOMPARE(e2, e1);
            if (ok1) QCOMPARE(p2, p1);
        }
    }

    void mtrace_record_over_the_limit_is_named_and_the_rest_imported() {
        QVERIFY(m_dir.isValid());
        const std::string big = mtrace_record(3, 5000);
        std::string text = "[" + mtrace_record(0) + ",\n" + mtrace_record(1) + ",\n" + mtrace_record(2) + ",\n";
        const int64_t offset = int64_t(text.size());
        text += big + ",\n" + mtrace_record(4) + "]";
        write(path("m.json"), text);
        auto p = must(store::Project::open(":memory:"));
        ImportOptions options;
        options.max_record_bytes = 4096;
        auto r = must(import_mtrace(p.db(), path("m.json"), options));
        QCOMPARE(r.records, int64_t(5));
        QCOMPARE(r.imported, int64_t(4));
        QCOMPARE(r.rejected, int64_t(1));
        QCOMPARE(r.syntax_errors, int64_t(0));
        QCOMPARE(r.issues.size(), size_t(1));
        QCOMPARE(r.issues[0].to_string(), path("m.json") + ": record 3 (byte " + std::to_string(offset) + "): the record is " +
                                              grouped_number(big.size()) +
                                              " bytes, over the 4,096 bytes per-record limit (--max-record-bytes)");
        QCOMPARE(big.size(), size_t(5164));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks WHERE external_id IN ('t0','t1','t2','t4')"), int64_t(4));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks WHERE external_id='t3'"), int64_t(0));
        // 0 = no limit: a second import into another dataset takes all five.
        options.max_record_bytes = 0;
        options.dataset_name = "all";
        auto all = must(import_mtrace(p.db(), path("m.json"), options));
        QCOMPARE(all.imported, int64_t(5));
        QVERIFY(all.all_imported());
    }

    void mtrace_default_limit_is_16_mib() {
        const std::string big = mtrace_record(1, size_t(16) << 20);
        write(path("big.json"), "[" + mtrace_record(0) + ", " + big + "]");
        auto p = must(store::Project::open(":memory:"));
        auto r = must(import_mtrace(p.db(), path("big.json"), {}));
        QCOMPARE(r.imported, int64_t(1));
        QCOMPARE(r.issues.size(), size_t(1));
        QCOMPARE(r.issues[0].reason,
                 std::string("the record is 16,777,380 bytes, over the 16 MiB per-record limit (--max-record-bytes)"));
        QCOMPARE(big.size(), size_t(16777380));
        QCOMPARE(r.issues[0].offset, int64_t(mtrace_record(0).size() + 3));
    }

    // A damaged record longer than the limit is reported as the syntax error it is (and resynchronised after),
    // exactly as without a limit.
    void damaged_record_over_the_limit_stays_a_syntax_error() {
        std::string damaged = mtrace_record(1, 6000);
        damaged.insert(damaged.size() - 40, "\"oops\" ");
        write(path("d.json"), "[" + mtrace_record(0) + ",\n" + damaged + ",\n" + mtrace_record(2) + "]");
        std::vector<std::string> lines;
        for (uint64_t limit : {uint64_t(0), uint64_t(4096)}) {
            auto p = must(store::Project::open(":memory:"));
            ImportOptions options;
            options.max_record_bytes = limit;
            auto r = must(import_mtrace(p.db(), path("d.json"), options));
            QCOMPARE(r.imported, int64_t(2));
            QCOMPARE(r.syntax_errors, int64_t(1));
            QCOMPARE(r.issues.size(), size_t(1));
            lines.push_back(r.issues[0].to_string());
        }
        QCOMPARE(lines[1], lines[0]);
        QVERIFY2(lines[0].find(": JSON syntax error: unexpected character") != std::string::npos, lines[0].c_str());
    }

    // Resynchronisation after a syntax error applies the limit too: an over-limit object it lands on comes as a
    // resynced Oversized item (its DOM never built), and a big object inside the damaged record that the
    // predicate refuses by its member names is passed over, not taken for a record.
    void reader_limits_the_record_found_after_a_syntax_error() {
        const std::string text = "[{\"id\": 0}, {\"id\": 1 oops, \"turn\": {\"value\": \"" + std::string(60, 'z') +
                                 "\"}}, {\"id\": 2, \"pad\": \"" + std::string(50, 'y') + "\"}, {\"id\": 3}]";
        auto reader = JsonArrayReader::from_string(text);
        reader.set_max_record_bytes(40);
        reader.set_record_predicate([](const nlohmann::json& v) { return v.contains("id"); });
        JsonItem item;
        QVERIFY(reader.next(item));
        QVERIFY(item.kind == JsonItem::Kind::Element);
        QCOMPARE(item.value.dump(), std::string("{\"id\":0}"));
        QVERIFY(reader.next(item));
        QVERIFY(item.kind == JsonItem::Kind::SyntaxError);
        QCOMPARE(item.index, int64_t(1));
        QCOMPARE(item.offset, int64_t(21));
        QCOMPARE(item.record_offset, int64_t(12));
        QVERIFY(reader.next(item));
        QVERIFY(item.kind == JsonItem::Kind::Oversized);
        QVERIFY(item.resynced);
        QCOMPARE(item.index, int64_t(2));
        QCOMPARE(item.offset, int64_t(text.find("{\"id\": 2")));
        QCOMPARE(item.end - item.offset, int64_t(70));  // {"id": 2, "pad": "<50 y>"}
        QVERIFY(item.value.is_null());
        QVERIFY(reader.next(item));
        QVERIFY(item.kind == JsonItem::Kind::Element);
        QCOMPARE(item.index, int64_t(3));
        QCOMPARE(item.value.dump(), std::string("{\"id\":3}"));
        QVERIFY(!reader.next(item));
        // Without a limit the same object is parsed whole, as before.
        auto whole = JsonArrayReader::from_string(text);
        whole.set_record_predicate([](const nlohmann::json& v) { return v.contains("id"); });
        QVERIFY(whole.next(item) && whole.next(item) && whole.next(item));
        QVERIFY(item.kind == JsonItem::Kind::Element);
        QCOMPARE(item.value["pad"].get<std::string>(), std::string(50, 'y'));
    }

    // The same through the importer: the damaged record is a syntax error, the over-limit record after it is
    // refused with its size, and the records after it are imported.
    void mtrace_record_over_the_limit_after_a_syntax_error() {
        std::string damaged = mtrace_record(1);
        damaged.insert(damaged.size() - 40, "\"oops\" ");
        const std::string big = mtrace_record(2, 5000);
        std::string text = "[" + mtrace_record(0) + ",\n" + damaged + ",\n";
        const int64_t offset = int64_t(text.size());
        text += big + ",\n" + mtrace_record(3) + ",\n" + mtrace_record(4) + "]";
        write(path("r.json"), text);
        auto p = must(store::Project::open(":memory:"));
        ImportOptions options;
        options.max_record_bytes = 4096;
        auto r = must(import_mtrace(p.db(), path("r.json"), options));
        QCOMPARE(r.records, int64_t(5));
        QCOMPARE(r.imported, int64_t(3));
        QCOMPARE(r.rejected, int64_t(2));
        QCOMPARE(r.syntax_errors, int64_t(1));
        QCOMPARE(r.issues.size(), size_t(2));
        QVERIFY2(r.issues[0].to_string().find(": record 1 (byte ") != std::string::npos, r.issues[0].to_string().c_str());
        QCOMPARE(big.size(), size_t(5164));
        QCOMPARE(r.issues[1].to_string(), path("r.json") + ": record 2 (byte " + std::to_string(offset) +
                                              "): the record is 5,164 bytes, over the 4,096 bytes per-record limit "
                                              "(--max-record-bytes)");
        QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks WHERE external_id IN ('t0','t3','t4')"), int64_t(3));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks"), int64_t(3));
        // No limit: the big record is imported as before.
        options.max_record_bytes = 0;
        options.dataset_name = "all";
        auto all = must(import_mtrace(p.db(), path("r.json"), options));
        QCOMPARE(all.imported, int64_t(4));
        QCOMPARE(all.syntax_errors, int64_t(1));
    }

    // A file that is not an array is read object by object through resynchronisation: limited as well.
    void mtrace_records_without_an_array_are_limited_too() {
        const std::string big = mtrace_record(1, 5000);
        const std::string text = mtrace_record(0) + "\n" + big + "\n" + mtrace_record(2) + "\n";
        write(path("loose.json"), text);
        auto p = must(store::Project::open(":memory:"));
        ImportOptions options;
        options.max_record_bytes = 4096;
        auto r = must(import_mtrace(p.db(), path("loose.json"), options));
        QCOMPARE(r.records, int64_t(3));
        QCOMPARE(r.imported, int64_t(2));
        QCOMPARE(r.rejected, int64_t(1));
        QCOMPARE(r.syntax_errors, int64_t(1));  // the missing '[' (no record)
        QCOMPARE(r.issues.size(), size_t(2));
        QCOMPARE(r.issues[0].to_string(),
                 path("loose.json") + ": record 0 (byte 0): JSON syntax error: expected '[' at the start of the file (a JSON array of records)");
        QCOMPARE(r.issues[1].to_string(), path("loose.json") + ": record 1 (byte " + std::to_string(mtrace_record(0).size() + 1) +
                                              "): the record is 5,164 bytes, over the 4,096 bytes per-record limit "
                                              "(--max-record-bytes)");
        QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks WHERE external_id IN ('t0','t2')"), int64_t(2));
    }

    void prefx_record_over_the_limit() {
        auto sample = nlohmann::json::parse(read(kPrefx));
        QCOMPARE(sample.size(), size_t(5));
        nlohmann::json big = sample[0];
        big["chosen"]["value"] = big["chosen"]["value"].get<std::string>() + std::string(3000, 'w');
        std::string text = "[";
        for (size_t i = 0; i < 2; ++i) text += sample[i].dump() + ", ";
        const int64_t offset = int64_t(text.size());
        text += big.dump();
        for (size_t i = 2; i < 5; ++i) text += ", " + sample[i].dump();
        text += "]";
        write(path("p.json"), text);
        auto p = must(store::Project::open(":memory:"));
        ImportOptions options;
        options.max_record_bytes = 2000;
        auto r = must(import_prefx(p.db(), path("p.json"), options));
        QCOMPARE(r.records, int64_t(6));
        QCOMPARE(r.imported, int64_t(5));
        QCOMPARE(r.pairs, int64_t(5));
        QCOMPARE(r.rejected, int64_t(1));
        QCOMPARE(r.issues.size(), size_t(1));
        QCOMPARE(r.issues[0].to_string(), path("p.json") + ": record 2 (byte " + std::to_string(offset) + "): the record is " +
                                              grouped_number(big.dump().size()) +
                                              " bytes, over the 2,000 bytes per-record limit (--max-record-bytes)");
        QCOMPARE(count(p.db(), "SELECT count(*) FROM pairs"), int64_t(5));
    }

    // Step sampling: a task folder's file is the record.
    void beam_task_over_the_limit() {
        const std::string dir = path("beam");
        fs::copy(kBeam, dir, fs::copy_options::recursive);
        const std::string file = dir + "/task_002/beam_search_data.json";
        auto doc = nlohmann::json::parse(read(file));
        doc[0]["task"] = doc[0]["task"].get<std::string>() + std::string(20000, 'v');
        write(file, doc.dump());
        const uint64_t size = fs::file_size(file);
        auto p = must(store::Project::open(":memory:"));
        ImportOptions options;
        options.max_record_bytes = 16384;
        auto r = must(import_beam(p.db(), dir, options));
        QCOMPARE(r.records, int64_t(3));
        QCOMPARE(r.imported, int64_t(1));
        QCOMPARE(r.rejected, int64_t(2));  // task_003 is damaged in the sample
        QCOMPARE(r.issues.size(), size_t(2));
        QCOMPARE(r.issues[0].to_string(), file + ": record 1: the record is " + grouped_number(size) +
                                              " bytes, over the 16,384 bytes per-record limit (--max-record-bytes)");
        QCOMPARE(count(p.db(), "SELECT count(*) FROM tasks"), int64_t(1));
    }
};

QTEST_GUILESS_MAIN(TestRecordImport)
#include "test_record_import.moc"
