// RunGroupModel (see run_group_model.h).
#include "ui/models/run_group_model.h"

#include "ui/models/run_metrics_model.h"

namespace matrix::ui {

void RunGroupModel::setComparison(const eval::MultiComparison& c) {
    beginResetModel();
    m_groups = c.groups;
    m_labels = c.run_labels;
    m_metric = c.primary_metric;
    m_baseline = c.baseline;
    endResetModel();
}

int RunGroupModel::flipColumn(int run) const {
    if (run < 0 || size_t(run) == m_baseline || size_t(run) >= m_labels.size()) return -1;
    return 1 + int(m_labels.size()) + run - (size_t(run) > m_baseline ? 1 : 0);
}

int RunGroupModel::runOfFlipColumn(int column) const {
    const int k = column - 1 - int(m_labels.size());
    if (k < 0 || k >= int(m_labels.size()) - 1) return -1;
    return k >= int(m_baseline) ? k + 1 : k;
}

int RunGroupModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_groups.size()); }
int RunGroupModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() || m_labels.empty() ? 0 : 2 * int(m_labels.size());
}

QVariant RunGroupModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || size_t(index.row()) >= m_groups.size()) return {};
    const eval::MultiGroupRow& g = m_groups[size_t(index.row())];
    const int col = index.column();
    if (col == 0) return role == Qt::DisplayRole ? QString::fromStdString(g.group) : QVariant();
    if (col <= int(m_labels.size())) {
        const size_t run = size_t(col - 1);
        switch (role) {
            case Qt::DisplayRole:
                return g.values[run] ? tr("%1  %2  (n=%3)").arg(formatValue(g.values[run]), formatInterval(g.cis[run])).arg(g.n[run])
                                     : QStringLiteral("-");
            case ValueRole: return g.values[run] ? QVariant(*g.values[run]) : QVariant();
            case CountRole: return g.n[run];
            case Qt::TextAlignmentRole: return int(Qt::AlignRight | Qt::AlignVCenter);
        }
        return {};
    }
    const int run = runOfFlipColumn(col);
    if (run < 0) return {};
    switch (role) {
        case Qt::DisplayRole: return tr("+%1 / -%2").arg(g.gained[size_t(run)]).arg(g.lost[size_t(run)]);
        case GainedRole: return g.gained[size_t(run)];
        case LostRole: return g.lost[size_t(run)];
        case Qt::TextAlignmentRole: return int(Qt::AlignCenter);
        case Qt::ToolTipRole:
            return tr("Tasks of this group %1 solved and the baseline did not (+) / the baseline solved and it did not (-)")
                .arg(QString::fromStdString(m_labels[size_t(run)]));
    }
    return {};
}

QVariant RunGroupModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    if (section == 0) return tr("Level / category");
    if (section <= int(m_labels.size())) {
        const QString l = QString::fromStdString(m_labels[size_t(section - 1)]);
        return size_t(section - 1) == m_baseline ? tr("%1 (baseline) %2").arg(l, QString::fromStdString(m_metric))
                                                 : tr("%1 %2").arg(l, QString::fromStdString(m_metric));
    }
    const int run = runOfFlipColumn(section);
    if (run < 0) return {};
    return tr("%1 vs baseline").arg(QString::fromStdString(m_labels[size_t(run)]));
}

}  // namespace matrix::ui
