// RunGroupModel: per-level / per-category breakdown of a comparison (group, A, B, task counts, flips).
// Reads a core bench::Comparison; UI thread only.
#pragma once

#include <QAbstractTableModel>

#include "core/bench/compare.h"

namespace matrix::ui {

class RunGroupModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { GroupColumn, AColumn, BColumn, NAColumn, NBColumn, OnlyAColumn, OnlyBColumn, ColumnCount };
    using QAbstractTableModel::QAbstractTableModel;

    void setComparison(const bench::Comparison& c);
    const bench::GroupRow& group(int row) const { return m_groups[size_t(row)]; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    std::vector<bench::GroupRow> m_groups;
    std::string m_metric;
};

}  // namespace matrix::ui
