// RunGroupModel: per-level / per-category breakdown of a comparison of two or more runs: the group, one
// column per run (primary metric in the group, its 95% interval and the number of scored tasks), then one
// column per other run with the tasks it gained / lost against the baseline in that group.
// Reads a core eval::MultiComparison; UI thread only.
#pragma once

#include <QAbstractTableModel>

#include "core/eval/compare_multi.h"

namespace matrix::ui {

class RunGroupModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Roles { ValueRole = Qt::UserRole + 1, CountRole, GainedRole, LostRole };
    using QAbstractTableModel::QAbstractTableModel;

    void setComparison(const eval::MultiComparison& c);
    const eval::MultiGroupRow& group(int row) const { return m_groups[size_t(row)]; }
    int valueColumn(int run) const { return 1 + run; }
    int flipColumn(int run) const;  // -1 for the baseline

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    int runOfFlipColumn(int column) const;
    std::vector<eval::MultiGroupRow> m_groups;
    std::vector<std::string> m_labels;
    std::string m_metric;
    size_t m_baseline = 0;
};

}  // namespace matrix::ui
