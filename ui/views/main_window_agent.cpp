// MainWindow, the agent run started from the window (see main_window.h): the "Run agent" dialog, launching and
// resuming on the AgentWorker, the run's steps shown live in the trajectory view as they are stored, and its end.
// Moved out of main_window.cpp unchanged.
#include <QStatusBar>
#include <QTableView>

#include "ui/models/project_session.h"
#include "ui/models/task_table_model.h"
#include "ui/views/agent_run_bar.h"
#include "ui/views/agent_run_dialog.h"
#include "ui/views/main_window.h"
#include "ui/views/task_browser.h"
#include "ui/views/trajectory_view.h"

namespace matrix::ui {

void MainWindow::applyLiveRun(TaskData& d, qint64 requested) const {
    if (!m_live.running || d.id != m_live.taskId || m_live.runId <= 0 || m_live.projectPath != m_session->path()) return;
    const qint64 liveId = m_live.trajectoryId > 0 ? m_live.trajectoryId : kLiveTrajectory;
    bool listed = false;
    for (TrajectoryEntry& e : d.trajectories) {
        if (e.id == liveId) {
            e.status = QStringLiteral("running");
            e.steps = int(m_live.steps.size());
            listed = true;
        }
    }
    if (!listed) {
        TrajectoryEntry e;
        e.id = liveId;
        e.source = QStringLiteral("run");
        e.runId = m_live.runId;
        e.status = QStringLiteral("running");
        e.steps = int(m_live.steps.size());
        d.trajectories.push_back(e);
    }
    if (requested != 0 && requested != kLiveTrajectory && requested != m_live.trajectoryId) return;
    d.steps = m_live.steps;
    d.trajectoryId = liveId;
    d.live = true;
    d.answer.clear();
    // The task's own images stay; tool outputs of another trajectory go.
    QVector<ViewerImage> own;
    for (const ViewerImage& im : d.images)
        if (im.step < 0) own.push_back(im);
    d.images = own;
}

AgentRunDialog* MainWindow::openAgentDialog() {
    if (!m_session->isOpen()) {
        statusBar()->showMessage(tr("Open a project first."), 5000);
        return nullptr;
    }
    if (m_live.running) {
        statusBar()->showMessage(tr("An agent run is going on: wait for it or cancel it (Ctrl+Shift+X)."), 5000);
        return nullptr;
    }
    qint64 taskId = m_browser->currentTaskId();
    if (taskId <= 0) taskId = m_task.id;
    if (taskId <= 0) {
        statusBar()->showMessage(tr("Select a task in the task browser first."), 5000);
        return nullptr;
    }
    QString title = tr("task %1").arg(taskId);
    if (m_task.id == taskId) {
        title = QStringLiteral("%1 \u00b7 %2").arg(m_task.externalId, m_task.query.left(200));
    } else if (const QModelIndex i = m_browser->table()->currentIndex(); i.isValid()) {
        const store::TaskSummary& t = m_browser->model()->summary(i.row());
        title = QStringLiteral("%1 \u00b7 %2").arg(QString::fromStdString(t.external_id), QString::fromStdString(t.query).left(200));
    }
    auto* dlg = new AgentRunDialog(taskId, title, this);
    dlg->setAttribute(Qt::WA_DeleteOnClose);
    connect(dlg, &QDialog::accepted, this, [this, dlg] { startAgentRun(dlg->settings()); });
    dlg->open();
    return dlg;
}

bool MainWindow::startAgentRun(const agent::AgentRunSettings& settings, const QString& workRoot) {
    AgentRequest r;
    r.projectPath = m_session->path();
    r.settings = settings;
    r.workRoot = workRoot;
    return launchAgent(r);
}

bool MainWindow::resumeAgentRun(qint64 runId) {
    AgentRequest r;
    r.projectPath = m_session->path();
    r.resumeRunId = runId;
    return launchAgent(r);
}

bool MainWindow::launchAgent(const AgentRequest& request) {
    if (!m_session->isOpen() || m_live.running || m_agentWorker->isRunning()) return false;
    m_live = {};
    m_live.running = true;  // until finished(): no second run
    m_live.projectPath = request.projectPath;
    updateAgentActions();
    m_agentWorker->setRequest(request);
    QMetaObject::invokeMethod(m_agentWorker, &AgentWorker::start, Qt::QueuedConnection);
    return true;
}

void MainWindow::cancelAgentRun() {
    if (m_live.running) m_agentWorker->cancel();
}

void MainWindow::onAgentStarted(const AgentRunStart& start) {
    m_live.runId = start.runId;
    m_live.taskId = start.taskId;
    m_live.trajectoryId = start.trajectoryId;
    m_live.steps = start.storedSteps;
    if (m_cancelledRunId == start.runId) m_cancelledRunId = 0;
    m_agentBar->runStarted(start);
    updateAgentActions();
    if (m_live.projectPath != m_session->path()) return;
    if (m_trajectory->task().id == start.taskId) {
        // The task is on screen: it turns live at once, so no step can come before the view is ready for it.
        TaskData d = m_trajectory->task();
        applyLiveRun(d, kLiveTrajectory);
        m_task = d;
        m_trajectory->setTask(d);
        if (!d.steps.isEmpty()) m_trajectory->setCurrentStep(int(d.steps.size()) - 1);
    } else {
        showTaskTrajectory(start.taskId, kLiveTrajectory);
    }
}

void MainWindow::onAgentStep(qint64 runId, qint64 taskId, qint64 trajectoryId, const StepData& step) {
    if (runId != m_live.runId || taskId != m_live.taskId) return;
    if (m_live.trajectoryId <= 0 && trajectoryId > 0) m_live.trajectoryId = trajectoryId;
    m_live.steps.push_back(step);
    m_agentBar->stepStored(int(m_live.steps.size()));
    if (m_live.projectPath == m_session->path() && m_trajectory->task().id == taskId && m_trajectory->task().live) {
        m_trajectory->appendStep(step);
        m_task = m_trajectory->task();
    }
}

void MainWindow::onAgentFinished(const AgentRunOutcome& o) {
    const bool showing = m_trajectory->task().id == o.taskId && o.taskId > 0 && m_live.projectPath == m_session->path();
    m_live.running = false;
    m_cancelledRunId = o.status == QLatin1String("cancelled") ? o.runId : 0;
    m_agentBar->runFinished(o);
    updateAgentActions();
    if (o.status == QLatin1String("failed"))
        statusBar()->showMessage(tr("Agent run failed: %1").arg(o.reason), 10000);
    // The run's trajectory as stored, now one of the task's trajectories in the chooser.
    if (showing) showTaskTrajectory(o.taskId, o.trajectoryId > 0 ? o.trajectoryId : 0);
    emit agentRunFinished(o);
}

}  // namespace matrix::ui
