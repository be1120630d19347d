// RunTaskModel and RunTaskFilterModel (see run_task_model.h).
#include "ui/models/run_task_model.h"

#include <QBrush>
#include <QColor>

namespace matrix::ui {

void RunTaskModel::setComparison(const eval::MultiComparison& c) {
    beginResetModel();
    m_c = c;
    endResetModel();
}

int RunTaskModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_c.tasks.size()); }
int RunTaskModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() || m_c.n_runs() == 0 ? 0 : 3 + int(m_c.n_runs());
}

QVariant RunTaskModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || size_t(index.row()) >= m_c.tasks.size()) return {};
    const eval::MultiTask& t = m_c.tasks[size_t(index.row())];
    if (role == TaskKeyRole) return QString::fromStdString(t.task_id);
    if (role == TaskIndexRole) return index.row();
    const int col = index.column();
    if (col == TaskColumn) return role == Qt::DisplayRole ? QString::fromStdString(t.task_id) : QVariant();
    if (col == GroupColumn) return role == Qt::DisplayRole ? QString::fromStdString(t.group) : QVariant();
    if (col == outcomeColumn()) {
        if (role == Qt::DisplayRole) return QString::fromStdString(m_c.outcome_label(t));
        if (role == Qt::ForegroundRole && !t.solved) return QBrush(QColor(120, 120, 120));
        return {};
    }
    const size_t run = size_t(col - 2);
    if (run >= m_c.n_runs()) return {};
    const auto& s = t.scores[run];
    switch (role) {
        case Qt::DisplayRole:
            if (s) return QString::number(*s, 'g', 3);
            return t.not_scored[run] == "not in this run" ? tr("absent") : tr("not scored");
        case Qt::ToolTipRole:
            if (s) return tr("%1: %2").arg(QString::fromStdString(m_c.run_labels[run])).arg(*s);
            return tr("%1: not scored (%2)").arg(QString::fromStdString(m_c.run_labels[run]),
                                                 QString::fromStdString(t.not_scored[run]));
        case Qt::TextAlignmentRole: return int(Qt::AlignCenter);
        case Qt::ForegroundRole:
            if (!s) return QBrush(QColor(120, 120, 120));
            return {};
        case Qt::BackgroundRole:
            if (eval::OutcomeFilter{eval::OutcomeKind::gained, int(run)}.matches(t, m_c.baseline))
                return QBrush(QColor(200, 240, 200));
            if (eval::OutcomeFilter{eval::OutcomeKind::lost, int(run)}.matches(t, m_c.baseline))
                return QBrush(QColor(250, 205, 205));
            return {};
    }
    return {};
}

QVariant RunTaskModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    if (section == TaskColumn) return tr("Task");
    if (section == GroupColumn) return tr("Group");
    if (section == outcomeColumn()) return tr("Outcome");
    const size_t run = size_t(section - 2);
    if (run >= m_c.n_runs()) return {};
    const QString l = QString::fromStdString(m_c.run_labels[run]);
    return run == m_c.baseline ? tr("%1 (baseline)").arg(l) : l;
}

void RunTaskFilterModel::setOutcomeFilter(const eval::OutcomeFilter& f) {
    m_filter = f;
    invalidateFilter();
}

QStringList RunTaskFilterModel::taskKeys() const {
    QStringList out;
    for (int r = 0; r < rowCount(); ++r) out << index(r, 0).data(RunTaskModel::TaskKeyRole).toString();
    return out;
}

bool RunTaskFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    const auto* m = qobject_cast<const RunTaskModel*>(sourceModel());
    if (!m || sourceParent.isValid()) return true;
    return m_filter.matches(m->task(sourceRow), m->comparison().baseline);
}

bool RunTaskFilterModel::lessThan(const QModelIndex& left, const QModelIndex& right) const {
    // Task ids are often numeric ("2" < "10").
    bool okl = false, okr = false;
    const qlonglong l = left.data().toString().toLongLong(&okl), r = right.data().toString().toLongLong(&okr);
    if (okl && okr) return l < r;
    return QSortFilterProxyModel::lessThan(left, right);
}

}  // namespace matrix::ui
