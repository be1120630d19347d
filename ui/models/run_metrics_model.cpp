// RunMetricsModel (see run_metrics_model.h).
#include "ui/models/run_metrics_model.h"

#include <QBrush>
#include <QColor>

namespace matrix::ui {

QString formatValue(const std::optional<double>& v) { return v ? QString::number(*v, 'f', 2) : QStringLiteral("-"); }

QString formatInterval(const std::optional<bench::Interval>& v) {
    if (!v) return QStringLiteral("-");
    return QStringLiteral("[%1, %2]").arg(v->lo, 0, 'f', 2).arg(v->hi, 0, 'f', 2);
}

void RunMetricsModel::setComparison(const bench::Comparison& c) {
    beginResetModel();
    m_rows = c.metrics;
    endResetModel();
}

int RunMetricsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }
int RunMetricsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RunMetricsModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || size_t(index.row()) >= m_rows.size()) return {};
    const bench::MetricRow& m = m_rows[size_t(index.row())];
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
            case MetricColumn: return QString::fromStdString(m.name);
            case AColumn: return formatValue(m.a);
            case BColumn: return formatValue(m.b);
            case DiffColumn: return m.diff ? QStringLiteral("%1%2").arg(*m.diff > 0 ? "+" : "").arg(*m.diff, 0, 'f', 2) : "-";
            case ACiColumn: return formatInterval(m.a_ci);
            case BCiColumn: return formatInterval(m.b_ci);
            case DiffCiColumn: return formatInterval(m.diff_ci);
        }
    } else if (role == Qt::ToolTipRole && index.column() >= ACiColumn) {
        if (m.ci_method == "wilson") return tr("95% Wilson score interval from the per-task 0/1 scores");
        if (m.ci_method == "bootstrap") return tr("95% percentile bootstrap (2000 resamples, fixed seed)");
        return tr("no per-task scores behind this metric");
    } else if (role == Qt::BackgroundRole && index.column() == DiffColumn && m.diff && *m.diff != 0.0) {
        // Counts (n_*, tool calls) are not "better" or "worse": leave them uncoloured.
        if (m.name.rfind("n_", 0) == 0 || m.name.rfind("tool_call", 0) == 0) return {};
        return QBrush(*m.diff > 0 ? QColor(200, 240, 200) : QColor(250, 205, 205));
    } else if (role == Qt::TextAlignmentRole && index.column() != MetricColumn) {
        return int(Qt::AlignRight | Qt::AlignVCenter);
    }
    return {};
}

QVariant RunMetricsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {"Metric", "A", "B", "B - A", "A 95% CI", "B 95% CI", "B - A 95% CI"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

}  // namespace matrix::ui
