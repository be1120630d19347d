// SynthesisPanel: the Synthesis dock. The M-TRACE synthesis pipeline (core/synth) as a table of stages with their
// counts (units in, outputs, rejected with the reasons, pending), requests, cache hits, paid tokens and cost; a
// form for the teacher endpoint, the seed examples (a dataset, a file, or tasks chosen in the task browser), the image
// pool with the local caption and embedding models, and the work limits. Run Stage starts `matrix synth run` as a
// job (core/jobs, through JobListModel like the Training dock: its own process that keeps running when the window
// closes) on this machine or on Slurm (RunAsForm, sbatch); the dock follows it from the project
// (JobFollower: state, the log's lines, progress with ETA), pauses / continues it and cancels it (the stage stops
// between units and carries on when run again), and reattaches to an unfinished synth job when the project opens.
// Enter (or a double-click) on a count lists the items behind it with their status and reason and asks the main
// window to filter the task browser to exactly those tasks; Enter on an item asks the main window to show that task
// (its files, images and trajectory). Store access only through the ProjectSession.
#pragma once

#include <QPointer>
#include <QString>
#include <QVector>
#include <QWidget>

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

class JobFollower;
class JobListModel;
class ProjectSession;
class RunAsForm;
class SynthPipelineModel;
class SynthItemsModel;

class SynthesisPanel : public QWidget {
    Q_OBJECT
public:
    explicit SynthesisPanel(ProjectSession* session, QWidget* parent = nullptr);
    ~SynthesisPanel() override;

    // Re-reads the pipeline's counts (and the seed datasets offered) through the session.
    void refresh();
    void setMatrixBinary(const QString& path) { m_binary = path; }
    QStringList startArguments() const;

    // For tests and screenshots.
    void setDataset(const QString& name);
    void setEndpoint(const QString& url, const QString& model);
    void setStage(const QString& stage);
    void setSeedDataset(const QString& name);
    void setLimit(int n);
    void setImagePool(const QString& dir);
    // The images stage's local models (--caption-model DIR, --embeddings-model DIR or the endpoint's model name).
    void setLocalModels(const QString& captionDir, const QString& embeddingsModel);
    RunAsForm* runAsForm() const { return m_runAs; }
    // Seed examples: these tasks' texts (a selection in the task browser); empty: the dataset or file fields.
    void setSeedTasks(const QVector<qint64>& ids);
    QVector<qint64> seedTasks() const { return m_seedTasks; }
    bool isRunning() const;
    int unfinishedJobs() const;  // synth jobs of this project queued, running or paused (they outlive the window)
    qint64 followedJob() const;
    JobListModel* jobsModel() const { return m_jobs; }
    QString progressText() const;
    QString reasonsText() const;
    SynthPipelineModel* pipelineModel() const { return m_pipeline; }
    SynthItemsModel* itemsModel() const { return m_items; }
    QTableView* pipelineView() const { return m_pipelineView; }
    QTableView* itemsView() const { return m_itemsView; }

public slots:
    void start();
    void cancel();
    void pause();  // pauses the followed job, or continues it when paused
    // Lists the items behind a stage's count: which = in | out | rejected | pending.
    void drillDown(const QString& stage, const QString& which);

signals:
    void refreshed();
    void itemsLoaded();
    void stageFinished(const QString& stage, int exitCode);
    void showTaskRequested(qint64 taskId);
    // A count's items for the task browser (task ids; rejected queries that never became tasks are not in it).
    void filterTasksRequested(const QVector<qint64>& taskIds, const QString& label);

private:
    void updateControls();
    void showReasons();
    void follow(qint64 jobId);
    void onLines(const QStringList& lines);
    void onJobEnded(const matrix::jobs::Job& job);

    QPointer<ProjectSession> m_session;
    QString m_binary;
    SynthPipelineModel* m_pipeline;
    SynthItemsModel* m_items;
    QTableView *m_pipelineView, *m_itemsView;
    QLineEdit *m_dataset, *m_endpoint, *m_model, *m_pool, *m_embeddings, *m_seedFile;
    QLineEdit *m_captionModel, *m_embeddingsModel;  // the images stage's local models (kept in the settings)
    RunAsForm* m_runAs;                             // a job on this machine or a Slurm job
    QComboBox *m_stage, *m_seedDataset;
    QSpinBox *m_limit, *m_workers, *m_budget;
    QPushButton *m_start, *m_pause, *m_cancel, *m_clearSeeds;
    QProgressBar* m_progress;
    QLabel *m_status, *m_reasons, *m_itemsTitle, *m_seedTasksLabel;
    QPlainTextEdit* m_log;
    JobListModel* m_jobs;
    JobFollower* m_follower;
    QVector<qint64> m_seedTasks;
    QString m_runningStage;
    QString m_summary;               // the job's last line: "stage S: finished, N units, ..."
    bool m_starting = false;        // a submit is on its way
};

}  // namespace matrix::ui
