// TaskBrowser: the task table (TaskTableModel, paged from SQLite) with a full-text search box (FTS5, debounced)
// and filters: dataset, tool used, verdict, #steps range, missing images, pair status; sortable columns; a count
// of matching tasks. Emits taskSelected for the other panes. A drill-down from a count elsewhere (the Synthesis dock's
// pipeline) narrows the table to exactly those task ids, shown as a chip above the table with its label; Esc or the
// chip's button clears it. Several rows can be selected: "Use as Synthesis Seeds" (Ctrl+Shift+U, also in the context
// menu) hands their ids to the Synthesis dock. UI thread only.
#pragma once

#include <QVector>
#include <QWidget>

#include "core/store/task_repo.h"

class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTableView;
class QToolButton;
class QTimer;

namespace matrix::ui {

class ProjectSession;
class TaskTableModel;

struct DatasetEntry {
    qint64 id = 0;
    QString name;
    QString kind;
    qint64 tasks = 0, pairs = 0;
};

class TaskBrowser : public QWidget {
    Q_OBJECT
public:
    explicit TaskBrowser(ProjectSession* session, QWidget* parent = nullptr);

    void setDatasets(const QVector<DatasetEntry>& datasets);
    void setTools(const QStringList& tools);
    // Actions offered in the table's context menu (on the task under the cursor, which is selected first).
    void setContextActions(const QList<QAction*>& actions) { m_contextActions = actions; }
    const QList<QAction*>& contextActions() const { return m_contextActions; }
    TaskTableModel* model() const { return m_model; }
    QTableView* table() const { return m_table; }
    QLineEdit* searchBox() const { return m_search; }
    QComboBox* datasetBox() const { return m_dataset; }
    QComboBox* toolBox() const { return m_tool; }
    QComboBox* verdictBox() const { return m_verdict; }
    QComboBox* missingBox() const { return m_missing; }
    QComboBox* pairStatusBox() const { return m_pairStatus; }
    QSpinBox* minStepsBox() const { return m_minSteps; }
    QSpinBox* maxStepsBox() const { return m_maxSteps; }
    store::TaskFilter currentFilter() const;
    qint64 currentTaskId() const;
    // The selected rows' task ids, in table order (the current row alone when nothing else is selected).
    QVector<qint64> selectedTaskIds() const;
    QAction* useAsSeedsAction() const { return m_useAsSeeds; }
    // The drill-down filter (exactly these tasks; the other filters still apply) and the chip's text.
    void setIdFilter(const QVector<qint64>& ids, const QString& label);
    bool hasIdFilter() const { return m_idFilter.has_value(); }
    QString idFilterLabel() const;
    QWidget* filterChip() const { return m_chip; }
    QString countText() const;

public slots:
    void applyFilter();  // rebuilds the filter from the widgets and reloads the model
    void reload();
    void focusSearch();
    void selectRow(int row);
    void selectNext();
    void selectPrevious();
    void clearIdFilter();

signals:
    void taskSelected(qint64 taskId);
    void datasetChanged(std::optional<qint64> datasetId);
    void seedsRequested(const QVector<qint64>& taskIds);  // "Use as Synthesis Seeds" on the selection

private:
    void updateCount();

    ProjectSession* m_session;
    TaskTableModel* m_model;
    QTableView* m_table;
    QLineEdit* m_search;
    QComboBox* m_dataset;
    QComboBox* m_tool;
    QComboBox* m_verdict;
    QComboBox* m_missing;
    QComboBox* m_pairStatus;
    QSpinBox* m_minSteps;
    QSpinBox* m_maxSteps;
    QLabel* m_count;
    QTimer* m_debounce;
    qint64 m_pendingSelect = 0;
    QList<QAction*> m_contextActions;
    QAction* m_useAsSeeds;
    QAction* m_clearFilterKey;  // Esc, enabled only while the id filter is on (otherwise Esc goes elsewhere)
    std::optional<std::vector<int64_t>> m_idFilter;
    QWidget* m_chip;
    QLabel* m_chipText;
    QToolButton* m_chipClear;
};

}  // namespace matrix::ui
