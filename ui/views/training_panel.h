// TrainingPanel: the "train from a button" pane. Left: stage (SFT / DPO), base model directory (checked on
// selection: architecture, size, dtype), starting adapter, dataset, output directory, the hyperparameter form
// generated from core's key table (same keys and defaults as `matrix train`), device, Train / Pause / Cancel /
// Resume / Continue. Right: live charts (loss with eval loss, learning rate; DPO reward margin and accuracy),
// progress with ETA and tokens/s, the log, and the run history whose curves can be shown and overlaid (select two
// runs); under the charts, the ranks of the selected (or live) run: one row per process (rank, host, pid, state,
// step, tokens/s, last seen). A self-contained QWidget: the main window docks it and calls setProjectPath().
// The store is read only through a ProjectSession: the main window's (setSession), or, without one, a session of
// the panel's own opened by setProjectPath.
// Where the run executes ("Run as"): a `matrix train` job on this machine or on Slurm (core/jobs; with a
// ProjectSession, the default): a process of its own that keeps running when the window closes; the panel follows
// it from the store (state, log, the run's metrics as the trainer writes them), pauses / continues / cancels it
// and reattaches to an unfinished one when the project is opened again (training_panel_jobs.cpp). Or, without a
// session or when chosen, a TrainingWorker on a QThread owned by the panel (ends with the window).
#pragma once

#include <QMap>
#include <QString>
#include <QVariantMap>
#include <QWidget>

#include <functional>

#include "core/jobs/job_repo.h"
#include "core/training/trainer.h"
#include "core/training/training_config.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableView;
class QThread;
class QFormLayout;
class QGroupBox;
class QTabWidget;
class QTimer;
class QVBoxLayout;

namespace matrix::ui {

class JobFollower;
class JobListModel;
class ProjectSession;
class RunAsForm;
class RunRankModel;
class TrainingCharts;
class TrainingRunsModel;
class TrainingWorker;

class TrainingPanel : public QWidget {
    Q_OBJECT
public:
    explicit TrainingPanel(QWidget* parent = nullptr);
    ~TrainingPanel() override;

    void setProjectPath(const QString& path);
    // Jobs (training as `matrix train` processes) need the session: their rows are read and written through it.
    void setSession(ProjectSession* session);
    JobListModel* jobsModel() const { return m_jobs; }
    qint64 followedJob() const { return m_followed; }
    int unfinishedJobs() const;  // training jobs queued, running or paused (they outlive the window)
    // "thread" (in this window), "local" (a job on this machine) or "slurm".
    void setRunMode(const QString& mode);
    // The `matrix` program jobs run (default: beside the workbench, else on PATH).
    void setMatrixBinary(const QString& path) { m_binary = path; }
    QString runMode() const;
    QString projectPath() const { return m_projectPath; }

    // The form's values as a config (error text set and nullopt-like false return when a value is invalid).
    bool collectConfig(matrix::train::TrainingConfig* out, QString* error) const;
    // Fills the form from a config (used on start and when a past run is selected).
    void applyConfig(const matrix::train::TrainingConfig& config);

    // For tests and the main window.
    void setModelDir(const QString& dir);
    void setAdapterDir(const QString& dir);
    void setOutputDir(const QString& dir);
    void setStage(matrix::train::Stage stage);
    void setDataset(const QString& name);
    QString modelInfoText() const;
    bool isTraining() const;
    TrainingRunsModel* runsModel() const { return m_runs; }
    RunRankModel* rankModel() const { return m_ranks; }
    QTableView* rankView() const { return m_ranksView; }
    QString rankSummaryText() const;
    // Shows run `runId`'s ranks under the charts (0 hides them); they refresh every 2 s while a rank runs.
    void showRanks(qint64 runId);
    int chartPointCount() const;  // points in the live loss series

public slots:
    void startTraining();
    void pauseTraining();
    void cancelTraining();
    void resumeSelected();        // a paused / killed run, from its last checkpoint
    void continueSelected();      // a finished run, for N more epochs
    void showSelectedRuns();      // past curves; two selected runs are overlaid
    void followJob(qint64 jobId);  // show a job's state, log and curves as it runs

signals:
    void trainingFinished(const QString& status, qint64 runId, const QString& message);
    void curvesShown();  // the selected runs' curves are in the charts

private slots:
    void onStep(const QVariantMap& report);
    void onLog(const QString& line);
    void onFinished(const QString& status, qint64 runId, const QString& message);
    void onStageChanged();
    void checkModelDir();

private:
    QWidget* buildForm();
    QWidget* buildCharts();
    QWidget* buildRunAs(QWidget* parent);
    void buildRanks(QWidget* parent, QVBoxLayout* layout);  // training_panel_ranks.cpp
    void launch(const matrix::train::TrainRequest& request);
    void launchJob(const matrix::train::TrainRequest& request);
    QStringList trainArguments(const matrix::train::TrainRequest& request) const;
    void onFollowedLines(const QStringList& lines);
    void onFollowedUpdate(const matrix::jobs::Job& job);
    void fetchMetrics(std::function<void()> then = {});
    void onFollowedEnded(const matrix::jobs::Job& job);
    void setBusy(bool busy);
    ProjectSession* storeSession() const;  // m_session, else the panel's own
    void onRunsRefreshed();
    void onRanksLoaded();

    QString m_projectPath;
    // form
    QComboBox* m_stage = nullptr;
    QLineEdit* m_modelDir = nullptr;
    QLabel* m_modelInfo = nullptr;
    QLineEdit* m_adapterDir = nullptr;
    QComboBox* m_dataset = nullptr;
    QLineEdit* m_outDir = nullptr;
    QMap<QString, QWidget*> m_fields;  // config key -> editor
    QMap<QString, QWidget*> m_fieldLabels;
    QFormLayout* m_hyperForm = nullptr;
    QLabel* m_formError = nullptr;
    QPushButton* m_train = nullptr;
    QPushButton* m_pause = nullptr;
    QPushButton* m_cancel = nullptr;
    QPushButton* m_resume = nullptr;
    QPushButton* m_continue = nullptr;
    QSpinBox* m_moreEpochs = nullptr;
    // live view
    TrainingCharts* m_charts = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_progressText = nullptr;
    QPlainTextEdit* m_log = nullptr;
    QTableView* m_history = nullptr;
    TrainingRunsModel* m_runs = nullptr;
    QLabel* m_ranksSummary = nullptr;
    QTableView* m_ranksView = nullptr;
    RunRankModel* m_ranks = nullptr;
    QTimer* m_ranksTimer = nullptr;
    qint64 m_rankRun = 0;
    ProjectSession* m_ownSession = nullptr;  // without setSession: opened on setProjectPath
    // jobs (training_panel_jobs.cpp)
    ProjectSession* m_session = nullptr;
    JobListModel* m_jobs = nullptr;
    QTableView* m_jobsView = nullptr;
    QTabWidget* m_lists = nullptr;  // Runs | Jobs
    QString m_binary;
    RunAsForm* m_runAs = nullptr;  // where the run executes (shared with the Sample / Synthesis docks)
    JobFollower* m_follower = nullptr;  // the followed job's row and log (shared with the Sample / Synthesis docks)
    qint64 m_followed = 0;
    QString m_followedState;
    qint64 m_lastStep = -1;      // metrics up to this step are in the charts
    qint64 m_lastEvalStep = -1;
    bool m_metricsInFlight = false;
    std::function<void()> m_metricsThen;  // asked for while a read was in flight: read again, then call it
    // worker
    QThread* m_thread = nullptr;
    TrainingWorker* m_worker = nullptr;
};

}  // namespace matrix::ui
