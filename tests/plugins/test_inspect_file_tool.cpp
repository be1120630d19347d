// The inspect_file_as_text plugin: every format's text exactly (DOCX/XLSX/PPTX from tests/data/documents, made by
// its make_documents.py; CSV, JSON, HTML, plain text and a PDF written here with QPdfWriter), the 70,000-character
// cut, a question answered by a lent engine (a stand-in that records its prompt) or, without one, the text with a
// note, and the errors for what it cannot read.
#include <QPainter>
#include <QPdfWriter>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#include "tests/support/tool_plugins.h"

using namespace matrix;

class TestInspectFileTool : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    agent::ToolRegistry m_tools;

    std::string write(const std::string& name, const std::string& content) {
        const std::string file = m_dir.filePath(QString::fromStdString(name)).toStdString();
        std::ofstream(file, std::ios::binary) << content;
        return file;
    }
    Result<nlohmann::json> inspect(const agent::ToolRegistry& tools, const nlohmann::json& args) {
        return test::call_tool(tools, "inspect_file_as_text", args, m_dir.path().toStdString());
    }
    std::string text_of(const std::string& file) {
        auto r = inspect(m_tools, {{"file_path", file}});
        if (!r.ok()) return "ERROR " + r.error().to_string();
        return r->get<std::string>();
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_tools = test::build_tool_plugins();
        QVERIFY(m_tools.find("inspect_file_as_text"));
        const agent::ToolStatus s = m_tools.find("inspect_file_as_text")->status();
        QCOMPARE(s.available, true);
        QVERIFY2(s.backend.find("questions: no model") != std::string::npos, s.backend.c_str());
    }

    void office_formats() {
        QCOMPARE(text_of(test::test_data("documents/report.docx")),
                 std::string("Quarterly report\nRevenue grew by 12% to 4.2 million & costs fell.\nRegion\tNorth"));
        QCOMPARE(text_of(test::test_data("documents/sales.xlsx")),
                 std::string("## Sales\n\n| Item | Price |  |\n| --- | --- | --- |\n| Tea | 3.5 |  |\n| Coffee |  | TRUE |"
                             "\n\n## Notes\n\n| prices in EUR |\n| --- |"));
        // slide10 comes after slide2 (numeric order, not name order).
        QCOMPARE(text_of(test::test_data("documents/deck.pptx")),
                 std::string("## Slide 1\n\nLaunch plan\nShip in May\n\n## Slide 2\n\nRisks\n\n## Slide 3\n\nAppendix"));
    }

    void text_formats() {
        QCOMPARE(text_of(write("t.csv", "name,note\r\n\"Smith, J\",\"said \"\"hi\"\"\"\nLee,a|b\n")),
                 std::string("| name | note |\n| --- | --- |\n| Smith, J | said \"hi\" |\n| Lee | a\\|b |"));
        QCOMPARE(text_of(write("t.json", "{\"b\":[1,2],\"a\":\"x\"}")), std::string("{\n  \"a\": \"x\",\n  \"b\": [\n    1,\n    2\n  ]\n}"));
        QCOMPARE(text_of(write("t.html", "<html><head><title>T</title><style>p{}</style></head><body>"
                                         "<h1>Menu</h1><script>var x = '<p>no</p>';</script><p>Soup &amp; bread&nbsp;&#8364;5</p>"
                                         "<ul><li>tea</li><li>coffee</li></ul><!-- hidden --></body></html>")),
                 std::string("# Menu\n\nSoup & bread \u20ac5\n\n- tea\n- coffee"));
        QCOMPARE(text_of(write("notes.txt", "\xEF\xBB\xBFline one\nline two\n")), std::string("line one\nline two\n"));
        QCOMPARE(text_of(write("noext", "plain words")), std::string("plain words"));
    }

    void pdf() {
        const QString file = m_dir.filePath("invoice.pdf");
        {
            QPdfWriter writer(file);
            QPainter p(&writer);
            QFont font("DejaVu Sans");
            font.setPointSize(14);
            p.setFont(font);
            p.drawText(QPointF(200, 400), "Invoice number 4711");
            writer.newPage();
            p.drawText(QPointF(200, 400), "Total due: 99 EUR");
        }
        const std::string text = text_of(file.toStdString());
        QVERIFY2(text.rfind("## Page 1\n\n", 0) == 0, text.c_str());
        QVERIFY2(text.find("Invoice number 4711") != std::string::npos, text.c_str());
        QVERIFY2(text.find("## Page 2\n\n") != std::string::npos, text.c_str());
        QVERIFY2(text.find("Total due: 99 EUR") > text.find("## Page 2"), text.c_str());
        QCOMPARE(QString::fromStdString(text_of(write("fake.pdf", "%PDF-1.4 nothing else"))).left(6), QString("ERROR "));
    }

    void long_text_is_cut() {
        const std::string text = text_of(write("long.txt", std::string(70010, 'a')));
        QCOMPARE(text, std::string(70000, 'a') + "\n[... the document has 70010 characters; the first 70000 are shown]");
    }

    void question_without_and_with_an_engine() {
        const std::string file = write("q.txt", "The meeting is on Tuesday.");
        auto noted = inspect(m_tools, {{"file_path", file}, {"question", "When is the meeting?"}});
        QVERIFY(noted.ok());
        QCOMPARE(noted->get<std::string>(), std::string("No model is configured to answer questions about files here, so "
                                                        "here is the file's text; read the answer from it.\n\nThe meeting is on Tuesday."));
        agent::ToolHost host;
        std::vector<std::vector<tok::ChatMessage>> seen;
        host.vlm.backend = "stand-in engine";
        host.vlm.generate = [&](const std::vector<tok::ChatMessage>& m, int max_new_tokens) -> Result<std::string> {
            seen.push_back(m);
            return std::string("Tuesday (") + std::to_string(max_new_tokens) + ")";
        };
        agent::ToolRegistry tools = test::build_tool_plugins(host);
        QCOMPARE(tools.find("inspect_file_as_text")->status().backend.substr(tools.find("inspect_file_as_text")->status().backend.find("questions: ")),
                 std::string("questions: stand-in engine"));
        auto answered = inspect(tools, {{"file_path", "q.txt"}, {"question", "When is the meeting?"}});
        QVERIFY(answered.ok());
        QCOMPARE(answered->get<std::string>(), std::string("Tuesday (512)"));
        QCOMPARE(seen.size(), size_t(1));
        QCOMPARE(seen[0].size(), size_t(1));
        QCOMPARE(seen[0][0].content[0].text, std::string("Here is the content of the file q.txt:\n\nThe meeting is on Tuesday.\n\n"
                                                         "Answer this question about the file, using only its content: When is the meeting?"));
        // An engine that fails: the error says so.
        host.vlm.generate = [](const std::vector<tok::ChatMessage>&, int) -> Result<std::string> { return make_error("out of memory"); };
        agent::ToolRegistry failing = test::build_tool_plugins(host);
        auto failed = inspect(failing, {{"file_path", "q.txt"}, {"question", "When?"}});
        QCOMPARE(test::error_of(failed), std::string("inspect_file_as_text: the engine failed: out of memory"));
    }

    void what_it_cannot_read() {
        QCOMPARE(test::error_of(inspect(m_tools, {{"file_path", write("a.bin", std::string("\x00\x01\x02\xff", 4))}})),
                 "inspect_file_as_text: " + m_dir.filePath("a.bin").toStdString() + ": not a document this tool can read (a binary file)");
        QCOMPARE(test::error_of(inspect(m_tools, {{"file_path", "song.mp3"}})), std::string("inspect_file_as_text: no such file: song.mp3"));
        write("song.mp3", "ID3");
        QCOMPARE(test::error_of(inspect(m_tools, {{"file_path", "song.mp3"}})),
                 std::string("inspect_file_as_text: song.mp3: audio files need a transcription endpoint, and none is configured"));
        QCOMPARE(test::error_of(inspect(m_tools, {{"file_path", test::data_image("receipt.jpg")}})),
                 "inspect_file_as_text: " + test::data_image("receipt.jpg") + ": this is an image, not a document: use visualizer or ocr on it");
        write("broken.docx", "PK not really");
        QCOMPARE(test::error_of(inspect(m_tools, {{"file_path", "broken.docx"}})).substr(0, 58),
                 std::string("inspect_file_as_text: broken.docx: not a readable Office f"));
        QCOMPARE(test::error_of(inspect(m_tools, {{"file_path", 12}})),
                 std::string("inspect_file_as_text: file_path must be a string, got a number"));
        QCOMPARE(test::error_of(inspect(m_tools, {{"file_path", "q.txt"}, {"question", {1, 2}}})),
                 std::string("inspect_file_as_text: question must be a string, got a list"));
        QCOMPARE(test::error_of(inspect(m_tools, nlohmann::json::object())), std::string("inspect_file_as_text: missing argument file_path"));
    }
};

QTEST_MAIN(TestInspectFileTool)
#include "test_inspect_file_tool.moc"
