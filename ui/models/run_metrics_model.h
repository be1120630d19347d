// RunMetricsModel: the metrics of two compared runs side by side (A, B, B-A and their 95% intervals), with
// the difference coloured (green: B better, red: B worse). Reads a core bench::Comparison; UI thread only.
#pragma once

#include <QAbstractTableModel>

#include "core/bench/compare.h"

namespace matrix::ui {

class RunMetricsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { MetricColumn, AColumn, BColumn, DiffColumn, ACiColumn, BCiColumn, DiffCiColumn, ColumnCount };
    using QAbstractTableModel::QAbstractTableModel;

    void setComparison(const bench::Comparison& c);
    const bench::MetricRow& metric(int row) const { return m_rows[size_t(row)]; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    std::vector<bench::MetricRow> m_rows;
};

// Shared formatting: "60.00", "[23.07, 88.24]", "-" for missing values.
QString formatValue(const std::optional<double>& v);
QString formatInterval(const std::optional<bench::Interval>& v);

}  // namespace matrix::ui
