// RunMetricsModel (see run_metrics_model.h).
#include "ui/models/run_metrics_model.h"

#include <QBrush>
#include <QColor>

namespace matrix::ui {

QString formatValue(const std::optional<double>& v) { return v ? QString::number(*v, 'f', 2) : QStringLiteral("-"); }

QString formatInterval(const std::optional<eval::Interval>& v) {
    if (!v) return QStringLiteral("-");
    return QStringLiteral("[%1, %2]").arg(v->lo, 0, 'f', 2).arg(v->hi, 0, 'f', 2);
}

QString formatDiff(const std::optional<double>& v) {
    if (!v) return QStringLiteral("-");
    return QStringLiteral("%1%2").arg(*v > 0 ? "+" : "").arg(*v, 0, 'f', 2);
}

bool RunMetricsModel::isCount(const std::string& m) { return m.rfind("n_", 0) == 0 || m.rfind("tool_call", 0) == 0; }

void RunMetricsModel::setComparison(const eval::MultiComparison& c) {
    beginResetModel();
    m_rows = c.metrics;
    m_labels = c.run_labels;
    m_baseline = c.baseline;
    endResetModel();
}

int RunMetricsModel::diffColumn(int run) const {
    if (run < 0 || size_t(run) == m_baseline || size_t(run) >= m_labels.size()) return -1;
    return 1 + int(m_labels.size()) + run - (size_t(run) > m_baseline ? 1 : 0);
}

int RunMetricsModel::runOfDiffColumn(int column) const {
    const int k = column - 1 - int(m_labels.size());
    if (k < 0 || k >= int(m_labels.size()) - 1) return -1;
    return k >= int(m_baseline) ? k + 1 : k;
}

int RunMetricsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }
int RunMetricsModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() || m_labels.empty() ? 0 : 2 * int(m_labels.size());
}

QVariant RunMetricsModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || size_t(index.row()) >= m_rows.size()) return {};
    const eval::MultiMetricRow& m = m_rows[size_t(index.row())];
    const int col = index.column();
    if (col == 0) {
        if (role == Qt::DisplayRole) return QString::fromStdString(m.name);
        if (role == Qt::ToolTipRole) {
            if (m.ci_method == "wilson") return tr("95% Wilson score interval from the per-task 0/1 scores");
            if (m.ci_method == "bootstrap") return tr("95% percentile bootstrap of the per-task values (2000 resamples, fixed seed)");
            return tr("Not a mean of per-task values: no interval");
        }
        return {};
    }
    const bool isValueColumn = col <= int(m_labels.size());
    const int run = isValueColumn ? col - 1 : runOfDiffColumn(col);
    if (run < 0) return {};
    const eval::RunMetricCell& cell = m.runs[size_t(run)];
    if (role == RunIndexRole) return run;
    if (isValueColumn) {
        switch (role) {
            case Qt::DisplayRole:
                return cell.ci ? QStringLiteral("%1  %2").arg(formatValue(cell.value), formatInterval(cell.ci))
                               : formatValue(cell.value);
            case ValueRole: return cell.value ? QVariant(*cell.value) : QVariant();
            case CiRole: return formatInterval(cell.ci);
            case Qt::TextAlignmentRole: return int(Qt::AlignRight | Qt::AlignVCenter);
            case Qt::ToolTipRole:
                return tr("%1: %2, 95% interval %3").arg(QString::fromStdString(m_labels[size_t(run)]),
                                                         formatValue(cell.value), formatInterval(cell.ci));
        }
        return {};
    }
    switch (role) {
        case Qt::DisplayRole:
            return cell.diff_ci ? QStringLiteral("%1  %2").arg(formatDiff(cell.diff), formatInterval(cell.diff_ci))
                                : formatDiff(cell.diff);
        case ValueRole: return cell.diff ? QVariant(*cell.diff) : QVariant();
        case CiRole: return formatInterval(cell.diff_ci);
        case Qt::TextAlignmentRole: return int(Qt::AlignRight | Qt::AlignVCenter);
        case Qt::ToolTipRole:
            return tr("%1 minus the baseline %2; interval: paired bootstrap over the tasks both scored")
                .arg(QString::fromStdString(m_labels[size_t(run)]), QString::fromStdString(m_labels[m_baseline]));
        case Qt::BackgroundRole:
            if (!cell.diff || *cell.diff == 0.0 || isCount(m.name)) return {};
            return QBrush(*cell.diff > 0 ? QColor(200, 240, 200) : QColor(250, 205, 205));
    }
    return {};
}

QVariant RunMetricsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || (role != Qt::DisplayRole && role != Qt::ToolTipRole)) return {};
    if (section == 0) return tr("Metric");
    if (section <= int(m_labels.size())) {
        const QString l = QString::fromStdString(m_labels[size_t(section - 1)]);
        if (role == Qt::ToolTipRole) return tr("%1: value and 95% interval").arg(l);
        return size_t(section - 1) == m_baseline ? tr("%1 (baseline)").arg(l) : l;
    }
    const int run = runOfDiffColumn(section);
    if (run < 0) return {};
    return tr("%1 - baseline").arg(QString::fromStdString(m_labels[size_t(run)]));
}

}  // namespace matrix::ui
