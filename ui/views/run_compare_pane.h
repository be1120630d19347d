// RunComparePane: the evaluation-run comparison pane, a self-contained widget the main window docks.
// Runs table (select two: A = the older, B = the newer), scorer choice, then: metrics side by side (table +
// bar chart with differences and 95% intervals), the per-task grid with flip filters (solved only by A /
// only by B / both / neither), per-level/per-category breakdown, export as CSV and as PNG/SVG chart; a
// double-click on a task opens both trajectories aligned with the gold one.
// Threads: the pane keeps one store connection for the UI thread (run list, task details); a comparison
// (which scores both runs and writes the scores back) runs in a QtConcurrent job on its own connection.
#pragma once

#include <QFutureWatcher>
#include <QWidget>
#include <memory>
#include <optional>

#include "core/bench/compare.h"
#include "core/store/project.h"

class QComboBox;
class QLabel;
class QPushButton;
class QTableView;
class QTabWidget;
QT_BEGIN_NAMESPACE
class QChartView;
QT_END_NAMESPACE

namespace matrix::ui {

class RunListModel;
class RunMetricsModel;
class RunTaskModel;
class RunTaskFilterModel;
class RunGroupModel;
class RunCompareTaskView;

class RunComparePane : public QWidget {
    Q_OBJECT
public:
    explicit RunComparePane(const QString& projectPath, QWidget* parent = nullptr);
    ~RunComparePane() override;

    QString projectPath() const { return m_projectPath; }
    bool isOpen() const { return m_project != nullptr; }

    // Compares two runs with the scorer chosen in the pane; comparisonReady() / comparisonFailed() follow.
    void compareRuns(qint64 runA, qint64 runB);
    void setScorer(const QString& scorer);  // "official" | "matrix"
    // nullopt: all tasks.
    void setFlipFilter(std::optional<bench::FlipKind> kind);
    bool exportCsv(const QString& path) const;
    bool exportChart(const QString& path) const;  // .svg -> SVG, anything else -> PNG
    // Opens the aligned-trajectory view of a task of the current comparison (nullptr when none).
    RunCompareTaskView* openTask(const QString& taskKey);

    const std::optional<bench::Comparison>& comparison() const { return m_comparison; }
    RunListModel* runModel() const { return m_runs; }
    RunMetricsModel* metricsModel() const { return m_metrics; }
    RunTaskFilterModel* taskFilterModel() const { return m_taskFilter; }
    RunGroupModel* groupModel() const { return m_groups; }
    QTabWidget* tabs() const { return m_tabs; }

public slots:
    void reload();  // re-reads the run list (after an import)

signals:
    void comparisonReady();
    void comparisonFailed(const QString& message);

private:
    void compareSelected();
    void onComparisonFinished();
    void showStatus(const QString& text);
    QString runName(qint64 id) const;

    QString m_projectPath;
    std::unique_ptr<store::Project> m_project;
    qint64 m_runA = 0, m_runB = 0;
    std::optional<bench::Comparison> m_comparison;
    QFutureWatcher<std::pair<QString, std::optional<bench::Comparison>>> m_watcher;

    RunListModel* m_runs = nullptr;
    RunMetricsModel* m_metrics = nullptr;
    RunTaskModel* m_tasks = nullptr;
    RunTaskFilterModel* m_taskFilter = nullptr;
    RunGroupModel* m_groups = nullptr;
    QTableView* m_runTable = nullptr;
    QTableView* m_metricTable = nullptr;
    QTableView* m_taskTable = nullptr;
    QTableView* m_groupTable = nullptr;
    QChartView* m_chartView = nullptr;
    QComboBox* m_scorer = nullptr;
    QComboBox* m_flipFilter = nullptr;
    QPushButton* m_compareButton = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_flipSummary = nullptr;
    QTabWidget* m_tabs = nullptr;
};

}  // namespace matrix::ui
