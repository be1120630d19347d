// The workbench's main window: one project (an SQLite file) shown in dockable panes: task browser, trajectory
// stepper (central), image viewer, pair curation and dataset overview. Owns the ProjectSession (store worker
// thread), the actions (Actions::create), menus, toolbar and status bar; remembers layout, last and recent
// projects in Settings. Also owns the AgentWorker (its own thread): a run started from the "Run agent" dialog
// outlives the dialog, its steps go live into the stepper with the run bar above it. UI thread only.
#pragma once

#include <QMainWindow>
#include <QPointer>
#include <optional>

#include "ui/models/view_data.h"
#include "ui/views/actions.h"
#include "ui/views/task_browser.h"
#include "ui/workers/agent_worker.h"
#include "ui/workers/local_server.h"

class QDockWidget;
class QLabel;
class QMenu;
class QProgressBar;
class QThread;

namespace matrix::ui {

class AgentRunBar;
class AgentRunDialog;
class BackgroundJob;
class ImageViewer;
class OverviewCharts;
class PairCurationModel;
class PairCurationView;
class ProjectSession;
class TrajectoryView;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Opens a project file (created when absent). Asynchronous: projectOpened() follows.
    void openProject(const QString& path);
    // Opens the bundled demo project, building it first (in the background) when needed.
    void openDemo();
    // What a start without arguments does: the last project, or the demo project on first start.
    void openStartupProject();

    ProjectSession* session() const { return m_session; }
    TaskBrowser* browser() const { return m_browser; }
    TrajectoryView* trajectory() const { return m_trajectory; }
    ImageViewer* imageViewer() const { return m_images; }
    PairCurationView* curationView() const { return m_curationView; }
    PairCurationModel* curation() const { return m_curation; }
    OverviewCharts* overview() const { return m_overview; }
    const Actions& actions() const { return m_actions; }
    const TaskData& currentTask() const { return m_task; }
    QDockWidget* dock(const QString& objectName) const;
    QString statusCounts() const;

    // Loads the task into the stepper and image viewer (normally driven by the browser's selection).
    void showTask(qint64 taskId);
    // Shows a task for a pair: its trajectory at `step`, without moving the curation pane.
    void showTaskAtStep(qint64 taskId, int step);
    void followPair(const PairData& pair);
    // Shows one of the task's trajectories (0: the primary one, or the live agent run's when it runs on this task;
    // kLiveTrajectory: the live run's).
    void showTaskTrajectory(qint64 taskId, qint64 trajectoryId);
    static constexpr qint64 kLiveTrajectory = -1;

    // The agent: the dialog for the selected task (modeless; nullptr when no task or a run is going on), a run
    // or resume started directly (tests), and cancel.
    AgentRunDialog* openAgentDialog();
    bool startAgentRun(const matrix::agent::AgentRunSettings& settings, const QString& workRoot = {});
    bool resumeAgentRun(qint64 runId);
    void cancelAgentRun();
    bool isAgentRunning() const { return m_live.running; }
    AgentRunBar* agentBar() const { return m_agentBar; }
    AgentWorker* agentWorker() const { return m_agentWorker; }

    // Waits until the store worker, image decoding and demo building are done (tests, --screenshot).
    bool waitForIdle(int timeoutMs = 30000);

signals:
    void projectOpened(const QString& path);
    void projectFailed(const QString& message);
    void taskShown(qint64 taskId);
    void agentRunFinished(const matrix::ui::AgentRunOutcome& outcome);

protected:
    void closeEvent(QCloseEvent* event) override;

public:
    // The local `matrix serve` process of Agent > Start Local Server (see main_window_server.cpp).
    LocalServer* localServer() const { return m_localServer; }
    void startLocalServer(const LocalServerOptions& options);
    QLabel* serverLabel() const { return m_serverLabel; }

private:
    void setupLocalServer();
    void updateServerStatus();
    void createDocks();
    void createMenus();
    void createToolBar();
    void connectActions();
    void updateRecentMenu();
    void onProjectOpened(const QString& path);
    void refreshProjectInfo();
    void importFile(int format);
    void exportData();
    void editChosen();
    void chooseImageRoots();
    void onStepChanged(int step);
    void newProject();
    void chooseProject();
    void updateCurationActions();
    void updateAgentActions();
    bool launchAgent(const AgentRequest& request);
    void onAgentStarted(const AgentRunStart& start);
    void onAgentStep(qint64 runId, qint64 taskId, qint64 trajectoryId, const StepData& step);
    void onAgentFinished(const AgentRunOutcome& outcome);
    // Puts the live run into a task's data when it runs on that task (see showTaskTrajectory).
    void applyLiveRun(TaskData& d, qint64 requestedTrajectory) const;
    void showTaskAtStep(qint64 taskId, int step, qint64 trajectoryId);

    ProjectSession* m_session;
    Actions m_actions{};
    TaskBrowser* m_browser;
    TrajectoryView* m_trajectory;
    ImageViewer* m_images;
    PairCurationModel* m_curation;
    PairCurationView* m_curationView;
    OverviewCharts* m_overview;
    QMenu* m_recentMenu = nullptr;
    QMenu* m_viewMenu = nullptr;
    QLabel* m_pathLabel;
    QLabel* m_countsLabel;
    QLabel* m_progressLabel;
    LocalServer* m_localServer = nullptr;
    QLabel* m_serverLabel = nullptr;
    QProgressBar* m_busy;
    BackgroundJob* m_demoJob;
    QByteArray m_defaultState;
    QVector<DatasetEntry> m_datasets;
    TaskData m_task;
    // Set when the user moves through pairs (Space, Ctrl+Left/Right): the next pair shown also brings its task and
    // step into the stepper and image viewer. Pairs shown because a task or step was picked do not move them.
    bool m_followNextPair = false;
    bool m_showingPairTask = false;  // a task is being shown for a pair: its steps must not pick other pairs
    int m_taskGeneration = 0;
    int m_infoPending = 0;
    // The agent run: worker on its own thread; the live run's steps so far.
    struct LiveRun {
        bool running = false;
        qint64 runId = 0, taskId = 0, trajectoryId = 0;
        QString projectPath;  // the run's project: another project opened meanwhile does not show it
        QVector<StepData> steps;
    };
    QThread* m_agentThread;
    AgentWorker* m_agentWorker;
    AgentRunBar* m_agentBar;
    LiveRun m_live;
    qint64 m_cancelledRunId = 0;  // the last run that ended cancelled (Resume)
};

}  // namespace matrix::ui
