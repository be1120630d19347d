// `matrix-workbench --screenshot DIR --project FILE` (and with the demo project): the executable renders every
// main view to PNG offscreen and exits 0; each image exists, windows and dialogs have the sizes the screenshot
// code gives them, every view shows something of its own (no two images are the same, so a view that failed to
// render and left an empty pane shows up as a duplicate) and real content (not one flat colour).
#include <QDir>
#include <QImage>
#include <QMap>
#include <QProcess>
#include <QSet>
#include <QtTest>

#include "tests/ui/ui_fixture.h"

class TestScreenshot : public QObject {
    Q_OBJECT
private slots:
    void fixtureProject();
    void demoProject();

private:
    void runAndCheck(const QStringList& args, const QStringList& expected, const QString& demoDir = {});
};

namespace {
int distinctColours(const QImage& img) {
    QSet<QRgb> colours;
    for (int y = 0; y < img.height(); y += 3)
        for (int x = 0; x < img.width(); x += 3) colours.insert(img.pixel(x, y));
    return int(colours.size());
}
}  // namespace

void TestScreenshot::runAndCheck(const QStringList& args, const QStringList& expected, const QString& demoDir) {
    const QString exe = QStringLiteral(MATRIX_BINARY_DIR "/app/matrix-workbench");
    if (!QFileInfo::exists(exe)) QSKIP("matrix-workbench is not built");
    // MATRIX_SCREENSHOT_DIR keeps the images for a person to look at.
    QTemporaryDir tmp;
    const QString keep = qEnvironmentVariable("MATRIX_SCREENSHOT_DIR");
    struct {
        QString dir;
        QString path() const { return dir; }
    } out{keep.isEmpty() ? tmp.path() : QDir(keep).filePath(demoDir.isEmpty() ? "fixture" : "demo")};
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("QT_QPA_PLATFORM", "offscreen");
    if (!demoDir.isEmpty()) env.insert("MATRIX_DEMO_DIR", demoDir);
    p.setProcessEnvironment(env);
    p.start(exe, QStringList{"--screenshot", out.path()} + args);
    QVERIFY(p.waitForFinished(180000));
    const QString stderrText = QString::fromLocal8Bit(p.readAllStandardError());
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, qPrintable(stderrText));
    const QStringList printed = QString::fromLocal8Bit(p.readAllStandardOutput()).split('\n', Qt::SkipEmptyParts);
    QStringList names;
    for (const QString& f : printed) names << QFileInfo(f).completeBaseName();
    QCOMPARE(names, expected);
    QMap<QString, QImage> images;
    for (const QString& f : printed) {
        QImage img(f);
        QVERIFY2(!img.isNull(), qPrintable(f));
        QVERIFY2(img.width() >= 300 && img.height() >= 200, qPrintable(f));
        QVERIFY2(distinctColours(img) > 30, qPrintable(QStringLiteral("%1: %2 colours").arg(f).arg(distinctColours(img))));
        const QImage rgb = img.convertToFormat(QImage::Format_RGB32);
        for (auto it = images.cbegin(); it != images.cend(); ++it)
            QVERIFY2(it.value() != rgb, qPrintable(QFileInfo(f).completeBaseName() + " is the same image as " + it.key()));
        images.insert(QFileInfo(f).completeBaseName(), rgb);
    }
    QCOMPARE(images.value("main_window").size(), QSize(1600, 1000));
    QCOMPARE(images.value("import_dialog").size(), QSize(640, 420));
    QCOMPARE(images.value("export_dialog").size(), QSize(640, 420));
    QCOMPARE(images.value("agent_run_dialog").size(), QSize(980, 640));
    if (expected.contains("run_comparison_task"))
        QCOMPARE(images.value("run_comparison_task").size(), QSize(1400, 760));
}

void TestScreenshot::fixtureProject() {
    matrix::test::UiFixture fx;
    runAndCheck({"--project", fx.path},
                {"main_window", "task_browser", "trajectory_stepper", "image_viewer", "pair_curation",
                 "dataset_overview", "run_comparison", "training_panel", "evaluate_panel", "trajectory_error_step", "image_viewer_missing", "task_browser_search",
                 "import_dialog", "export_dialog", "action_editor", "action_editor_warnings", "agent_run_dialog"});
}

void TestScreenshot::demoProject() {
    QTemporaryDir demo;
    runAndCheck({},
                {"main_window", "task_browser", "trajectory_stepper", "image_viewer", "pair_curation",
                 "dataset_overview", "run_comparison", "run_comparison_metrics", "run_comparison_tasks",
                 "run_comparison_breakdown", "run_comparison_task", "training_panel", "evaluate_panel", "image_viewer_tool_output", "trajectory_error_step", "image_viewer_missing",
                 "task_browser_search", "import_dialog", "export_dialog", "action_editor", "action_editor_warnings", "agent_run_dialog"},
                demo.path());
}

QTEST_MAIN(TestScreenshot)
#include "test_screenshot.moc"
