// Widgets that take plain data: observation parsing (boxes, image paths), word diff, the image viewer's
// missing-image state and box overlay, collapsible observations and the Python highlighter.
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTextDocument>
#include <QtTest>

#include "ui/widgets/collapsible_text.h"
#include "ui/widgets/image_canvas.h"
#include "ui/widgets/image_viewer.h"
#include "ui/widgets/observation_parse.h"
#include "ui/widgets/python_highlighter.h"
#include "ui/widgets/tool_badges.h"
#include "ui/widgets/word_diff.h"

using namespace matrix::ui;

class TestWidgets : public QObject {
    Q_OBJECT
private slots:
    void boxes_data();
    void boxes();
    void imagePaths();
    void diff_data();
    void diff();
    void viewerMissingImage();
    void viewerLoadsImageWithBoxes();
    void collapsible();
    void highlighter();
    void badges();
};

void TestWidgets::boxes_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("expected");  // "x1,y1,x2,y2;..."
    QTest::newRow("objectlocation") << "[[52, 60, 132, 140], [265, 55, 335, 125]]" << "52,60,132,140;265,55,335,125";
    QTest::newRow("floats") << "found [1.5, 2, 10.25, 20]" << "1.5,2,10.25,20";
    QTest::newRow("not a box (x2<x1)") << "[50, 0, 10, 20]" << "";
    QTest::newRow("three numbers") << "[1, 2, 3]" << "";
    QTest::newRow("empty list") << "[]" << "";
    QTest::newRow("prose with box") << "The car is at [10, 20, 110, 220] in the image." << "10,20,110,220";
}

void TestWidgets::boxes() {
    QFETCH(QString, text);
    QFETCH(QString, expected);
    QStringList parts;
    for (const QRectF& r : parseBoxes(text))
        parts << QStringLiteral("%1,%2,%3,%4").arg(r.left()).arg(r.top()).arg(r.right()).arg(r.bottom());
    QCOMPARE(parts.join(';'), expected);
}

void TestWidgets::imagePaths() {
    QCOMPARE(parseImagePaths("data/matrix-demo/images/edited/a.png\nsaved to /tmp/x.JPG and again a.png, "
                             "data/matrix-demo/images/edited/a.png"),
             QStringList({"data/matrix-demo/images/edited/a.png", "/tmp/x.JPG", "a.png"}));
    QCOMPARE(parseImagePaths("no images here: report.pdf"), QStringList());
}

void TestWidgets::diff_data() {
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<QString>("ops");  // S/R/A per non-space token
    QTest::addColumn<double>("similarity");
    QTest::newRow("identical") << "x = 1" << "x = 1" << "SSS" << 1.0;
    QTest::newRow("one word changed") << "savings = 3000 * 0.20" << "savings = 3000 * 0.25" << "SSSSRA" << 0.8;
    QTest::newRow("all different") << "a b" << "c d" << "RRAA" << 0.0;
    QTest::newRow("insert") << "print(x)" << "y = 2\nprint(x)" << "AAAS" << 0.4;
}

void TestWidgets::diff() {
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(QString, ops);
    QFETCH(double, similarity);
    const auto d = wordDiff(a, b);
    QString got;
    for (const DiffToken& t : d) {
        if (t.text.trimmed().isEmpty()) continue;
        got += t.kind == DiffToken::Kind::Same ? 'S' : t.kind == DiffToken::Kind::Removed ? 'R' : 'A';
    }
    QCOMPARE(got, ops);
    QVERIFY(qAbs(diffSimilarity(d) - similarity) < 1e-9);
    // Each side's HTML holds exactly its own text.
    QTextDocument left, right;
    left.setHtml(diffHtml(d, 0));
    right.setHtml(diffHtml(d, 1));
    QCOMPARE(left.toPlainText(), a);
    QCOMPARE(right.toPlainText(), b);
}

void TestWidgets::viewerMissingImage() {
    ImageViewer viewer;
    viewer.resize(500, 400);
    ViewerImage im;
    im.label = "Picture 1";
    im.path = "data/matrix-demo/images/street_market.jpg";
    im.lookedFor = "/roots/a/street_market.jpg; /roots/b/images/street_market.jpg";
    viewer.setImages({im});
    QCOMPARE(viewer.count(), 1);
    QVERIFY(viewer.canvas()->isMissing());
    QVERIFY(viewer.canvas()->placeholderText().contains("Image not found"));
    QVERIFY(viewer.canvas()->placeholderText().contains(im.path));
    QVERIFY(viewer.canvas()->placeholderText().contains("/roots/b/images/street_market.jpg"));
    QCOMPARE(viewer.infoText(), QString("1/1  missing: data/matrix-demo/images/street_market.jpg"));
}

void TestWidgets::viewerLoadsImageWithBoxes() {
    QTemporaryDir dir;
    QImage img(320, 200, QImage::Format_RGB32);
    img.fill(Qt::red);
    const QString path = dir.filePath("a.png");
    QVERIFY(img.save(path));
    ImageViewer viewer;
    viewer.resize(700, 500);
    viewer.show();
    ViewerImage a;
    a.label = "Picture 1";
    a.path = "images/a.png";
    a.resolvedPath = path;
    a.boxes = parseBoxes("[[10, 10, 50, 60], [100, 20, 200, 120]]");
    ViewerImage b = a;
    b.label = "Step 1 output";
    b.step = 1;
    b.boxes.clear();
    QSignalSpy loaded(&viewer, &ImageViewer::imageLoaded);
    viewer.setImages({a, b});
    QVERIFY(loaded.wait(5000));
    QCOMPARE(viewer.canvas()->imageSize(), QSize(320, 200));
    QVERIFY(!viewer.canvas()->isMissing());
    QCOMPARE(viewer.canvas()->boxes().size(), 2);
    QVERIFY(viewer.infoText().startsWith("1/2  320 \u00d7 200 px"));
    QVERIFY(viewer.infoText().endsWith("2 box(es)"));
    viewer.setBoxesVisible(false);
    QVERIFY(!viewer.canvas()->boxesVisible());
    viewer.canvas()->actualSize();
    QCOMPARE(viewer.canvas()->scale(), 1.0);
    viewer.canvas()->zoomIn();
    QCOMPARE(viewer.canvas()->scale(), 1.25);
    viewer.setCurrentIndex(1);
    QVERIFY(loaded.wait(5000));
    QCOMPARE(viewer.canvas()->boxes().size(), 0);

    // Boxes by the step that returned them: step 2's on step 2, step 4's on step 4, all of them elsewhere.
    a.stepBoxes[2] = {a.boxes[0]};
    a.stepBoxes[4] = {a.boxes[1]};
    viewer.setImages({b, a});
    QVERIFY(loaded.wait(5000));
    QCOMPARE(viewer.indexWithBoxesOfStep(4), 1);
    QCOMPARE(viewer.indexWithBoxesOfStep(3), -1);
    viewer.setCurrentIndex(1);
    viewer.setStep(2);
    QCOMPARE(viewer.canvas()->boxes(), QVector<QRectF>{QRectF(QPointF(10, 10), QPointF(50, 60))});
    viewer.setStep(4);
    QCOMPARE(viewer.canvas()->boxes(), QVector<QRectF>{QRectF(QPointF(100, 20), QPointF(200, 120))});
    viewer.setStep(3);
    QCOMPARE(viewer.canvas()->boxes().size(), 2);
    viewer.setStep(-1);
    QCOMPARE(viewer.canvas()->boxes().size(), 2);
}

void TestWidgets::collapsible() {
    CollapsibleText t(nullptr, 3);
    t.setText("l1\nl2\nl3\nl4\nl5");
    QVERIFY(t.isCollapsible());
    QVERIFY(t.isCollapsed());
    QCOMPARE(t.editor()->toPlainText(), QString("l1\nl2\nl3\n\u2026"));
    t.setCollapsed(false);
    QCOMPARE(t.editor()->toPlainText(), QString("l1\nl2\nl3\nl4\nl5"));
    t.setText("short", true);
    QVERIFY(!t.isCollapsible());
    QVERIFY(t.isError());
    QCOMPARE(t.editor()->toPlainText(), QString("short"));
}

void TestWidgets::highlighter() {
    QTextDocument doc;
    PythonHighlighter h(&doc);
    doc.setPlainText("boxes = objectlocation(object=\"red # circle\", image_path=p)  # find\nfor b in boxes: print(12)");
    h.rehighlight();
    auto fmtAt = [&](int block, int pos) {
        const QTextBlock b = doc.findBlockByNumber(block);
        for (const QTextLayout::FormatRange& r : b.layout()->formats())
            if (pos >= r.start && pos < r.start + r.length) return r.format;
        return QTextCharFormat();
    };
    QCOMPARE(fmtAt(0, 8).foreground().color(), h.formatFor("tool").foreground().color());     // objectlocation
    QCOMPARE(fmtAt(0, 32).foreground().color(), h.formatFor("string").foreground().color());  // inside "..."
    QCOMPARE(fmtAt(0, 38).foreground().color(), h.formatFor("string").foreground().color());  // '#' in string
    QCOMPARE(fmtAt(0, 62).foreground().color(), h.formatFor("comment").foreground().color()); // # find
    QCOMPARE(fmtAt(1, 0).foreground().color(), h.formatFor("keyword").foreground().color());  // for
    QCOMPARE(fmtAt(1, 16).foreground().color(), h.formatFor("builtin").foreground().color()); // print
    QCOMPARE(fmtAt(1, 22).foreground().color(), h.formatFor("number").foreground().color());  // 12
}

void TestWidgets::badges() {
    ToolBadges b;
    b.setBadges({{"objectlocation", "object=\"apple\"", true}, {"my_tool", "1", false}});
    QVERIFY(b.text().contains("objectlocation"));
    QVERIFY(b.toolTip().contains("my_tool(1)  [unknown tool]"));
    b.setBadges({});
    QVERIFY(b.text().contains("no tool calls"));
}

QTEST_MAIN(TestWidgets)
#include "test_widgets.moc"
