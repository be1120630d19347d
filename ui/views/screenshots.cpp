// takeScreenshots (see screenshots.h).
#include "ui/views/screenshots.h"

#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QEventLoop>
#include <QLineEdit>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <algorithm>

#include <QPlainTextEdit>

#include "ui/models/pair_curation_model.h"
#include "ui/models/project_session.h"
#include "ui/models/run_list_model.h"
#include "ui/models/task_table_model.h"
#include "ui/views/agent_run_bar.h"
#include "ui/views/agent_run_dialog.h"
#include "ui/views/import_dialog.h"
#include "ui/views/main_window.h"
#include "ui/views/pair_curation_view.h"
#include "ui/views/run_compare_pane.h"
#include "ui/views/run_compare_task_view.h"
#include "ui/views/task_browser.h"
#include "ui/views/trajectory_view.h"
#include "ui/widgets/action_editor.h"
#include "ui/widgets/image_viewer.h"
#include "ui/widgets/overview_charts.h"

namespace matrix::ui {

namespace {
// Selects the first loaded task for which `pred` holds; returns false when none.
template <class Pred>
bool selectTask(MainWindow& w, Pred pred) {
    TaskTableModel* m = w.browser()->model();
    for (int row = 0; row < m->rowCount(); ++row) {
        if (pred(m->summary(row))) {
            w.browser()->selectRow(row);
            w.waitForIdle();
            return true;
        }
    }
    return false;
}
}  // namespace

QStringList takeScreenshots(MainWindow& w, const QString& dir) {
    QStringList written;
    QDir().mkpath(dir);
    auto save = [&](QWidget* widget, const QString& name) {
        w.waitForIdle();
        const QString path = QDir(dir).absoluteFilePath(name + QStringLiteral(".png"));
        if (widget->grab().save(path))
            written << path;
        else
            written << QStringLiteral("error: cannot write %1").arg(path);
    };
    w.waitForIdle();
    // A task with boxes and pairs (objectlocation results); then one with a tool-produced image.
    // The demo's shapes task (boxes, and pairs through its Pref-X twin), else any task with boxes and pairs.
    if (!selectTask(w, [](const store::TaskSummary& t) { return t.external_id == "sh2Rc6Ku"; }) &&
        !selectTask(w, [](const store::TaskSummary& t) {
            return t.tools.find("objectlocation") != std::string::npos && t.pairs_pending + t.pairs_approved + t.pairs_rejected > 0;
        }))
        w.browser()->selectRow(0);
    w.waitForIdle();
    w.trajectory()->setCurrentStep(0);
    w.dock("dock_curation")->raise();
    save(&w, QStringLiteral("main_window"));
    save(w.browser(), QStringLiteral("task_browser"));
    save(w.trajectory(), QStringLiteral("trajectory_stepper"));
    save(w.imageViewer(), QStringLiteral("image_viewer"));
    save(w.curationView(), QStringLiteral("pair_curation"));
    w.dock("dock_overview")->raise();
    save(w.overview(), QStringLiteral("dataset_overview"));
    w.dock("dock_runs")->raise();
    save(w.dock("dock_runs")->widget(), QStringLiteral("run_comparison"));
    // With evaluation runs in the project: the newest three (or two) compared, each tab, and one task view.
    if (auto* pane = qobject_cast<RunComparePane*>(w.dock("dock_runs")->widget()); pane && pane->runModel()->rowCount() >= 2) {
        QVector<qint64> ids;
        for (int row = 0; row < std::min(3, pane->runModel()->rowCount()); ++row) ids << pane->runModel()->run(row).id;
        std::sort(ids.begin(), ids.end());
        QEventLoop loop;
        QObject::connect(pane, &RunComparePane::comparisonReady, &loop, &QEventLoop::quit);
        QObject::connect(pane, &RunComparePane::comparisonFailed, &loop, &QEventLoop::quit);
        QTimer::singleShot(120000, &loop, &QEventLoop::quit);
        pane->selectRuns(ids);
        pane->compareRuns(ids);
        loop.exec();
        if (pane->comparison()) {
            for (int tab = 0; tab < pane->tabs()->count(); ++tab) {
                pane->tabs()->setCurrentIndex(tab);
                static const char* names[] = {"run_comparison_metrics", "run_comparison_tasks", "run_comparison_breakdown"};
                if (tab < 3) save(pane, QString::fromLatin1(names[tab]));
            }
            pane->tabs()->setCurrentIndex(0);
            if (!pane->comparison()->tasks.empty()) {
                RunCompareTaskView* view = nullptr;
                QEventLoop opened;
                QObject::connect(pane, &RunComparePane::taskOpened, &opened, [&](RunCompareTaskView* v) {
                    view = v;
                    opened.quit();
                });
                QTimer::singleShot(30000, &opened, &QEventLoop::quit);
                pane->openTask(QString::fromStdString(pane->comparison()->tasks.front().task_id));
                opened.exec();
                if (view) {
                    view->resize(1400, 760);
                    view->show();
                    save(view, QStringLiteral("run_comparison_task"));
                    view->close();
                }
            }
        }
    }
    w.dock("dock_training")->raise();
    save(w.dock("dock_training")->widget(), QStringLiteral("training_panel"));
    if (QDockWidget* evaluate = w.dock("dock_evaluate")) {
        evaluate->raise();
        w.waitForIdle();
        save(evaluate->widget(), QStringLiteral("evaluate_panel"));
    }
    w.dock("dock_curation")->raise();

    // A step whose tool produced an image (image_edit / segmentation), and an error step.
    if (selectTask(w, [](const store::TaskSummary& t) { return t.tools.find("image_edit") != std::string::npos; })) {
        w.trajectory()->setCurrentStep(1);
        save(w.imageViewer(), QStringLiteral("image_viewer_tool_output"));
    }
    if (selectTask(w, [](const store::TaskSummary& t) { return t.tools.find("inspect_file_as_text") != std::string::npos; })) {
        w.trajectory()->setCurrentStep(0);
        save(w.trajectory(), QStringLiteral("trajectory_error_step"));
    }
    if (selectTask(w, [](const store::TaskSummary& t) { return t.n_missing_media > 0; }))
        save(w.imageViewer(), QStringLiteral("image_viewer_missing"));

    // The browser filtered by a full-text search.
    w.browser()->searchBox()->setText(QStringLiteral("receipt"));
    w.browser()->applyFilter();
    w.waitForIdle();
    save(w.browser(), QStringLiteral("task_browser_search"));
    w.browser()->searchBox()->clear();
    w.browser()->applyFilter();
    w.waitForIdle();

    // Dialogs.
    {
        ImportDialog d(w.session()->path(), DataFormat::Mtrace, &w);
        d.setFile(QStringLiteral("/data/mtrace/mtrace-train.json"));
        d.setImageRoots({QStringLiteral("/data/images")});
        d.resize(640, 420);
        d.show();
        save(&d, QStringLiteral("import_dialog"));
    }
    {
        ExportDialog d(w.session()->path(), {QStringLiteral("demo-prefx"), QStringLiteral("demo-scenes")}, &w);
        d.setFormat(DataFormat::Prefx);
        d.setFile(QStringLiteral("/tmp/prefx-approved.json"));
        d.resize(640, 420);
        d.show();
        save(&d, QStringLiteral("export_dialog"));
    }
    if (w.curation()->current().valid()) {
        ActionEditor e(&w);
        e.setAction(w.curation()->current().chosenAction);
        e.show();
        save(&e, QStringLiteral("action_editor"));
        e.codeEdit()->setPlainText(QStringLiteral("boxes = objectlocaton(object=\"apple\", image_path=path\nprint(boxes)"));
        save(&e, QStringLiteral("action_editor_warnings"));
    }
    written << takeAgentScreenshots(w, dir);
    return written;
}

QStringList takeAgentScreenshots(MainWindow& w, const QString& dir, const QString& suffix) {
    QStringList written;
    QDir().mkpath(dir);
    auto save = [&](QWidget* widget, const QString& name) {
        QApplication::processEvents();
        const QString path = QDir(dir).absoluteFilePath(name + suffix + QStringLiteral(".png"));
        if (widget->grab().save(path))
            written << path;
        else
            written << QStringLiteral("error: cannot write %1").arg(path);
    };
    const TaskData& t = w.currentTask();
    if (t.valid()) {
        AgentRunDialog d(t.id, QStringLiteral("%1 \u00b7 %2").arg(t.externalId, t.query.left(200)), &w);
        d.resize(980, 640);
        d.show();
        save(&d, QStringLiteral("agent_run_dialog"));
    }
    if (!w.agentBar()->isHidden() || w.agentBar()->runId() > 0) save(w.centralWidget(), QStringLiteral("agent_run"));
    return written;
}

}  // namespace matrix::ui
