// core/formats/documents called directly, as the synthesis verifier does (the inspect_file_as_text plugin's test
// checks every format through the tool; both link the one matrix_documents library): Office files from
// tests/data/documents, the kinds, errors that name the file, and the cap that keeps whole UTF-8 characters.
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

#ifdef MATRIX_HAVE_DOCUMENTS
#include "core/formats/documents/document_text.h"
#endif

class TestDocumentText : public QObject {
    Q_OBJECT

#ifdef MATRIX_HAVE_DOCUMENTS
    static std::string data(const char* name) { return std::string(MATRIX_SOURCE_DIR) + "/tests/data/documents/" + name; }
#endif

private slots:
    void office_files() {
#ifndef MATRIX_HAVE_DOCUMENTS
        QSKIP("built without poppler-cpp / libarchive");
#else
        using namespace matrix::formats;
        QCOMPARE(document_kind(data("report.docx")), std::string("docx"));
        QCOMPARE(document_kind(data("sales.xlsx")), std::string("xlsx"));
        auto docx = document_text(data("report.docx"));
        QVERIFY(docx.ok());
        QCOMPARE(*docx, std::string("Quarterly report\nRevenue grew by 12% to 4.2 million & costs fell.\nRegion\tNorth"));
        auto xlsx = document_text(data("sales.xlsx"));
        QVERIFY(xlsx.ok());
        QCOMPARE(*xlsx, std::string("## Sales\n\n| Item | Price |  |\n| --- | --- | --- |\n| Tea | 3.5 |  |\n| Coffee |  | TRUE |"
                                    "\n\n## Notes\n\n| prices in EUR |\n| --- |"));
#endif
    }

    void errors_name_the_file() {
#ifndef MATRIX_HAVE_DOCUMENTS
        QSKIP("built without poppler-cpp / libarchive");
#else
        using namespace matrix::formats;
        QTemporaryDir dir;
        const std::string pdf = dir.filePath("scan.pdf").toStdString();
        std::ofstream(pdf) << "this is not a PDF";
        auto r = document_text(pdf);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().to_string(), pdf + ": not a PDF that can be opened (damaged or not a PDF)");
        const std::string docx = dir.filePath("memo.docx").toStdString();
        std::ofstream(docx) << "PK but not a zip";
        auto d = document_text(docx);
        QVERIFY(!d.ok());
        QCOMPARE(d.error().context, docx);
        QVERIFY2(d.error().message.rfind("not a readable Office file (zip): ", 0) == 0, d.error().message.c_str());
#endif
    }

    void cap_keeps_whole_characters() {
#ifndef MATRIX_HAVE_DOCUMENTS
        QSKIP("built without poppler-cpp / libarchive");
#else
        using matrix::formats::cap_document_text;
        QCOMPARE(cap_document_text("short", 5), std::string("short"));
        QCOMPARE(cap_document_text("abcdef", 4), std::string("abcd\n[... the document has 6 characters; the first 4 are shown]"));
        // "é" is 2 bytes: a cut at byte 2 would split it, so 1 byte is kept ("characters" counts bytes, as before).
        QCOMPARE(cap_document_text("a\xC3\xA9z", 2), std::string("a\n[... the document has 4 characters; the first 1 are shown]"));
#endif
    }
};

QTEST_GUILESS_MAIN(TestDocumentText)
#include "test_document_text.moc"
