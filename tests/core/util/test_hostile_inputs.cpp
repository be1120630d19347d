// Hostile and broken inputs at core's entry points: JSON nested 50,000 deep (parsing is iterative, but copying
// or printing such a value recurses once per level) is refused with the byte where it goes too deep, by every
// reader a user's file reaches; devices and folders are refused before reading; image paths never lead outside
// the image roots (.., absolute paths, symlinks).
#include <QTemporaryDir>
#include <QtTest>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/eval/json_file.h"
#include "core/formats/exporters.h"
#include "core/formats/media_resolver.h"
#include "core/store/dataset_repo.h"
#include "core/store/fts.h"
#include "core/store/project.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/json_input.h"
#include "core/util/safetensors.h"

using namespace matrix;
namespace fs = std::filesystem;

namespace {

std::string deep(size_t n) { return std::string(n, '[') + std::string(n, ']'); }

void write(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

}  // namespace

class TestHostileInputs : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::string path(const std::string& name) const { return (m_dir.path() + "/").toStdString() + name; }

private slots:
    void deep_json_is_refused_where_it_goes_too_deep() {
        auto r = parse_json(deep(50000));
        QVERIFY(!r.ok());
        QCOMPARE(r.error().message, std::string("JSON nesting deeper than 512 levels at byte 512"));
        const std::string object_text = "{\"task_id\": \"3\", \"extra\": " + deep(50000) + "}";
        auto o = parse_ordered_json(object_text);
        QVERIFY(!o.ok());
        QCOMPARE(o.error().message, std::string("JSON nesting deeper than 512 levels at byte 537"));
        // 512 levels are fine; brackets inside strings do not count.
        QVERIFY(parse_json(deep(512)).ok());
        auto s = parse_json("[\"" + std::string(5000, '[') + "\\\"" + std::string(100, '{') + "\"]");
        QVERIFY(s.ok());
        QCOMPARE((*s)[0].get<std::string>().size(), size_t(5101));
        // Syntax errors: one line with the byte, never the library's exception text.
        auto bad = parse_json("{\"a\": tru}");
        QVERIFY(!bad.ok());
        QVERIFY2(bad.error().message.rfind("JSON syntax error at byte 10: ", 0) == 0, bad.error().message.c_str());
        QVERIFY(bad.error().message.find("json.exception") == std::string::npos);
        // A number past double's range (found by fuzz_json_input): the reason without the library's prefix.
        auto huge = parse_json("[2E2222]");
        QVERIFY(!huge.ok());
        QCOMPARE(QString::fromStdString(huge.error().message), QString("JSON error: number overflow parsing '2E2222'"));
    }

    void benchmark_files_deep_devices_folders() {
        QVERIFY(m_dir.isValid());
        write(path("deep.json"), "{\"items\": " + deep(200000) + "}");
        auto j = eval::read_json_file(path("deep.json"));
        QVERIFY(!j.ok());
        QCOMPARE(j.error().to_string(), path("deep.json") + ": JSON nesting deeper than 512 levels at byte 521");
        // JSONL: the deep line is reported with its number; the good lines load.
        write(path("run.jsonl"), "{\"task_id\": \"1\", \"answer\": \"a\"}\n{\"task_id\": \"3\", \"extra\": " + deep(50000) +
                                     "}\n{\"task_id\": \"2\", \"answer\": \"b\"}\n");
        std::vector<std::string> errors;
        auto lines = eval::read_jsonl_file(path("run.jsonl"), errors);
        QVERIFY(lines.ok());
        QCOMPARE(lines->size(), size_t(2));
        QCOMPARE((*lines)[1].line, 3);
        QCOMPARE(errors.size(), size_t(1));
        QCOMPARE(errors[0], path("run.jsonl") + ":2: JSON nesting deeper than 512 levels at byte 537");
        // Devices, folders and missing files are refused before anything is read.
        auto dev = eval::read_json_file("/dev/zero");
        QVERIFY(!dev.ok());
        QCOMPARE(dev.error().to_string(), std::string("/dev/zero: not a regular file (a device, FIFO or socket)"));
        auto folder = read_regular_file(m_dir.path().toStdString());
        QVERIFY(!folder.ok());
        QCOMPARE(folder.error().message, std::string("is a folder, not a file"));
        auto big = read_regular_file(path("run.jsonl"), 10);
        QVERIFY(!big.ok());
        QVERIFY2(big.error().message.rfind("file too large (", 0) == 0, big.error().message.c_str());
    }

    void tokenizer_and_safetensors_headers() {
        auto t = tok::Tokenizer::from_json("{\"model\": " + deep(50000) + "}", "tokenizer.json");
        QVERIFY(!t.ok());
        QCOMPARE(t.error().to_string(), std::string("tokenizer.json: JSON nesting deeper than 512 levels at byte 521"));
        // Token ids far past the vocabulary (a 58 KB file once took 6.4 GB) and negative ids are refused.
        const auto tokenizer = [](const std::string& vocab) {
            return tok::Tokenizer::from_json("{\"model\": {\"type\": \"BPE\", \"vocab\": {" + vocab + "}, \"merges\": []}}");
        };
        QVERIFY(tokenizer("\"a\": 0, \"b\": 1").ok());
        auto huge = tokenizer("\"a\": 0, \"b\": 100000000");
        QVERIFY(!huge.ok());
        QCOMPARE(huge.error().to_string(),
                 std::string("tokenizer.json: invalid tokenizer.json: token id 100000000 is far past the 2 tokens the file defines"));
        auto negative = tokenizer("\"a\": 0, \"b\": -5");
        QVERIFY(!negative.ok());
        QCOMPARE(negative.error().message, std::string("invalid tokenizer.json: vocab token has a negative id -5"));
        // A safetensors file whose header holds 50,000 nested arrays.
        const std::string header = "{\"__metadata__\": {\"x\": " + deep(50000) + "}}";
        std::string bytes(8, '\0');
        for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((uint64_t(header.size()) >> (8 * i)) & 0xff);
        write(path("deep.safetensors"), bytes + header);
        auto f = SafetensorsFile::open(path("deep.safetensors"));
        QVERIFY(!f.ok());
        QVERIFY2(f.error().to_string() == path("deep.safetensors") + ": bad JSON header: JSON nesting deeper than 512 levels at byte 533",
                 f.error().to_string().c_str());
    }

    // Crafted safetensors headers: aliasing tensors, negative or oversized shapes, offsets of the wrong type.
    void safetensors_headers_that_lie() {
        const auto file_with = [&](const std::string& name, const std::string& header, size_t data_bytes) {
            std::string bytes(8, '\0');
            for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((uint64_t(header.size()) >> (8 * i)) & 0xff);
            write(path(name), bytes + header + std::string(data_bytes, '\0'));
            auto f = SafetensorsFile::open(path(name));
            return f.ok() ? std::string("ok") : f.error().to_string();
        };
        QCOMPARE(file_with("ok.st", R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", 8), std::string("ok"));
        QCOMPARE(file_with("alias.st",
                           R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                               "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 8),
                 path("alias.st") + ": tensors a and b overlap");
        QCOMPARE(file_with("neg.st", R"({"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", 8),
                 path("neg.st") + ": tensor a: shape entries must be non-negative integers");
        QCOMPARE(file_with("huge.st", R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8]}})", 8),
                 path("huge.st") + ": tensor a: shape is larger than the file");
        QCOMPARE(file_with("type.st", R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": ["0", 8]}})", 8),
                 path("type.st") + ": tensor a: dtype must be a string, shape a list, data_offsets two non-negative integers");
    }

    void search_text_with_nul() {
        QCOMPARE(store::fts_query_from_text(std::string("cat\0dog", 7)), std::string("\"cat\" \"dog\""));
    }

    void image_paths_stay_inside_the_roots() {
        const std::string root = path("root");
        const std::string outside = path("outside");
        fs::create_directories(root + "/data/img");
        fs::create_directories(outside);
        write(root + "/data/img/a.png", "not really a png");
        write(outside + "/secret.png", "secret");
        fs::create_symlink(outside + "/secret.png", root + "/data/img/link.png");
        fs::create_symlink(root + "/data/img/a.png", root + "/inside_link.png");
        formats::MediaResolver resolver({root});
        const std::string real_root = fs::canonical(root).string();
        const std::string real_outside = fs::canonical(outside).string();

        auto ok = resolver.locate("data/img/a.png");
        QCOMPARE(ok.path.value_or(""), real_root + "/data/img/a.png");
        auto suffix = resolver.locate("/other/machine/data/img/a.png");  // found by suffix under the root
        QCOMPARE(suffix.path.value_or(""), real_root + "/data/img/a.png");
        QCOMPARE(resolver.locate("inside_link.png").path.value_or(""), real_root + "/data/img/a.png");

        auto dotdot = resolver.locate("../outside/secret.png");
        QVERIFY(!dotdot.path);
        QCOMPARE(dotdot.error, "outside the image roots (the path leads to " + real_outside + "/secret.png)");
        auto absolute = resolver.locate("/etc/passwd");
        QVERIFY(!absolute.path);
        QCOMPARE(absolute.error, std::string("outside the image roots (the path leads to /etc/passwd)"));
        auto link = resolver.locate("data/img/link.png");
        QVERIFY(!link.path);
        QCOMPARE(link.error, "outside the image roots (the path leads to " + real_outside + "/secret.png)");
        auto missing = resolver.locate("data/img/none.png");
        QCOMPARE(missing.error, std::string("not found under 1 image root(s)"));
        QCOMPARE(formats::MediaResolver({}).locate("/etc/passwd").error,
                 std::string("outside the image roots (the path leads to /etc/passwd)"));

        // resolve(): nothing outside is hashed, sized or read.
        store::Media m = resolver.resolve("data/img/link.png");
        QVERIFY(!m.resolved_path);
        QVERIFY(!m.sha256);
        QCOMPARE(m.error.value_or(""), "outside the image roots (the path leads to " + real_outside + "/secret.png)");
        store::Media found = resolver.resolve("data/img/a.png");
        QCOMPARE(found.resolved_path.value_or(""), real_root + "/data/img/a.png");
        QCOMPARE(found.size_bytes.value_or(-1), int64_t(16));
        QCOMPARE(found.error.value_or(""), std::string("not a readable image (unknown or damaged header)"));
    }

    // `matrix export --out` never writes over the project database or an import source, asks before replacing
    // a file (--force), and writes through a symbolic link instead of replacing it.
    void export_targets() {
        const std::string dir = path("export");
        fs::create_directories(dir);
        auto project = store::Project::open(dir + "/p.matrix");
        QVERIFY(project.ok());
        store::Database& db = project->db();
        write(dir + "/source.json", "[]");
        QVERIFY(store::DatasetRepo(db).find_or_create("ds", "mtrace", dir + "/source.json").ok());
        write(dir + "/old.json", "old");
        fs::create_symlink(dir + "/old.json", dir + "/link.json");

        const auto reason = [&](const std::string& out, bool force) {
            auto r = formats::export_target(db, out, force);
            return r.ok() ? "ok " + *r : r.error().to_string();
        };
        QCOMPARE(reason(dir + "/new.json", false), "ok " + dir + "/new.json");
        QCOMPARE(reason(dir + "/p.matrix", true), dir + "/p.matrix: is the project database itself; export to another file");
        QCOMPARE(reason(dir + "/p.matrix-wal", true), dir + "/p.matrix-wal: is the project database itself; export to another file");
        QCOMPARE(reason(dir + "/source.json", true),
                 dir + "/source.json: is the file dataset \"ds\" was imported from; export to another file");
        QCOMPARE(reason(dir + "/old.json", false), dir + "/old.json: exists; choose another file or replace it (--force)");
        QCOMPARE(reason(dir + "/old.json", true), "ok " + dir + "/old.json");
        QCOMPARE(reason(dir + "/link.json", true), "ok " + fs::canonical(dir + "/old.json").string());
        QCOMPARE(reason(dir, true), dir + ": is a folder; give a file name");
        QCOMPARE(reason("/dev/null", true), std::string("/dev/null: is not a regular file"));
        // A real export through the link replaces the target; the link stays a link.
        formats::ExportOptions o;
        o.overwrite = true;
        auto report = formats::export_mtrace(db, "ds", dir + "/link.json", o);
        QVERIFY2(report.ok(), report.ok() ? "" : report.error().to_string().c_str());
        QVERIFY(fs::is_symlink(dir + "/link.json"));
        std::ifstream in(dir + "/old.json");
        QCOMPARE(std::string((std::istreambuf_iterator<char>(in)), {}), std::string("[]\n"));
    }
};

QTEST_GUILESS_MAIN(TestHostileInputs)
#include "test_hostile_inputs.moc"
