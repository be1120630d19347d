// `matrix synth` files -> verify-files with real Office and PDF files: the scripted teacher's programs build an
// XLSX (openpyxl), a DOCX (python-docx) and a PDF (reportlab) in the agent sandbox (Debian's python3, bubblewrap),
// and the query-file verifier receives the text extracted from each (core/formats/documents, the same reader as
// the inspect_file_as_text tool): the exact strings are checked in the requests the server received. A file the
// reader cannot open rejects its task with the reason and the others go on; a long file reaches the verifier cut
// at 20,000 bytes with the line that says so.
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "core/store/project.h"
#include "tests/support/cli_run.h"
#include "tests/support/scripted_teacher.h"

using namespace matrix;
using matrix::testing::run_matrix;
using json = nlohmann::json;

namespace {

std::string first_match(const std::string& text, const std::string& pattern) {
    std::smatch m;
    return std::regex_search(text, m, std::regex(pattern)) ? m[1].str() : std::string();
}

// The five tasks: query -> {file type, content description, program body writing NAME}.
struct FileTask {
    std::string query, type, content, program;
};
const std::vector<FileTask>& file_tasks() {
    static const std::vector<FileTask> tasks = {
        {"What is the total Amount in the attached workbook?", ".xlsx", "sales by region: North 120, South 80.5",
         "from openpyxl import Workbook\nwb = Workbook()\nws = wb.active\nws.title = 'Sales'\n"
         "ws.append(['Region', 'Amount'])\nws.append(['North', 120])\nws.append(['South', 80.5])\nwb.save(NAME)\n"},
        {"When does the meeting in the attached memo take place?", ".docx", "a memo moving the meeting to Friday",
         "import docx\nd = docx.Document()\nd.add_heading('Memo', 1)\n"
         "d.add_paragraph('The meeting moves to Friday at 10:00.')\nd.save(NAME)\n"},
        {"What is the total due on the attached invoice?", ".pdf", "invoice 2024-117, total 342.50 EUR",
         "from reportlab.pdfgen import canvas\nc = canvas.Canvas(NAME)\nc.drawString(72, 720, 'Invoice 2024-117')\n"
         "c.drawString(72, 700, 'Total due: 342.50 EUR')\nc.save()\n"},
        {"What does the attached scanned letter say?", ".pdf", "a scanned letter",
         "with open(NAME, 'wb') as f:\n    f.write(b'this is not a PDF')\n"},
        {"How many characters does the attached log hold?", ".txt", "a long log of x characters",
         "with open(NAME, 'w') as f:\n    f.write('x' * 25000)\n"},
    };
    return tasks;
}

const FileTask* task_for(const std::string& text) {
    for (const FileTask& t : file_tasks())
        if (text.find(t.query) != std::string::npos || text.find(t.content) != std::string::npos) return &t;
    return nullptr;
}

std::string answer(const std::string& kind, const json& req) {
    using testing::ScriptedTeacher;
    const std::string user = ScriptedTeacher::all_text(req["messages"].back());
    if (kind == "queries") {
        json list = json::array();
        for (const FileTask& t : file_tasks()) list.push_back({{"query", t.query}, {"tools", {"inspect_file_as_text"}}, {"needs", "file"}});
        return "```json\n" + list.dump() + "\n```";
    }
    if (kind == "file_content") {
        const FileTask* t = task_for(user);
        if (!t) return "no task";
        return "```json\n" + json{{"information", t->content}, {"file", {{"file_numbers", 1}, {"file_information",
               {{"file_1", {{"file_type", t->type}, {"file_content", t->content}}}}}}}}.dump() + "\n```";
    }
    if (kind == "file_code") {
        const FileTask* t = task_for(user);
        const std::string name = first_match(user, "file named (\\S+) in the current");
        if (!t) return "no task";
        return "Extended content: " + t->content + ".\n```python\nNAME = '" + name + "'\n" + t->program + "```";
    }
    if (kind == "verify_files") return "```json\n{\"thought\": \"the file holds what the task needs\", \"correct\": \"yes\"}\n```";
    return "unexpected request";
}

}  // namespace

class TestCmdSynthFiles : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<testing::ScriptedTeacher> m_teacher;

    testing::CliRun stage(const QString& db, const QString& name, QStringList extra = {}) {
        QStringList args = {"synth", "run", "--db", db, "--stage", name, "--endpoint", QString::fromStdString(m_teacher->url()),
                            "--endpoint-model", "teacher", "--seed", "3", "--set", "retry_base_delay_ms=10"};
        return run_matrix(args + extra, QProcessEnvironment::systemEnvironment(), 600000);
    }

    static std::vector<std::string> column(store::Project& p, const std::string& sql) {
        std::vector<std::string> out;
        auto st = p.db().prepare(sql);
        if (!st.ok()) qFatal("%s", st.error().to_string().c_str());
        while (*st->step()) out.push_back(st->column_text(0));
        return out;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_teacher = std::make_unique<testing::ScriptedTeacher>(answer);
    }

    void office_and_pdf_files_reach_the_verifier_as_text() {
        const QString db = m_dir.path() + "/p.matrix";
        const QString seeds = m_dir.path() + "/seeds.json";
        std::ofstream(seeds.toStdString()) << R"(["Read the attached file and answer."])";
        auto q = stage(db, "queries", {"--seed-file", seeds});
        QVERIFY2(q.code == 0, q.err.constData());
        QVERIFY2(q.out.contains("stage queries: finished, 1 units, 1 done"), q.out.constData());

        // files: each program runs in the sandbox and writes its file; all five are attached (a file that is not
        // what its name says is found by the verifier's reader, not here).
        auto f = stage(db, "files");
        QVERIFY2(f.code == 0, f.err.constData());
        QVERIFY2(f.out.contains("stage files: finished, 5 units, 5 done, 0 rejected, 0 failed"), f.out.constData());
        auto p = store::Project::open(db.toStdString());
        QVERIFY(p.ok());
        std::map<std::string, std::string> path_of;  // query -> the attachment's path as the task names it
        {
            auto st = p->db().prepare("SELECT t.query, m.path, m.resolved_path FROM tasks t JOIN task_media tm ON "
                                      "tm.task_id=t.id JOIN media m ON m.id=tm.media_id WHERE t.source='synth'");
            QVERIFY(st.ok());
            while (*st->step()) {
                path_of[st->column_text(0)] = st->column_text(1);
                std::ifstream in(st->column_text(2), std::ios::binary);
                std::string head(4, '\0');
                in.read(head.data(), 4);
                const std::string type = std::filesystem::path(st->column_text(1)).extension().string();
                if (type == ".xlsx" || type == ".docx") QCOMPARE(head, std::string("PK\x03\x04", 4));  // zip
                if (st->column_text(0) == file_tasks()[2].query) QCOMPARE(head, std::string("%PDF"));
            }
        }
        QCOMPARE(int(path_of.size()), 5);
        for (const FileTask& t : file_tasks())
            QVERIFY2(std::regex_match(path_of[t.query], std::regex("synth/task-[0-9]+/file1\\" + t.type)), path_of[t.query].c_str());

        // verify-files: the broken PDF is rejected with the reader's reason before any request; the other four
        // are asked about with their files' text.
        auto v = stage(db, "verify-files", {"--workers", "2"});
        QVERIFY2(v.code == 0, v.err.constData());
        QVERIFY2(v.out.contains("stage verify-files: finished, 5 units, 4 done, 1 rejected, 0 failed"), v.out.constData());
        QVERIFY2(v.out.contains(("rejected, 0 out, 1 rejected (unreadable file: " + path_of[file_tasks()[3].query] +
                                 ": not a PDF that can be opened (damaged or not a PDF))").c_str()),
                 v.out.constData());
        const auto asked = m_teacher->served("verify_files");
        QCOMPARE(int(asked.size()), 4);
        const std::map<std::string, std::string> expected = {
            {file_tasks()[0].query, "## Sales\n\n| Region | Amount |\n| --- | --- |\n| North | 120 |\n| South | 80.5 |"},
            {file_tasks()[1].query, "Memo\nThe meeting moves to Friday at 10:00."},
            {file_tasks()[2].query, "Invoice 2024-117\nTotal due: 342.50 EUR"},
            {file_tasks()[4].query, std::string(20000, 'x') + "\n[... the document has 25000 characters; the first 20000 are shown]"},
        };
        std::set<std::string> seen;
        for (const auto& s : asked) {
            const std::string user = testing::ScriptedTeacher::all_text(s.request["messages"].back());
            const std::string query = first_match(user, "Task: ([^\\n]+)\\n");
            QVERIFY2(expected.count(query), query.c_str());
            seen.insert(query);
            const size_t from = user.find("Files:\n"), to = user.find("\n\nAnswer with JSON only");
            QVERIFY(from != std::string::npos && to != std::string::npos);
            const std::string files = user.substr(from + 7, to - from - 7);
            QVERIFY2(files == "File 1: " + path_of[query] + "\n" + expected.at(query) + "\n", files.substr(0, 300).c_str());
        }
        QCOMPARE(int(seen.size()), 4);
        // What the verifier was shown is kept with each unit.
        QCOMPARE(column(*p, "SELECT json_extract(output,'$.files[0].as') FROM synth_items WHERE stage='verify-files' "
                            "AND status='done' ORDER BY task_id"),
                 (std::vector<std::string>{"text (xlsx)", "text (docx)", "text (pdf)", "text (text)"}));
        QCOMPARE(column(*p, "SELECT json_extract(output,'$.files[0].truncated') FROM synth_items WHERE "
                            "stage='verify-files' AND status='done' ORDER BY task_id"),
                 (std::vector<std::string>{"0", "0", "0", "1"}));
        QCOMPARE(column(*p, "SELECT reason FROM synth_rejects WHERE stage='verify-files'"),
                 std::vector<std::string>{"unreadable file"});
    }
};

QTEST_GUILESS_MAIN(TestCmdSynthFiles)
#include "test_cmd_synth_files.moc"
