// RunGroupModel (see run_group_model.h).
#include "ui/models/run_group_model.h"

#include "ui/models/run_metrics_model.h"

namespace matrix::ui {

void RunGroupModel::setComparison(const bench::Comparison& c) {
    beginResetModel();
    m_groups = c.groups;
    m_metric = c.primary_metric;
    endResetModel();
}

int RunGroupModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_groups.size()); }
int RunGroupModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RunGroupModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || size_t(index.row()) >= m_groups.size() || role != Qt::DisplayRole) return {};
    const bench::GroupRow& g = m_groups[size_t(index.row())];
    switch (index.column()) {
        case GroupColumn: return QString::fromStdString(g.group);
        case AColumn: return formatValue(g.a);
        case BColumn: return formatValue(g.b);
        case NAColumn: return g.n_a;
        case NBColumn: return g.n_b;
        case OnlyAColumn: return g.only_a;
        case OnlyBColumn: return g.only_b;
    }
    return {};
}

QVariant RunGroupModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case GroupColumn: return tr("Level / category");
        case AColumn: return tr("A %1").arg(QString::fromStdString(m_metric));
        case BColumn: return tr("B %1").arg(QString::fromStdString(m_metric));
        case NAColumn: return tr("n A");
        case NBColumn: return tr("n B");
        case OnlyAColumn: return tr("only A");
        case OnlyBColumn: return tr("only B");
    }
    return {};
}

}  // namespace matrix::ui
