// TrainingCharts: the training panel's live charts (loss with eval loss, learning rate; DPO reward margin and
// accuracy), fed step by step while a run reports (from the worker thread's signals, or from the store while a
// `matrix train` job writes its metrics), or filled with past runs' curves (two overlaid). Pure view: no store.
#pragma once

#include <QColor>
#include <QMap>
#include <QPointF>
#include <QString>
#include <QVector>
#include <QWidget>

class QChart;
class QChartView;
class QLineSeries;

namespace matrix::ui {

class TrainingCharts : public QWidget {
    Q_OBJECT
public:
    explicit TrainingCharts(QWidget* parent = nullptr);

    // Fresh live series; the DPO chart shows when `dpo`.
    void resetLive(bool dpo);
    // One training step of the live run (eval points and DPO rewards with their own calls).
    void appendStep(double step, double loss, double lr);
    void appendEval(double step, double evalLoss);
    void appendDpo(double step, double margin, double accuracy);
    // Past runs' curves: metric name -> points, per run (at most two overlaid). Ends the live series.
    struct RunCurves {
        qint64 runId = 0;
        QMap<QString, QVector<QPointF>> series;  // loss, eval_loss, lr, rewards/margin, rewards/accuracy
    };
    void showRuns(const QVector<RunCurves>& runs);

    bool hasLive() const { return m_loss != nullptr; }
    int livePointCount() const;
    void setDpoVisible(bool on);

private:
    void fit();

    QChart* m_lossChart = nullptr;
    QChart* m_lrChart = nullptr;
    QChart* m_dpoChart = nullptr;
    QChartView* m_dpoView = nullptr;
    QLineSeries* m_loss = nullptr;
    QLineSeries* m_evalLoss = nullptr;
    QLineSeries* m_lr = nullptr;
    QLineSeries* m_margin = nullptr;
    QLineSeries* m_accuracy = nullptr;
};

}  // namespace matrix::ui
