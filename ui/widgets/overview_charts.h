// OverviewCharts: the dataset overview as four QtCharts: tool-call distribution, steps per trajectory,
// trajectory verdicts and pair curation status. Takes the counts as plain data (computed off the UI thread by
// OverviewLoader); UI thread only.
#pragma once

#include <QMap>
#include <QString>
#include <QVector>
#include <QWidget>

class QChartView;
class QLabel;

namespace matrix::ui {

struct OverviewStats {
    QString title;                       // "All datasets" / dataset name
    QVector<QPair<QString, qint64>> toolCalls;  // tool -> calls, descending
    QMap<int, qint64> stepsHistogram;    // #steps -> trajectories
    QMap<QString, qint64> verdicts;      // yes/no/unknown -> tasks
    QMap<QString, qint64> pairStatus;    // pending/approved/rejected -> pairs
    qint64 tasks = 0, pairs = 0, missingImages = 0;
};

class OverviewCharts : public QWidget {
    Q_OBJECT
public:
    explicit OverviewCharts(QWidget* parent = nullptr);
    void setStats(const OverviewStats& stats);
    const OverviewStats& stats() const { return m_stats; }

private:
    OverviewStats m_stats;
    QLabel* m_summary;
    QChartView* m_tools;
    QChartView* m_steps;
    QChartView* m_verdicts;
    QChartView* m_pairs;
};

}  // namespace matrix::ui
