// RunTaskModel: the per-task grid of a comparison (task, group, score A, score B, flip) and
// RunTaskFilterModel, a proxy that keeps one flip kind ("solved only by A", "only by B", "both", "neither").
// Reads a core bench::Comparison; UI thread only.
#pragma once

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>

#include "core/bench/compare.h"

namespace matrix::ui {

class RunTaskModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { TaskColumn, GroupColumn, AColumn, BColumn, FlipColumn, ColumnCount };
    enum Roles { FlipRole = Qt::UserRole + 1, TaskKeyRole };
    using QAbstractTableModel::QAbstractTableModel;

    void setComparison(const bench::Comparison& c);
    const bench::TaskPair& task(int row) const { return m_tasks[size_t(row)]; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    static QString flipLabel(bench::FlipKind k);

private:
    std::vector<bench::TaskPair> m_tasks;
};

class RunTaskFilterModel : public QSortFilterProxyModel {
    Q_OBJECT
public:
    using QSortFilterProxyModel::QSortFilterProxyModel;
    // nullopt: all tasks.
    void setFlipFilter(std::optional<bench::FlipKind> kind);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

private:
    std::optional<bench::FlipKind> m_flip;
};

}  // namespace matrix::ui
