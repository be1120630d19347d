// MainWindow: panes, menus, toolbar, status bar and the wiring between them (see main_window.h).
#include "ui/views/main_window.h"

#include "ui/models/job_list_model.h"

#include <utility>

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDeadlineTimer>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QStatusBar>
#include <QTableView>
#include <QThread>
#include <QToolBar>
#include <QVBoxLayout>
#include <QUndoStack>

#include "core/store/dataset_repo.h"
#include "core/store/stats.h"
#include "ui/models/demo_project.h"
#include "ui/models/pair_curation_model.h"
#include "ui/models/project_session.h"
#include "ui/models/task_data_loader.h"
#include "ui/models/task_table_model.h"
#include "ui/settings.h"
#include "ui/views/agent_run_bar.h"
#include "ui/views/agent_run_dialog.h"
#include "ui/views/evaluate_panel.h"
#include "ui/views/synthesis_panel.h"
#include "ui/views/import_dialog.h"
#include "ui/views/pair_curation_view.h"
#include "ui/views/run_compare_pane.h"
#include "ui/views/sample_panel.h"
#ifdef MATRIX_HAVE_TORCH
#include "ui/views/training_panel.h"
#endif
#include "ui/views/trajectory_view.h"
#include "ui/widgets/action_editor.h"
#include "ui/widgets/image_canvas.h"
#include "ui/widgets/image_viewer.h"
#include "ui/widgets/overview_charts.h"
#include "ui/workers/background_job.h"

namespace matrix::ui {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent),
      m_session(new ProjectSession(this)),
      m_browser(new TaskBrowser(m_session, this)),
      m_trajectory(new TrajectoryView(this)),
      m_images(new ImageViewer(this)),
      m_curation(new PairCurationModel(m_session, this)),
      m_curationView(new PairCurationView(this)),
      m_overview(new OverviewCharts(this)),
      m_pathLabel(new QLabel(this)),
      m_countsLabel(new QLabel(this)),
      m_progressLabel(new QLabel(this)),
      m_busy(new QProgressBar(this)),
      m_demoJob(new BackgroundJob(this)),
      m_agentThread(new QThread(this)),
      m_agentWorker(new AgentWorker),
      m_agentBar(new AgentRunBar(this)) {
    setWindowTitle(tr("MATRIX Workbench"));
    setObjectName("MainWindow");
    setDockNestingEnabled(true);
    m_actions = Actions::create(this, m_curation->undoStack());
    // The stepper, with the live agent run's bar above it.
    auto* central = new QWidget(this);
    auto* centralLayout = new QVBoxLayout(central);
    centralLayout->setContentsMargins(0, 0, 0, 0);
    centralLayout->setSpacing(0);
    centralLayout->addWidget(m_agentBar);
    centralLayout->addWidget(m_trajectory, 1);
    setCentralWidget(central);
    m_agentThread->setObjectName("agent");
    m_agentWorker->moveToThread(m_agentThread);
    connect(m_agentThread, &QThread::finished, m_agentWorker, &QObject::deleteLater);
    connect(m_agentWorker, &AgentWorker::runStarted, this, &MainWindow::onAgentStarted);
    connect(m_agentWorker, &AgentWorker::stepStored, this, &MainWindow::onAgentStep);
    connect(m_agentWorker, &AgentWorker::note, m_agentBar, &AgentRunBar::setNote);
    connect(m_agentWorker, &AgentWorker::isolation, m_agentBar, &AgentRunBar::setIsolation);
    connect(m_agentWorker, &AgentWorker::controllerLoading, m_agentBar, &AgentRunBar::controllerLoading);
    connect(m_agentWorker, &AgentWorker::controllerReady, m_agentBar, &AgentRunBar::controllerReady);
    connect(m_agentWorker, &AgentWorker::finished, this, &MainWindow::onAgentFinished);
    connect(m_agentBar, &AgentRunBar::cancelRequested, this, &MainWindow::cancelAgentRun);
    connect(m_agentBar, &AgentRunBar::resumeRequested, this, &MainWindow::resumeAgentRun);
    m_agentThread->start();
    createDocks();
    createMenus();
    createToolBar();
    connectActions();

    statusBar()->addWidget(m_pathLabel, 1);
    statusBar()->addPermanentWidget(m_progressLabel);
    statusBar()->addPermanentWidget(m_countsLabel);
    m_busy->setMaximumWidth(120);
    m_busy->setRange(0, 0);
    m_busy->hide();
    statusBar()->addPermanentWidget(m_busy);
    m_pathLabel->setText(tr("No project open"));
    setupLocalServer();

    m_defaultState = saveState();
    Settings settings;
    if (!settings.windowGeometry().isEmpty()) restoreGeometry(settings.windowGeometry());
    if (!settings.windowState().isEmpty()) restoreState(settings.windowState());
    updateRecentMenu();
    updateCurationActions();
    updateAgentActions();
}

MainWindow::~MainWindow() {
    // A run going on stops at its next token or step and is stored as cancelled (resumable).
    m_agentWorker->cancel();
    m_agentThread->quit();
    m_agentThread->wait();
}

void MainWindow::createDocks() {
    auto make = [this](QWidget* w, const QString& title, const QString& name, Qt::DockWidgetArea area) {
        auto* d = new QDockWidget(title, this);
        d->setObjectName(name);
        d->setWidget(w);
        addDockWidget(area, d);
        return d;
    };
    QDockWidget* browser = make(m_browser, tr("Tasks"), "dock_tasks", Qt::LeftDockWidgetArea);
    QDockWidget* images = make(m_images, tr("Images"), "dock_images", Qt::RightDockWidgetArea);
    QDockWidget* curation = make(m_curationView, tr("Pair Curation"), "dock_curation", Qt::BottomDockWidgetArea);
    QDockWidget* overview = make(m_overview, tr("Dataset Overview"), "dock_overview", Qt::BottomDockWidgetArea);
    tabifyDockWidget(curation, overview);
    // Benchmark runs side by side; the pane holds its own store connection, so it is rebuilt per project.
    QDockWidget* runs = make(new QLabel(tr("Open a project to compare its benchmark runs.")), tr("Run Comparison"),
                             "dock_runs", Qt::BottomDockWidgetArea);
    tabifyDockWidget(overview, runs);
    // SFT / DPO training from a button: the panel runs its trainer in its own worker thread.
#ifdef MATRIX_HAVE_TORCH
    auto* trainingPanel = new TrainingPanel;
    trainingPanel->setSession(m_session);  // training runs as `matrix train` jobs recorded in the project
    QDockWidget* training = make(trainingPanel, tr("Training"), "dock_training", Qt::BottomDockWidgetArea);
#else
    // Built without LibTorch (MATRIX_WITH_TORCH=OFF): the dock says so instead of training.
    QDockWidget* training = make(new QLabel(tr("Training needs the LibTorch engine, and this build has none "
                                               "(configured with MATRIX_WITH_TORCH=OFF).")),
                                 tr("Training"), "dock_training", Qt::BottomDockWidgetArea);
#endif
    tabifyDockWidget(runs, training);
    // Step-wise Pref-X sampling as a `matrix sample` job; the pairs land in curation as pending.
    auto* samplePanel = new SamplePanel(m_session);
    QDockWidget* sample = make(samplePanel, tr("Sample"), "dock_sample", Qt::BottomDockWidgetArea);
    tabifyDockWidget(training, sample);
    connect(samplePanel, &SamplePanel::pairsChanged, m_curation, &PairCurationModel::reload);
    connect(samplePanel, &SamplePanel::showPairRequested, this, [this, curation](qint64 pairId) {
        curation->raise();
        m_curation->showPair(pairId);
    });
    // Evaluation runs from a button: a separate `matrix eval` process the panel follows (and reattaches to).
    auto* evaluate = new EvaluatePanel(m_session);
    QDockWidget* evaluateDock = make(evaluate, tr("Evaluate"), "dock_evaluate", Qt::BottomDockWidgetArea);
    tabifyDockWidget(sample, evaluateDock);
    // The item an end-to-end run works on, step by step, in the trajectory view (the panel's "Follow" box).
    connect(evaluate, &EvaluatePanel::followItem, this, [this](qint64 taskId, qint64 trajectoryId, int steps) {
        showTaskAtStep(taskId, std::max(0, steps - 1), trajectoryId);
    });
    connect(evaluate, &EvaluatePanel::runFinished, this, [this](qint64, const QString&) {
        // Finished runs appear in Run Comparison at once.
        if (QDockWidget* d = dock(QStringLiteral("dock_runs")))
            if (auto* pane = qobject_cast<RunComparePane*>(d->widget())) pane->reload();
    });
    // M-TRACE synthesis: `matrix synth run` as a job; counts drill down to tasks shown here.
    auto* synthesis = new SynthesisPanel(m_session);
    QDockWidget* synthesisDock = make(synthesis, tr("Synthesis"), "dock_synthesis", Qt::BottomDockWidgetArea);
    tabifyDockWidget(evaluateDock, synthesisDock);
    connect(synthesis, &SynthesisPanel::showTaskRequested, this, [this](qint64 taskId) { showTask(taskId); });
    // Drill-down: a pipeline count filters the task browser to exactly its tasks (Esc there clears it) ...
    connect(synthesis, &SynthesisPanel::filterTasksRequested, this,
            [this, browser](const QVector<qint64>& ids, const QString& label) {
                browser->show();
                browser->raise();
                m_browser->setIdFilter(ids, label);
            });
    // ... and a selection there becomes the seed examples of the next queries stage.
    connect(m_browser, &TaskBrowser::seedsRequested, this, [synthesis, synthesisDock](const QVector<qint64>& ids) {
        synthesis->setSeedTasks(ids);
        synthesis->setStage(QStringLiteral("queries"));
        synthesisDock->show();
        synthesisDock->raise();
    });
    curation->raise();
    resizeDocks({browser, images}, {600, 420}, Qt::Horizontal);
    resizeDocks({curation}, {380}, Qt::Vertical);
}

QDockWidget* MainWindow::dock(const QString& objectName) const { return findChild<QDockWidget*>(objectName); }

void MainWindow::createMenus() {
    const Actions& a = m_actions;
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(a.newProject);
    file->addAction(a.openProject);
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    file->addAction(a.openDemo);
    file->addSeparator();
    file->addAction(a.importMtrace);
    file->addAction(a.importPrefx);
    file->addAction(a.exportData);
    file->addSeparator();
    file->addAction(a.imageRoots);
    file->addSeparator();
    file->addAction(a.quit);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(a.undo);
    edit->addAction(a.redo);
    edit->addSeparator();
    edit->addAction(a.find);

    QMenu* nav = menuBar()->addMenu(tr("&Navigate"));
    nav->addAction(a.nextStep);
    nav->addAction(a.previousStep);
    nav->addSeparator();
    nav->addAction(a.nextTask);
    nav->addAction(a.previousTask);

    QMenu* cur = menuBar()->addMenu(tr("&Curation"));
    cur->addAction(a.pickChosen);
    cur->addAction(a.pickRejected);
    cur->addSeparator();
    cur->addAction(a.approve);
    cur->addAction(a.reject);
    cur->addAction(a.swap);
    cur->addAction(a.editChosen);
    cur->addSeparator();
    cur->addAction(a.nextPending);
    cur->addAction(a.nextPair);
    cur->addAction(a.previousPair);

    QMenu* agent = menuBar()->addMenu(tr("&Agent"));
    agent->addAction(a.runAgent);
    agent->addAction(a.cancelAgent);
    agent->addAction(a.resumeAgent);
    agent->addSeparator();
    agent->addAction(a.startServer);
    agent->addAction(a.stopServer);

    m_viewMenu = menuBar()->addMenu(tr("&View"));
    for (const char* name : {"dock_tasks", "dock_images", "dock_curation", "dock_overview", "dock_runs", "dock_training"})
        m_viewMenu->addAction(dock(QString::fromLatin1(name))->toggleViewAction());
    m_viewMenu->addSeparator();
    m_viewMenu->addAction(a.toggleBoxes);
    m_viewMenu->addAction(a.fitImage);
    m_viewMenu->addAction(a.refresh);
    m_viewMenu->addAction(a.resetLayout);

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(a.about);
}

void MainWindow::createToolBar() {
    QToolBar* tb = addToolBar(tr("Main"));
    tb->setObjectName("toolbar_main");
    tb->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    const Actions& a = m_actions;
    for (QAction* x : {a.openProject, a.importMtrace, a.exportData}) tb->addAction(x);
    tb->addSeparator();
    tb->addAction(a.undo);
    tb->addAction(a.redo);
    tb->addSeparator();
    for (QAction* x : {a.approve, a.reject, a.nextPending}) tb->addAction(x);
    tb->addSeparator();
    tb->addAction(a.runAgent);
    tb->addSeparator();
    tb->addAction(a.refresh);
}

void MainWindow::connectActions() {
    const Actions& a = m_actions;
    connect(a.openProject, &QAction::triggered, this, &MainWindow::chooseProject);
    connect(a.newProject, &QAction::triggered, this, &MainWindow::newProject);
    connect(a.openDemo, &QAction::triggered, this, &MainWindow::openDemo);
    connect(a.importMtrace, &QAction::triggered, this, [this] { importFile(int(DataFormat::Mtrace)); });
    connect(a.importPrefx, &QAction::triggered, this, [this] { importFile(int(DataFormat::Prefx)); });
    connect(a.exportData, &QAction::triggered, this, &MainWindow::exportData);
    connect(a.imageRoots, &QAction::triggered, this, &MainWindow::chooseImageRoots);
    connect(a.clearRecent, &QAction::triggered, this, [this] {
        Settings().clearRecentProjects();
        updateRecentMenu();
    });
    connect(a.quit, &QAction::triggered, this, &QWidget::close);
    connect(a.find, &QAction::triggered, this, [this] {
        dock("dock_tasks")->show();
        m_browser->focusSearch();
    });
    connect(a.nextStep, &QAction::triggered, m_trajectory, &TrajectoryView::nextStep);
    connect(a.previousStep, &QAction::triggered, m_trajectory, &TrajectoryView::previousStep);
    connect(a.nextTask, &QAction::triggered, m_browser, &TaskBrowser::selectNext);
    connect(a.previousTask, &QAction::triggered, m_browser, &TaskBrowser::selectPrevious);

    connect(a.pickChosen, &QAction::triggered, m_curation, [this] { m_curation->pick(1); });
    connect(a.pickRejected, &QAction::triggered, m_curation, [this] { m_curation->pick(2); });
    connect(a.approve, &QAction::triggered, m_curation, &PairCurationModel::approve);
    connect(a.reject, &QAction::triggered, m_curation, [this] {
        const QString reason = m_curationView->selectedReason();
        if (!reason.isEmpty()) m_curation->setRejectionReason(reason);
        m_curation->reject();
    });
    connect(a.swap, &QAction::triggered, m_curation, &PairCurationModel::swap);
    connect(a.editChosen, &QAction::triggered, this, &MainWindow::editChosen);
    connect(a.nextPending, &QAction::triggered, m_curation, &PairCurationModel::nextPending);
    connect(a.nextPair, &QAction::triggered, m_curation, &PairCurationModel::next);
    connect(a.previousPair, &QAction::triggered, m_curation, &PairCurationModel::previous);
    connect(a.runAgent, &QAction::triggered, this, [this] { openAgentDialog(); });
    connect(a.cancelAgent, &QAction::triggered, this, &MainWindow::cancelAgentRun);
    connect(a.resumeAgent, &QAction::triggered, this, [this] {
        // The shown run trajectory when it did not finish, else the last cancelled run.
        qint64 runId = m_cancelledRunId;
        for (const TrajectoryEntry& e : m_trajectory->task().trajectories)
            if (e.id == m_trajectory->task().trajectoryId && e.runId > 0 && !m_trajectory->task().live &&
                (e.status == QLatin1String("cancelled") || e.status == QLatin1String("running")))
                runId = e.runId;
        if (runId > 0) resumeAgentRun(runId);
    });
    m_browser->setContextActions({a.runAgent});
    connect(m_trajectory, &TrajectoryView::trajectoryChosen, this, &MainWindow::showTaskTrajectory);
    connect(a.toggleBoxes, &QAction::toggled, m_images, &ImageViewer::setBoxesVisible);
    connect(m_images, &ImageViewer::boxesVisibleChanged, a.toggleBoxes, &QAction::setChecked);
    connect(a.fitImage, &QAction::triggered, m_images->canvas(), &ImageCanvas::fitToWindow);
    connect(a.refresh, &QAction::triggered, this, [this] {
        m_browser->reload();
        m_curation->reload();
        refreshProjectInfo();
    });
    connect(a.resetLayout, &QAction::triggered, this, [this] { restoreState(m_defaultState); });
    connect(a.about, &QAction::triggered, this, [this] {
        QMessageBox::about(this, tr("About MATRIX Workbench"),
                           tr("<b>MATRIX Workbench %1</b><p>Browse M-TRACE trajectories and curate Pref-X preference "
                              "pairs for tuning a vision-language model into a tool-using agent.</p>")
                               .arg(QApplication::applicationVersion()));
    });

    // Curation pane <-> model.
    connect(m_curationView, &PairCurationView::approveRequested, a.approve, &QAction::trigger);
    connect(m_curationView, &PairCurationView::rejectRequested, a.reject, &QAction::trigger);
    connect(m_curationView, &PairCurationView::swapRequested, a.swap, &QAction::trigger);
    connect(m_curationView, &PairCurationView::editRequested, a.editChosen, &QAction::trigger);
    connect(m_curationView, &PairCurationView::nextPendingRequested, a.nextPending, &QAction::trigger);
    connect(m_curationView, &PairCurationView::reasonChosen, m_curation, &PairCurationModel::setRejectionReason);
    connect(m_curationView, &PairCurationView::noteEdited, m_curation, &PairCurationModel::setNote);
    for (QAction* nav : {a.nextPending, a.nextPair, a.previousPair})
        connect(nav, &QAction::triggered, this, [this] { m_followNextPair = true; });
    connect(m_curation, &PairCurationModel::currentChanged, this, [this](const PairData& p, int pos, int n) {
        m_curationView->setPair(p, pos, n);
        updateCurationActions();
        if (std::exchange(m_followNextPair, false)) followPair(p);
    });
    connect(m_curation, &PairCurationModel::progressChanged, this, [this](const PairProgress& p) {
        m_curationView->setProgress(p);
        m_progressLabel->setText(tr("Pairs: %1 \u2713 \u00b7 %2 \u2717 \u00b7 %3 pending  |").arg(p.approved).arg(p.rejected).arg(p.pending));
    });
    connect(m_curation, &PairCurationModel::failed, this, [this](const QString& m) { statusBar()->showMessage(tr("Store error: %1").arg(m), 8000); });
    connect(m_curation->undoStack(), &QUndoStack::indexChanged, this, [this] {
        if (const QUndoCommand* c = m_curation->undoStack()->command(m_curation->undoStack()->index() - 1))
            statusBar()->showMessage(tr("Saved: %1").arg(c->text()), 3000);
    });

    // Browser -> panes.
    connect(m_browser, &TaskBrowser::taskSelected, this, &MainWindow::showTask);
    connect(m_browser->model(), &TaskTableModel::countChanged, this, [this] { m_countsLabel->setText(statusCounts()); });
    connect(m_trajectory, &TrajectoryView::currentStepChanged, this, &MainWindow::onStepChanged);
    connect(m_session, &ProjectSession::opened, this, &MainWindow::onProjectOpened);
    connect(m_session, &ProjectSession::failed, this, [this](const QString& m) {
        m_pathLabel->setText(tr("Could not open project: %1").arg(m));
        emit projectFailed(m);
    });
    connect(m_demoJob, &BackgroundJob::progress, this, [this](qint64 done, qint64 total, const QString& what, double) {
        statusBar()->showMessage(tr("Building the demo project: %1 %2/%3").arg(what).arg(done).arg(total));
    });
    connect(m_demoJob, &BackgroundJob::finished, this, [this](const JobOutcome& o) {
        m_busy->hide();
        if (!o.ok) {
            m_pathLabel->setText(tr("Demo project could not be built: %1").arg(o.error));
            emit projectFailed(o.error);
            return;
        }
        statusBar()->showMessage(o.summary, 5000);
        openProject(DemoProject::projectPath());
    });
}

void MainWindow::updateCurationActions() {
    const bool has = m_curation->current().valid();
    for (QAction* a : m_actions.curationActions()) a->setEnabled(has || a == m_actions.nextPending);
    m_actions.nextPending->setEnabled(m_curation->count() > 0);
}

void MainWindow::updateAgentActions() {
    m_actions.runAgent->setEnabled(m_session->isOpen() && !m_live.running);
    m_actions.cancelAgent->setEnabled(m_live.running);
    bool resumable = m_cancelledRunId > 0;
    for (const TrajectoryEntry& e : m_trajectory->task().trajectories)
        if (e.id == m_trajectory->task().trajectoryId && e.runId > 0 && !m_trajectory->task().live &&
            (e.status == QLatin1String("cancelled") || e.status == QLatin1String("running")))
            resumable = true;
    m_actions.resumeAgent->setEnabled(m_session->isOpen() && !m_live.running && resumable);
}

void MainWindow::updateRecentMenu() {
    m_recentMenu->clear();
    const QStringList recent = Settings().recentProjects();
    for (const QString& p : recent) {
        QAction* a = m_recentMenu->addAction(QFileInfo(p).fileName());
        a->setStatusTip(p);
        a->setToolTip(p);
        connect(a, &QAction::triggered, this, [this, p] { openProject(p); });
    }
    if (recent.isEmpty()) m_recentMenu->addAction(tr("(none)"))->setEnabled(false);
    m_recentMenu->addSeparator();
    m_recentMenu->addAction(m_actions.clearRecent);
}

void MainWindow::openProject(const QString& path) {
    m_pathLabel->setText(tr("Opening %1 ...").arg(path));
    m_task = {};
    m_trajectory->setTask({});
    m_images->setImages({});
    m_session->open(path);
}

void MainWindow::openDemo() {
    if (DemoProject::isBuilt()) {
        openProject(DemoProject::projectPath());
        return;
    }
    if (m_demoJob->isRunning()) return;
    m_busy->show();
    m_pathLabel->setText(tr("Building the demo project in %1 ...").arg(DemoProject::folder()));
    m_demoJob->start([](const Progress& p) { return DemoProject::build(p); });
}

void MainWindow::openStartupProject() {
    Settings s;
    const QString last = s.lastProject();
    if (!last.isEmpty() && QFileInfo::exists(last))
        openProject(last);
    else
        openDemo();
}

void MainWindow::onProjectOpened(const QString& path) {
    Settings s;
    s.setLastProject(path);
    s.addRecentProject(path);
    updateRecentMenu();
    m_pathLabel->setText(QDir::toNativeSeparators(path));
    m_pathLabel->setToolTip(path);
    setWindowTitle(tr("%1 \u2014 MATRIX Workbench").arg(QFileInfo(path).fileName()));
    // The task browser's first page goes to the store worker first; the panes below read on this thread.
    m_browser->applyFilter();
    m_curation->setScope(std::nullopt);
    if (QDockWidget* runs = dock(QStringLiteral("dock_runs"))) {
        QWidget* old = runs->widget();
        runs->setWidget(new RunComparePane(m_session, runs));
        delete old;
    }
#ifdef MATRIX_HAVE_TORCH
    if (QDockWidget* training = dock(QStringLiteral("dock_training")))
        if (auto* panel = qobject_cast<TrainingPanel*>(training->widget())) panel->setProjectPath(path);
#endif
    if (QDockWidget* sample = dock(QStringLiteral("dock_sample")))
        if (auto* panel = qobject_cast<SamplePanel*>(sample->widget())) panel->setProjectPath(path);
    if (QDockWidget* d = dock(QStringLiteral("dock_evaluate")))
        if (auto* panel = qobject_cast<EvaluatePanel*>(d->widget())) panel->refresh();
    refreshProjectInfo();
    m_cancelledRunId = 0;
    updateAgentActions();
    emit projectOpened(path);
}

void MainWindow::importFile(int format) {
    if (!m_session->isOpen()) {
        statusBar()->showMessage(tr("Open or create a project first."), 5000);
        return;
    }
    auto* dlg = new ImportDialog(m_session->path(), DataFormat(format), this);
    dlg->setAttribute(Qt::WA_DeleteOnClose);
    dlg->setImageRoots(Settings().imageRoots());
    connect(dlg, &JobDialog::jobFinished, this, [this](const JobOutcome&) {
        m_browser->reload();
        m_curation->reload();
        refreshProjectInfo();
    });
    dlg->show();  // modeless: the workbench stays usable while the import runs
}

void MainWindow::exportData() {
    if (!m_session->isOpen()) return;
    QStringList names;
    for (const DatasetEntry& d : m_datasets) names << d.name;
    auto* dlg = new ExportDialog(m_session->path(), names, this);
    dlg->setAttribute(Qt::WA_DeleteOnClose);
    dlg->show();
}

void MainWindow::chooseImageRoots() {
    Settings s;
    bool ok = false;
    const QString text = QInputDialog::getText(this, tr("Image roots"),
                                               tr("Folders searched for images referenced by relative paths (separated by ';'):"),
                                               QLineEdit::Normal, s.imageRoots().join(';'), &ok);
    if (!ok) return;
    QStringList roots;
    for (const QString& r : text.split(';', Qt::SkipEmptyParts)) roots << r.trimmed();
    s.setImageRoots(roots);
    if (m_task.valid()) showTask(m_task.id);
}

void MainWindow::newProject() {
    const QString path = QFileDialog::getSaveFileName(this, tr("New project"), QStringLiteral("project.matrix"),
                                                      tr("MATRIX projects (*.matrix);;All files (*)"));
    if (!path.isEmpty()) openProject(path);
}

void MainWindow::chooseProject() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open project"), QString(),
                                                      tr("MATRIX projects (*.matrix *.db *.sqlite);;All files (*)"));
    if (!path.isEmpty()) openProject(path);
}

bool MainWindow::waitForIdle(int timeoutMs) {
    QDeadlineTimer deadline(timeoutMs);
    while (!deadline.hasExpired()) {
        QApplication::processEvents(QEventLoop::AllEvents, 20);
        const bool busy = m_demoJob->isRunning() || m_session->pendingJobs() > 0 || m_images->isLoading() ||
                          m_browser->model()->isLoading() || m_infoPending > 0 || m_curation->isBusy();
        if (!busy) {
            QApplication::processEvents();
            return true;
        }
        QThread::msleep(5);
    }
    return false;
}

void MainWindow::closeEvent(QCloseEvent* event) {
    // Jobs (training, evaluation, sampling, synthesis) are processes of their own: closing never stops them, but
    // says so first.
    int running = 0;
#ifdef MATRIX_HAVE_TORCH
    if (auto* panel = findChild<TrainingPanel*>()) running += panel->unfinishedJobs();
#endif
    auto* evaluate = findChild<EvaluatePanel*>();
    if (evaluate) running += evaluate->unfinishedJobs();
    if (auto* sample = findChild<SamplePanel*>()) running += sample->unfinishedJobs();
    if (auto* synthesis = findChild<SynthesisPanel*>()) running += synthesis->unfinishedJobs();
    if (running > 0) {
        QMessageBox box(QMessageBox::Question, tr("Jobs are running"),
                        tr("%n job(s) of this project are running. They keep running after the window closes and "
                           "write their progress to the project; opening it again reattaches to them (or run "
                           "`matrix jobs list --db %1`).", "", running)
                            .arg(m_session->path()),
                        QMessageBox::NoButton, this);
        box.setObjectName("close_with_jobs");
        // Which ones: every unfinished job of the project (any JobListModel lists them all).
        if (auto* sample = findChild<SamplePanel*>()) {
            QStringList lines;
            const JobListModel* jobsModel = sample->jobsModel();
            for (int row = 0; row < jobsModel->rowCount(); ++row) {
                const jobs::Job* j = jobsModel->job(row);
                if (j->is_final()) continue;
                lines << tr("job %1 (%2, %3): %4")
                             .arg(j->id)
                             .arg(QString::fromStdString(j->kind), QString::fromStdString(j->state),
                                  QString::fromStdString(j->command_line()).left(90));
            }
            if (evaluate && evaluate->unfinishedJobs() > evaluate->jobsModel()->unfinishedCount(QStringLiteral("eval")))
                lines << tr("evaluation run %1 (a matrix eval process started outside the workbench)")
                             .arg(evaluate->currentRunId());
            box.setInformativeText(lines.join(QLatin1Char('\n')));
        }
        QPushButton* close = box.addButton(tr("Close, keep them running"), QMessageBox::AcceptRole);
        box.addButton(QMessageBox::Cancel);
        box.setDefaultButton(close);
        box.exec();
        if (box.clickedButton() != close) {
            event->ignore();
            return;
        }
    }
    Settings s;
    s.setWindowGeometry(saveGeometry());
    s.setWindowState(saveState());
    event->accept();
}

}  // namespace matrix::ui
