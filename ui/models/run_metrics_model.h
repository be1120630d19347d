// RunMetricsModel: the metrics of two or more compared runs side by side. Columns: the metric, one column
// per run (value and its 95% interval), then one "difference to the baseline" column per other run (with
// the paired-bootstrap interval), coloured green (better than the baseline) or red (worse). Counts (n_*,
// tool calls) are not coloured. Reads a core eval::MultiComparison; UI thread only.
#pragma once

#include <QAbstractTableModel>

#include "core/eval/compare_multi.h"

namespace matrix::ui {

class RunMetricsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Roles {
        ValueRole = Qt::UserRole + 1,  // double (or invalid): the run's value / the difference
        CiRole,                        // QString "[lo, hi]" or "-"
        RunIndexRole,                  // int: the run a column belongs to
    };
    using QAbstractTableModel::QAbstractTableModel;

    void setComparison(const eval::MultiComparison& c);
    const eval::MultiMetricRow& metric(int row) const { return m_rows[size_t(row)]; }

    // Column of run i's value / of run i's difference to the baseline (-1 for the baseline itself).
    int valueColumn(int run) const { return 1 + run; }
    int diffColumn(int run) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    // Counts are neither better nor worse: no colour.
    static bool isCount(const std::string& metric);

private:
    int runOfDiffColumn(int column) const;
    std::vector<eval::MultiMetricRow> m_rows;
    std::vector<std::string> m_labels;
    size_t m_baseline = 0;
};

// Shared formatting: "60.00", "[23.07, 88.24]", "-" for missing values, "+16.67" for differences.
QString formatValue(const std::optional<double>& v);
QString formatInterval(const std::optional<eval::Interval>& v);
QString formatDiff(const std::optional<double>& v);

}  // namespace matrix::ui
