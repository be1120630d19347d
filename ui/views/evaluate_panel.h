// EvaluatePanel: the Evaluate dock. Pick a benchmark dataset of the project, the mode (GTA step-by-step or end to
// end), the controller (gold / perturbed replay, a local model with an adapter from the training runs list, or an
// endpoint), tools, limit, workers and seed, and where it runs (RunAsForm: a job on this machine or a Slurm job);
// Start. Start and Resume launch `matrix eval run|resume` as a job (core/jobs, through JobListModel like the Sample
// and Synthesis docks: a process of its own that keeps running when the window closes, or an sbatch job); the panel
// follows it (JobFollower: state and log lines) and reads the run's progress from the project (done/total, live
// accuracy, ETA, the item being run), so a Slurm job on another node is followed the same way. Pause stops the job
// where it is (Continue carries it on), Cancel stops it as a resumable run. When a project opens, the panel
// reattaches to its unfinished evaluation job, else to a `matrix eval` process started by hand (a shell) that is
// still running one of its runs (Pause then stops that run as paused, SIGUSR1; Cancel as cancelled, SIGTERM), else
// offers to resume an unfinished run. runFinished() tells the main window to show the run in Run Comparison at once.
// Store access only through the ProjectSession (ui/models/project_session.h). UI thread only.
#pragma once

#include <QPointer>
#include <QString>
#include <QWidget>

#include <optional>

#include "core/jobs/job_repo.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTimer;

namespace matrix::ui {

class JobFollower;
class JobListModel;
class ProjectSession;
class RunAsForm;

class EvaluatePanel : public QWidget {
    Q_OBJECT
public:
    explicit EvaluatePanel(ProjectSession* session, QWidget* parent = nullptr);
    ~EvaluatePanel() override;

    // Reads the project's benchmark datasets, adapters and unfinished eval runs (reattach / resume).
    void refresh();
    // The `matrix` CLI to launch (default: beside this executable, else on PATH).
    void setMatrixBinary(const QString& path) { m_binary = path; }
    // The arguments Start would pass to `matrix` (for tests and the log).
    QStringList startArguments() const;

    // For tests and screenshots.
    void setBenchmark(const QString& kind);  // gta | gaia | agentx
    void setMode(const QString& mode);       // step | e2e
    void setController(const QString& kind); // gold | perturbed | local | endpoint
    void setLimit(int n);
    void setModelDir(const QString& dir);  // the local model's folder
    void setFollow(bool on);
    void setWorkers(int n);
    void setJudge(const QString& url, const QString& model);  // Agent-X's LLM judge (empty: toolset F1 only)
    bool isRunning() const;
    // Evaluation jobs of this project queued, running or paused, plus a hand-started process followed (the close
    // dialog counts them).
    int unfinishedJobs() const;
    qint64 followedJob() const;
    JobListModel* jobsModel() const { return m_jobs; }
    RunAsForm* runAsForm() const { return m_runAs; }
    qint64 currentRunId() const { return m_runId; }
    QString progressText() const;
    qint64 resumableRunId() const { return m_resumable; }

public slots:
    void start();
    void pause();  // pauses the followed job, or continues it when paused
    void cancel();
    void resumeUnfinished();

signals:
    void runFinished(qint64 runId, const QString& status);
    void refreshed();
    // "Follow the current item" is on and the running item (end-to-end runs) changed or stored a step: show its
    // trajectory as it grows.
    void followItem(qint64 taskId, qint64 trajectoryId, int steps);

private slots:
    void pollAttached();

private:
    void launch(const QStringList& args);
    void follow(qint64 jobId);
    void onJobEnded(const matrix::jobs::Job& job);
    // Reads the run's progress from the store; `ended`: the process is gone, report the end once read.
    void readProgress(bool ended, const QString& failure = {});
    void updateControls();
    void updateControllerFields();
    void setProgress(int done, int total, std::optional<double> accuracy, double etaS, const QString& item);

    QPointer<ProjectSession> m_session;
    QString m_binary;
    JobListModel* m_jobs;
    JobFollower* m_follower;
    RunAsForm* m_runAs;
    bool m_starting = false;
    bool m_readInFlight = false;
    QComboBox *m_benchmark, *m_dataset, *m_mode, *m_controller, *m_adapter;
    QLineEdit *m_model, *m_endpoint, *m_endpointModel, *m_tools, *m_name, *m_judgeUrl, *m_judgeModel;
    QSpinBox *m_limit, *m_workers, *m_seed;
    QPushButton *m_start, *m_pause, *m_cancel, *m_resume;
    QProgressBar* m_progress;
    QLabel* m_status;
    QPlainTextEdit* m_log;
    QCheckBox* m_follow;
    qint64 m_followedTrajectory = 0;
    int m_followedSteps = -1;
    QTimer* m_poll;          // follows a hand-started `matrix eval` process (not a job)
    qint64 m_runId = 0;
    qint64 m_attachedPid = 0;  // that process
    qint64 m_resumable = 0;
    int m_attachedDone = -1;
    double m_attachedSince = 0;
};

}  // namespace matrix::ui
