// RunTaskModel and RunTaskFilterModel (see run_task_model.h).
#include "ui/models/run_task_model.h"

#include <QBrush>
#include <QColor>

#include "ui/models/run_metrics_model.h"

namespace matrix::ui {

QString RunTaskModel::flipLabel(bench::FlipKind k) {
    switch (k) {
        case bench::FlipKind::only_a: return tr("solved only by A");
        case bench::FlipKind::only_b: return tr("solved only by B");
        case bench::FlipKind::both: return tr("both");
        case bench::FlipKind::neither: return tr("neither");
        case bench::FlipKind::unscored: return tr("not scored");
    }
    return {};
}

void RunTaskModel::setComparison(const bench::Comparison& c) {
    beginResetModel();
    m_tasks = c.tasks;
    endResetModel();
}

int RunTaskModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_tasks.size()); }
int RunTaskModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RunTaskModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || size_t(index.row()) >= m_tasks.size()) return {};
    const bench::TaskPair& t = m_tasks[size_t(index.row())];
    if (role == FlipRole) return int(t.flip);
    if (role == TaskKeyRole) return QString::fromStdString(t.task_id);
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
            case TaskColumn: return QString::fromStdString(t.task_id);
            case GroupColumn: return QString::fromStdString(t.group);
            case AColumn: return t.a ? QString::number(*t.a, 'g', 3) : QStringLiteral("-");
            case BColumn: return t.b ? QString::number(*t.b, 'g', 3) : QStringLiteral("-");
            case FlipColumn: return flipLabel(t.flip);
        }
    } else if (role == Qt::BackgroundRole && index.column() == FlipColumn) {
        if (t.flip == bench::FlipKind::only_a) return QBrush(QColor(250, 205, 205));
        if (t.flip == bench::FlipKind::only_b) return QBrush(QColor(200, 240, 200));
    }
    return {};
}

QVariant RunTaskModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {"Task", "Group", "A", "B", "Outcome"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

void RunTaskFilterModel::setFlipFilter(std::optional<bench::FlipKind> kind) {
    m_flip = kind;
    invalidateFilter();
}

bool RunTaskFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    if (!m_flip) return true;
    const QModelIndex i = sourceModel()->index(sourceRow, 0, sourceParent);
    return sourceModel()->data(i, RunTaskModel::FlipRole).toInt() == int(*m_flip);
}

bool RunTaskFilterModel::lessThan(const QModelIndex& left, const QModelIndex& right) const {
    // Task ids are often numeric ("2" < "10").
    bool okl = false, okr = false;
    const qlonglong l = left.data().toString().toLongLong(&okl), r = right.data().toString().toLongLong(&okr);
    if (okl && okr) return l < r;
    return QSortFilterProxyModel::lessThan(left, right);
}

}  // namespace matrix::ui
