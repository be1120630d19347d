// TrainingPanel: the "train from a button" pane. Left: stage (SFT / DPO), base model directory (checked on
// selection: architecture, size, dtype), starting adapter, dataset, output directory, the hyperparameter form
// generated from core's key table (same keys and defaults as `matrix train`), device, Train / Pause / Cancel /
// Resume / Continue. Right: live charts (loss with eval loss, learning rate; DPO reward margin and accuracy),
// progress with ETA and tokens/s, the log, and the run history whose curves can be shown and overlaid (select two
// runs). A self-contained QWidget: the main window docks it and calls setProjectPath().
// The run itself executes in a TrainingWorker on a QThread owned by the panel.
#pragma once

#include <QMap>
#include <QString>
#include <QVariantMap>
#include <QWidget>

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
class QChart;
class QChartView;
class QLineSeries;
class QValueAxis;
class QFormLayout;
class QGroupBox;

namespace matrix::ui {

class TrainingRunsModel;
class TrainingWorker;

class TrainingPanel : public QWidget {
    Q_OBJECT
public:
    explicit TrainingPanel(QWidget* parent = nullptr);
    ~TrainingPanel() override;

    void setProjectPath(const QString& path);
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
    int chartPointCount() const;  // points in the live loss series

public slots:
    void startTraining();
    void pauseTraining();
    void cancelTraining();
    void resumeSelected();        // a paused / killed run, from its last checkpoint
    void continueSelected();      // a finished run, for N more epochs
    void showSelectedRuns();      // past curves; two selected runs are overlaid

signals:
    void trainingFinished(const QString& status, qint64 runId, const QString& message);

private slots:
    void onStep(const QVariantMap& report);
    void onLog(const QString& line);
    void onFinished(const QString& status, qint64 runId, const QString& message);
    void onStageChanged();
    void checkModelDir();

private:
    QWidget* buildForm();
    QWidget* buildCharts();
    void launch(const matrix::train::TrainRequest& request);
    void resetLiveCharts(bool dpo);
    void setBusy(bool busy);
    void fitAxes();

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
    QChart* m_lossChart = nullptr;
    QChart* m_lrChart = nullptr;
    QChart* m_dpoChart = nullptr;
    QChartView* m_dpoView = nullptr;
    QLineSeries* m_loss = nullptr;
    QLineSeries* m_evalLoss = nullptr;
    QLineSeries* m_lr = nullptr;
    QLineSeries* m_margin = nullptr;
    QLineSeries* m_accuracy = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_progressText = nullptr;
    QPlainTextEdit* m_log = nullptr;
    QTableView* m_history = nullptr;
    TrainingRunsModel* m_runs = nullptr;
    // worker
    QThread* m_thread = nullptr;
    TrainingWorker* m_worker = nullptr;
};

}  // namespace matrix::ui
