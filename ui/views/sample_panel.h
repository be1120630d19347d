// SamplePanel (the Sample dock): step-wise Pref-X sampling from the workbench. A form (dataset, controller: local model
// + adapter or an endpoint, verifier: an endpoint or the controller's own model, K, task limit, seed, limits), Start /
// Resume / Cancel, a progress bar with tasks done, pairs and ETA, and a log of stored steps. Below, the review of a
// sampling run: approvals and rejections by reason, and the "verifier vs you" queue (pairs whose decision disagrees
// with the verifier); activating one shows it in Pair Curation. Start and Resume launch `matrix sample run|resume` as a
// job (core/jobs, through JobListModel like the Training dock: a process of its own that keeps running when the window
// closes), on this machine or on Slurm (RunAsForm, sbatch); the dock follows it from the project (JobFollower: state,
// the log's step lines, progress with ETA), pauses / continues and cancels it, and reattaches to an unfinished sampling
// job when the project opens. Reads go through the ProjectSession. UI thread only.
#pragma once

#include <QString>
#include <QWidget>

#include <QMetaType>

#include "core/agent/sampling.h"
#include "core/jobs/job_repo.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableView;

namespace matrix::ui {

class DecisionCountModel;
class DisagreementModel;
class JobFollower;
class JobListModel;
class ProjectSession;
class RunAsForm;

// How a sampling job ended, as the dock read it from the job's row and log.
struct SamplingOutcome {
    qint64 runId = 0;
    QString status;  // finished | cancelled | failed
    QString error;
    qint64 pairs = 0;
    int tasks = 0;
};

class SamplePanel : public QWidget {
    Q_OBJECT
public:
    explicit SamplePanel(ProjectSession* session, QWidget* parent = nullptr);
    ~SamplePanel() override;

    void setProjectPath(const QString& path);
    // The form as settings (false with `error` set when a value is missing).
    bool collectSettings(matrix::agent::SamplingSettings* out, QString* error) const;

    // For tests and the main window.
    void setDataset(const QString& name);
    void setModelDir(const QString& dir, const QString& adapter = {});
    void setEndpoint(const QString& url, const QString& model);
    void setVerifierEndpoint(const QString& url, const QString& model);
    void setCandidates(int k);
    void setLimit(int tasks);
    void setMaxNewTokens(int tokens);
    void setMaxSteps(int steps);
    void setWorkRoot(const QString& dir) { m_workRoot = dir; }
    void setMatrixBinary(const QString& path) { m_binary = path; }
    // The `matrix sample run` arguments of the form (false with `error` set when a value is missing).
    bool startArguments(QStringList* out, QString* error) const;
    bool isSampling() const;
    int unfinishedJobs() const;  // sampling jobs of this project queued, running or paused
    qint64 followedJob() const;
    JobListModel* jobsModel() const { return m_jobs; }
    RunAsForm* runAsForm() const { return m_runAs; }
    QString progressText() const;
    qint64 reviewRunId() const { return m_reviewRunId; }
    DecisionCountModel* decisionModel() const { return m_counts; }
    DisagreementModel* disagreementModel() const { return m_disagreements; }
    QTableView* disagreementView() const { return m_disagreementView; }

public slots:
    void startSampling();
    void resumeSampling();  // the run shown in the review
    void cancelSampling();
    void pauseSampling();  // pauses the followed job, or continues it when paused
    void refreshReview();
    void refreshDatasets();

signals:
    void pairsChanged();                 // pairs were stored: curation should reload
    void showPairRequested(qint64 pairId);
    void samplingFinished(const matrix::ui::SamplingOutcome& outcome);

private:
    void launch(const QStringList& arguments);
    void follow(qint64 jobId);
    void onLines(const QStringList& lines);
    void onJobEnded(const matrix::jobs::Job& job);
    void updateButtons();
    void log(const QString& line);

    ProjectSession* m_session;
    QString m_projectPath, m_workRoot, m_binary;
    JobListModel* m_jobs;
    JobFollower* m_follower;
    bool m_starting = false;
    int m_tasks = 0;
    QComboBox* m_dataset;
    QComboBox* m_controllerKind;
    QLineEdit* m_model;
    QLineEdit* m_adapter;
    QLineEdit* m_endpoint;
    QLineEdit* m_endpointModel;
    QLineEdit* m_verifierUrl;
    QLineEdit* m_verifierModel;
    QSpinBox* m_k;
    QSpinBox* m_limit;
    QSpinBox* m_seed;
    QSpinBox* m_maxSteps;
    QSpinBox* m_maxNewTokens;
    RunAsForm* m_runAs;  // a job on this machine or a Slurm job (before the buttons: the Tab order)
    QPushButton* m_start;
    QPushButton* m_resume;
    QPushButton* m_pause;
    QPushButton* m_cancel;
    QProgressBar* m_progress;
    QLabel* m_status;
    QPlainTextEdit* m_log;
    QComboBox* m_reviewRun;
    DecisionCountModel* m_counts;
    DisagreementModel* m_disagreements;
    QTableView* m_countView;
    QTableView* m_disagreementView;
    qint64 m_reviewRunId = 0;
    qint64 m_runId = 0;
    qint64 m_pairs = 0;
    int m_reviewGeneration = 0;
};

}  // namespace matrix::ui

Q_DECLARE_METATYPE(matrix::ui::SamplingOutcome)
