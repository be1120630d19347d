// RunTaskModel: the per-task grid of a comparison of two or more runs (task, group, one score column per
// run, outcome relative to the baseline) and RunTaskFilterModel, a proxy that keeps one outcome class
// (solved only by the baseline / only by run X / by all / by none, gained or lost against the baseline,
// not scored). A run's score cell is tinted green where it solved a task the baseline did not and red
// where it lost one; cells without a score say why (e.g. "needs embedding model"). Reads a core
// eval::MultiComparison; UI thread only.
#pragma once

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

#include "core/eval/compare_multi.h"

namespace matrix::ui {

class RunTaskModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Roles { TaskKeyRole = Qt::UserRole + 1, TaskIndexRole };
    enum { TaskColumn = 0, GroupColumn = 1 };
    using QAbstractTableModel::QAbstractTableModel;

    void setComparison(const eval::MultiComparison& c);
    const eval::MultiComparison& comparison() const { return m_c; }
    const eval::MultiTask& task(int row) const { return m_c.tasks[size_t(row)]; }
    int scoreColumn(int run) const { return 2 + run; }
    int outcomeColumn() const { return 2 + int(m_c.n_runs()); }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    eval::MultiComparison m_c;
};

class RunTaskFilterModel : public QSortFilterProxyModel {
    Q_OBJECT
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    void setOutcomeFilter(const eval::OutcomeFilter& f);
    const eval::OutcomeFilter& outcomeFilter() const { return m_filter; }
    QStringList taskKeys() const;  // the shown tasks, in display order

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

private:
    eval::OutcomeFilter m_filter;
};

}  // namespace matrix::ui
