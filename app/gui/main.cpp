// `matrix-workbench`: the desktop GUI entry point.
//   matrix-workbench [PROJECT]             open PROJECT (or the last project; the demo project on first start)
//   matrix-workbench --demo                open the bundled demo project
//   matrix-workbench --screenshot DIR [--project FILE]
//                                          render every main view to DIR/*.png offscreen and exit
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QSettings>
#include <QTemporaryDir>
#include <cstdio>

#include "ui/models/project_session.h"
#include "ui/views/main_window.h"
#include "ui/views/screenshots.h"

int main(int argc, char** argv) {
    // --screenshot needs no display: pick the offscreen platform before QApplication exists.
    bool screenshot = false;
    for (int i = 1; i < argc; ++i)
        if (QByteArray(argv[i]) == "--screenshot") screenshot = true;
    if (screenshot && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");

    QApplication app(argc, argv);
    QApplication::setOrganizationName("MATRIX");
    QApplication::setApplicationName("MATRIX Workbench");
    QApplication::setApplicationVersion(MATRIX_VERSION);

    QCommandLineParser parser;
    parser.setApplicationDescription("MATRIX Workbench: browse trajectories and curate preference pairs");
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption demoOpt("demo", "Open the bundled demo project.");
    QCommandLineOption shotOpt("screenshot", "Render every main view to PNG files in DIR and exit.", "DIR");
    QCommandLineOption projectOpt("project", "The project file to open.", "FILE");
    parser.addOptions({demoOpt, shotOpt, projectOpt});
    parser.addPositionalArgument("project", "The project file to open.", "[PROJECT]");
    parser.process(app);

    QString project = parser.value(projectOpt);
    if (project.isEmpty() && !parser.positionalArguments().isEmpty()) project = parser.positionalArguments().first();

    // Screenshots use throw-away settings, so they neither depend on nor change the user's layout.
    QTemporaryDir settingsDir;
    if (screenshot) {
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settingsDir.path());
    }

    matrix::ui::MainWindow window;
    window.resize(1600, 1000);
    if (!project.isEmpty())
        window.openProject(project);
    else if (parser.isSet(demoOpt) || screenshot)
        window.openDemo();
    else
        window.openStartupProject();

    if (screenshot) {
        QString error;
        QObject::connect(&window, &matrix::ui::MainWindow::projectFailed, [&](const QString& m) { error = m; });
        window.show();
        if (!window.waitForIdle(120000)) {
            std::fprintf(stderr, "matrix-workbench: timed out opening the project\n");
            return 1;
        }
        if (!window.session()->isOpen()) {
            std::fprintf(stderr, "matrix-workbench: %s\n", qPrintable(error.isEmpty() ? QString("no project open") : error));
            return 1;
        }
        const QStringList files = matrix::ui::takeScreenshots(window, parser.value(shotOpt));
        int failed = 0;
        for (const QString& f : files) {
            std::printf("%s\n", qPrintable(f));
            if (f.startsWith("error:")) ++failed;
        }
        return failed ? 1 : 0;
    }
    window.show();
    return app.exec();
}
