// RunComparePane: the evaluation-run comparison pane, a self-contained widget the main window docks.
// Runs table (select two or more), a baseline among them, scorer choice, then: metrics side by side (table
// with 95% intervals and differences to the baseline, grouped bar chart), the per-task grid with outcome
// filters relative to the baseline (solved only by the baseline / only by run X / by all / by none, gained
// or lost by run X, not scored), per-level/per-category breakdown, tasks a scorer could not score with the
// reason (GTA subjective items: "needs embedding model"), export as CSV and as PNG/SVG chart. Enter or a
// double-click on a task opens every compared run's trajectory aligned with the gold one.
// Keyboard: Ctrl+Return compare, F5 reload runs, Ctrl+Shift+C export CSV, Ctrl+Shift+E export chart
// (shown in the buttons' tooltips; active while the focus is in the pane).
// Threads: the pane reads the store only through ProjectSession: the run list, a comparison (which scores the runs
// and writes the scores back, so it is posted in order with the other writes) and a task's details run on the
// session's worker thread and come back as signals (runsLoaded, comparisonReady, taskOpened).
#pragma once

#include <QPointer>
#include <QVector>
#include <QWidget>
#include <optional>

#include "core/eval/compare_multi.h"
#include "ui/views/run_compare_task_view.h"  // complete for the taskOpened signal's metatype

class QAction;
class QComboBox;
class QLabel;
class QResizeEvent;
class QSplitter;
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
class ProjectSession;

class RunComparePane : public QWidget {
    Q_OBJECT
public:
    // Reads through `session` (not owned; open, or opened later: reload() when it is).
    explicit RunComparePane(ProjectSession* session, QWidget* parent = nullptr);
    ~RunComparePane() override;

    QString projectPath() const;
    bool isOpen() const;

    // Compares the runs (two or more) against runs[baseline] with the scorer chosen in the pane;
    // comparisonReady() / comparisonFailed() follow.
    void compareRuns(const QVector<qint64>& runs, int baseline = 0);
    void compareRuns(qint64 runA, qint64 runB) { compareRuns(QVector<qint64>{runA, runB}, 0); }
    // Selects these runs in the runs table (the baseline box follows).
    void selectRuns(const QVector<qint64>& runs);
    // Re-compares the current runs against another one of them (index into comparedRuns()).
    void setBaseline(int runIndex);
    void setScorer(const QString& scorer);  // "official" | "matrix"
    void setOutcomeFilter(const eval::OutcomeFilter& filter);
    // The task grid's filter choices for the current comparison, in the box's order.
    const QVector<QPair<QString, eval::OutcomeFilter>>& outcomeFilters() const { return m_filters; }
    bool exportCsv(const QString& path) const;
    bool exportChart(const QString& path) const;  // .svg -> SVG, anything else -> PNG
    // Reads a task of the current comparison across the compared runs and opens its aligned-trajectory view
    // (shown when `show`): taskOpened(view) follows, or a status line naming why not.
    void openTask(const QString& taskKey, bool show = false);

    const std::optional<eval::MultiComparison>& comparison() const { return m_comparison; }
    const QVector<qint64>& comparedRuns() const { return m_compared; }
    RunListModel* runModel() const { return m_runs; }
    RunMetricsModel* metricsModel() const { return m_metrics; }
    RunTaskModel* taskModel() const { return m_tasks; }
    RunTaskFilterModel* taskFilterModel() const { return m_taskFilter; }
    RunGroupModel* groupModel() const { return m_groups; }
    QTabWidget* tabs() const { return m_tabs; }
    QLabel* notScoredLabel() const { return m_notScored; }
    QTableView* taskTable() const { return m_taskTable; }
    QList<QAction*> paneActions() const;

public slots:
    void reload();  // re-reads the run list (after an import)

signals:
    void runsLoaded();
    void comparisonReady();
    void comparisonFailed(const QString& message);
    void taskOpened(matrix::ui::RunCompareTaskView* view);

protected:
    // Wide and short (a bottom dock): metrics table beside the chart; otherwise the chart below the table.
    void resizeEvent(QResizeEvent* event) override;

private:
    using Outcome = std::pair<QString, std::optional<eval::MultiComparison>>;
    void compareSelected();
    void layoutMetrics();
    void onSelectionChanged();
    void onComparisonFinished(Outcome result);
    void rebuildFilters();
    void showStatus(const QString& text);
    QString runName(qint64 id) const;

    QPointer<ProjectSession> m_session;
    QVector<qint64> m_compared, m_pending;
    int m_pendingBaseline = 0;
    bool m_comparing = false;
    std::optional<eval::MultiComparison> m_comparison;
    QVector<QPair<QString, eval::OutcomeFilter>> m_filters;

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
    QSplitter* m_metricsSplit = nullptr;
    QComboBox* m_scorer = nullptr;
    QComboBox* m_baseline = nullptr;
    QComboBox* m_outcomeFilter = nullptr;
    QAction* m_compareAction = nullptr;
    QAction* m_reloadAction = nullptr;
    QAction* m_csvAction = nullptr;
    QAction* m_chartAction = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_flipSummary = nullptr;
    QLabel* m_notScored = nullptr;
    QTabWidget* m_tabs = nullptr;
};

}  // namespace matrix::ui
