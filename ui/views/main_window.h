// The workbench's main window: one project (an SQLite file) shown in dockable panes: task browser, trajectory
// stepper (central), image viewer, pair curation and dataset overview. Owns the ProjectSession (store worker
// thread), the actions (Actions::create), menus, toolbar and status bar; remembers layout, last and recent
// projects in Settings. UI thread only.
#pragma once

#include <QMainWindow>
#include <QPointer>
#include <optional>

#include "ui/models/view_data.h"
#include "ui/views/actions.h"
#include "ui/views/task_browser.h"

class QDockWidget;
class QLabel;
class QMenu;
class QProgressBar;

namespace matrix::ui {

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
    // Waits until the store worker, image decoding and demo building are done (tests, --screenshot).
    bool waitForIdle(int timeoutMs = 30000);

signals:
    void projectOpened(const QString& path);
    void projectFailed(const QString& message);
    void taskShown(qint64 taskId);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
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
};

}  // namespace matrix::ui
