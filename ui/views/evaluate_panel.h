// EvaluatePanel: the Evaluate dock. Pick a benchmark dataset of the project, the mode (GTA step-by-step or end to
// end), the controller (gold / perturbed replay, a local model with an adapter from the training runs list, or an
// endpoint), tools, limit, workers and seed; Start. The run executes as a separate `matrix eval` process (so it
// survives closing the window): the panel reads its progress lines (done/total, live accuracy, ETA), Pause sends it
// SIGUSR1 and Cancel SIGTERM (both leave a resumable run). On reopening a project the panel reattaches to a
// `matrix eval` process still running one of its runs (progress then comes from the store), or offers to resume
// an unfinished run. runFinished() tells the main window to show the run in Run Comparison at once.
// Store access only through the ProjectSession (ui/models/project_session.h).
#pragma once

#include <QPointer>
#include <QString>
#include <QWidget>

#include <optional>

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

class ProjectSession;

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
    void setFollow(bool on);
    void setWorkers(int n);
    void setJudge(const QString& url, const QString& model);  // Agent-X's LLM judge (empty: toolset F1 only)
    bool isRunning() const;
    qint64 currentRunId() const { return m_runId; }
    QString progressText() const;
    qint64 resumableRunId() const { return m_resumable; }

public slots:
    void start();
    void pause();
    void cancel();
    void resumeUnfinished();

signals:
    void runFinished(qint64 runId, const QString& status);
    void refreshed();
    // "Follow the current item" is on and the running item (end-to-end runs) changed or stored a step: show its
    // trajectory as it grows.
    void followItem(qint64 taskId, qint64 trajectoryId, int steps);

private slots:
    void onOutput();
    void pollAttached();

private:
    void launch(const QStringList& args);
    void updateControls();
    void updateControllerFields();
    void setProgress(int done, int total, std::optional<double> accuracy, double etaS, const QString& item);

    QPointer<ProjectSession> m_session;
    QString m_binary;
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
    QTimer* m_poll;
    QString m_buffer;        // the log file of the process started here (empty when reattached)
    qint64 m_logOffset = 0;
    qint64 m_runId = 0;
    qint64 m_attachedPid = 0;
    qint64 m_resumable = 0;
    int m_attachedDone = -1;
    double m_attachedSince = 0;
};

}  // namespace matrix::ui
