// `--max-record-bytes` through the built `matrix`: `import` (M-TRACE), `bench load` (GTA) and `bench import-run`
// (JSONL) refuse the record over the limit with one stderr line naming file, record, byte offset and size, keep
// the others, and reject a malformed value as a usage error. And memory in proportion to the input: each of the
// three, run as a child process on a record with a 12 MB string field (under the default 16 MiB limit), peaks
// (ru_maxrss) under `matrix version`'s RSS + 12x the field for `import`, + 6x for `bench import-run` (scored as
// it is stored, not read back), + 16x for `bench load` (its task row held the field five times, query, prompt and
// three times in the item's JSON; once since migration 13). Measured (bench/hostile_rss.py): 9.2x, 3.6x and
// 11.4x; before issue 17's work 14.5x, 10.4x and 27x (bench/results/hostile_inputs.md).
#include <QTemporaryDir>
#include <QtTest>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/store/project.h"
#include "tests/support/cli_run.h"

using nlohmann::json;

namespace {

void write(const std::string& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
}

std::string mtrace_record(int i, size_t pad = 0) {
    return json{{"id", "t" + std::to_string(i)},
                {"conversations",
                 {{{"from", "user"}, {"value", "Find answer " + std::to_string(i) + std::string(pad, 'x')}},
                  {{"from", "assistant"},
                   {"value", "Thought: done\nCode:\n```py\nfinal_answer('" + std::to_string(i) + "')\n```<end_action>"}}}}}
        .dump();
}
std::string gta_item(const std::string& query) {
    return json{{"tools", json::array()},
                {"files", json::array()},
                {"dialogs", {{{"role", "user"}, {"content", query}}, {{"role", "assistant"}, {"content", "a"}}}},
                {"gt_answer", {{"whitelist", {{"a"}}}, {"blacklist", nullptr}}}}
        .dump();
}
std::string run_line(int i, size_t pad = 0) {
    return json{{"task_id", std::to_string(i)}, {"answer", "a" + std::string(pad, 'z')}}.dump();
}

// Peak resident set (KiB) of `matrix ARGS` run as a child with its output discarded; -1 when it failed.
long max_rss_kib(const QStringList& args) {
    std::vector<std::string> owned = {matrix::testing::matrix_binary().toStdString()};
    for (const auto& a : args) owned.push_back(a.toStdString());
    std::vector<char*> argv;
    for (auto& s : owned) argv.push_back(s.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        const int null = ::open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(argv[0], argv.data());
        _exit(127);
    }
    int status = 0;
    rusage usage{};
    if (wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
    return usage.ru_maxrss;
}

}  // namespace

class TestCmdRecordLimit : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString path(const QString& name) const { return m_dir.path() + "/" + name; }
    std::string spath(const QString& name) const { return path(name).toStdString(); }

private slots:
    void import_names_the_big_record() {
        QVERIFY(m_dir.isValid());
        const std::string head = "[" + mtrace_record(0) + ", " + mtrace_record(1) + ", ";
        const std::string big = mtrace_record(2, 3000);
        write(spath("m.json"), head + big + ", " + mtrace_record(3) + "]");
        auto r = matrix::testing::run_matrix({"import", "--db", path("p.matrix"), "--format", "mtrace", "--quiet",
                                              "--max-record-bytes", "2048", path("m.json")});
        QCOMPARE(r.code, 1);  // a record was rejected
        QCOMPARE(QString::fromUtf8(r.out), QString("records 4, imported 3, already present 0, rejected 1, syntax errors 0, "
                                                   "missing media 0\n"));
        QCOMPARE(QString::fromUtf8(r.err),
                 path("m.json") + QString(": record 2 (byte %1): the record is 3,164 bytes, over the 2,048 bytes per-record "
                                          "limit (--max-record-bytes)\n").arg(head.size()));
        QCOMPARE(big.size(), size_t(3164));
        auto bad = matrix::testing::run_matrix({"import", "--db", path("p.matrix"), "--format", "mtrace",
                                                "--max-record-bytes", "2k", path("m.json")});
        QCOMPARE(bad.code, 2);
        QCOMPARE(QString::fromUtf8(bad.err),
                 QString("matrix import: --max-record-bytes must be a number of bytes (0 = no limit), not '2k'\n"));
    }

    void bench_load_and_import_run_name_the_big_record() {
        const std::string head = "{\"0\": " + gta_item("first") + ", \"5\": ";
        write(spath("dataset.json"), head + gta_item(std::string(2000, 'q')) + ", \"9\": " + gta_item("last") + "}");
        auto load = matrix::testing::run_matrix({"bench", "load", "--db", path("b.matrix"), "--benchmark", "gta",
                                                 "--max-record-bytes", "1000", path("dataset.json")});
        QCOMPARE(load.code, 0);
        QCOMPARE(QString::fromUtf8(load.err),
                 "warning: " + path("dataset.json") +
                     QString(": item 5 (byte %1): the record is 2,150 bytes, over the 1,000 bytes per-record limit "
                             "(--max-record-bytes)\n").arg(head.size()));
        QVERIFY2(load.out.startsWith("dataset 1: 2 items added, 0 already present, 2 gold trajectories"), load.out.constData());

        const std::string line0 = run_line(0);
        write(spath("run.jsonl"), line0 + "\n" + run_line(5, 2000) + "\n" + run_line(9) + "\n");
        auto run = matrix::testing::run_matrix({"bench", "import-run", "--db", path("b.matrix"), "--benchmark", "gta",
                                                "--format", "jsonl", "--max-record-bytes", "1000", path("run.jsonl")});
        QCOMPARE(run.code, 0);
        QCOMPARE(QString::fromUtf8(run.err),
                 "warning: " + path("run.jsonl") +
                     QString(":2 (byte %1): the record is 2,028 bytes, over the 1,000 bytes per-record limit "
                             "(--max-record-bytes)\n").arg(line0.size() + 1));
        QCOMPARE(QString::fromUtf8(run.out), QString("imported 2 task results (1 warnings)\n1\n"));
    }

    // Memory in proportion to the input: a 12 MB field costs a bounded multiple of its size over the program's own
    // RSS (see the file's head for the bounds and the figures).
    void memory_bounded_by_the_field() {
        const size_t field = 12'000'000;
        const long base = max_rss_kib({"version"});
        QVERIFY(base > 0);
        const auto bound = [&](int times) { return base + long(times * field / 1024); };
        write(spath("m12.json"), "[" + mtrace_record(0) + ", " + mtrace_record(1, field) + ", " + mtrace_record(2) + "]");
        write(spath("gta12.json"), "{\"0\": " + gta_item("q0") + ", \"1\": " + gta_item(std::string(field, 'y')) +
                                       ", \"2\": " + gta_item("q2") + "}");
        write(spath("run12.jsonl"), run_line(0) + "\n" + run_line(1, field) + "\n" + run_line(2) + "\n");
        const long mtrace = max_rss_kib({"import", "--db", path("m12.matrix"), "--format", "mtrace", "--quiet", path("m12.json")});
        const long load = max_rss_kib({"bench", "load", "--db", path("g12.matrix"), "--benchmark", "gta", path("gta12.json")});
        const long run = max_rss_kib({"bench", "import-run", "--db", path("r12.matrix"), "--benchmark", "gta", "--format",
                                      "jsonl", path("run12.jsonl")});
        qInfo("max RSS (KiB): version %ld, import %ld, bench load %ld, import-run %ld", base, mtrace, load, run);
        QVERIFY(mtrace > 0 && load > 0 && run > 0);
        QVERIFY2(mtrace < bound(12), "matrix import (M-TRACE) used more than 12x the field");
        QVERIFY2(run < bound(6), "matrix bench import-run (jsonl) used more than 6x the field");
        QVERIFY2(load < bound(16), "matrix bench load (GTA) used more than 16x the field");
        // And the field arrived whole.
        const auto length = [&](const QString& db, const std::string& sql) {
            auto p = matrix::store::Project::open(db.toStdString());
            if (!p.ok()) return int64_t(-1);
            auto n = p->db().query_int64(sql);
            return n.ok() ? n.value() : int64_t(-2);
        };
        // The prompt equals the query here: stored once since migration 13 (prompt_is_query, core/store/query_refs.h).
        QCOMPARE(length(path("m12.matrix"), "SELECT length(COALESCE(prompt_text, CASE WHEN prompt_is_query THEN query END)) "
                                            "FROM tasks WHERE external_id='t1'"),
                 int64_t(12000013));
        QCOMPARE(length(path("m12.matrix"), "SELECT prompt_is_query FROM tasks WHERE external_id='t1'"), int64_t(1));
        QCOMPARE(length(path("g12.matrix"), "SELECT length(query) FROM tasks WHERE external_id='1'"), int64_t(12000000));
        QCOMPARE(length(path("r12.matrix"), "SELECT length(answer) FROM run_results WHERE task_key='1'"), int64_t(12000001));
    }
};

QTEST_GUILESS_MAIN(TestCmdRecordLimit)
#include "test_cmd_record_limit.moc"
