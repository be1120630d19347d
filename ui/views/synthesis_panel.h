// SynthesisPanel: the Synthesis dock. The M-TRACE synthesis pipeline (core/synth) as a table of stages with their
// counts (units in, outputs, rejected with the reasons, pending), requests, cache hits, paid tokens and cost; a
// form for the teacher endpoint, the seed examples, the image pool and the work limits; Run Stage starts
// `matrix synth run` as a child process (progress lines with ETA shown in the bar), Cancel sends it SIGTERM (the
// job stops between units and carries on when run again). Enter (or a double-click) on a count lists the items
// behind it with their status and reason; Enter on an item asks the main window to show that task (its files,
// images and trajectory). Store access only through the ProjectSession.
#pragma once

#include <QPointer>
#include <QProcess>
#include <QString>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableView;

namespace matrix::ui {

class ProjectSession;
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
    bool isRunning() const;
    QString progressText() const;
    QString reasonsText() const;
    SynthPipelineModel* pipelineModel() const { return m_pipeline; }
    SynthItemsModel* itemsModel() const { return m_items; }
    QTableView* pipelineView() const { return m_pipelineView; }
    QTableView* itemsView() const { return m_itemsView; }

public slots:
    void start();
    void cancel();
    // Lists the items behind a stage's count: which = in | out | rejected | pending.
    void drillDown(const QString& stage, const QString& which);

signals:
    void refreshed();
    void itemsLoaded();
    void stageFinished(const QString& stage, int exitCode);
    void showTaskRequested(qint64 taskId);

private slots:
    void onOutput();
    void onFinished(int exitCode, QProcess::ExitStatus status);

private:
    void updateControls();
    void showReasons();

    QPointer<ProjectSession> m_session;
    QString m_binary;
    SynthPipelineModel* m_pipeline;
    SynthItemsModel* m_items;
    QTableView *m_pipelineView, *m_itemsView;
    QLineEdit *m_dataset, *m_endpoint, *m_model, *m_pool, *m_embeddings, *m_seedFile;
    QComboBox *m_stage, *m_seedDataset;
    QSpinBox *m_limit, *m_workers, *m_budget;
    QPushButton *m_start, *m_cancel;
    QProgressBar* m_progress;
    QLabel *m_status, *m_reasons, *m_itemsTitle;
    QPlainTextEdit* m_log;
    QProcess* m_process = nullptr;
    QString m_runningStage;
    QByteArray m_pendingOut, m_pendingErr;  // unfinished lines of the process's streams
};

}  // namespace matrix::ui
