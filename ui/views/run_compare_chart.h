// The comparison bar chart (QtCharts): one group of bars per metric that every compared run has (counts left
// out), one bar per run in the run's colour, the differences to the baseline in each category label, and
// 95% interval whiskers where the metric is a mean of per-task values. Built from a core
// eval::MultiComparison; UI thread only.
#pragma once

#include <QColor>
#include <QString>

#include "core/eval/compare_multi.h"

QT_BEGIN_NAMESPACE
class QChart;
QT_END_NAMESPACE

namespace matrix::ui {

QChart* buildComparisonChart(const eval::MultiComparison& c);

// Metrics the chart shows (percent-like and present in every run; counts such as n_scored are excluded).
bool isChartedMetric(const eval::MultiMetricRow& m);

// The colour of run i in the chart (and wherever runs are colour-coded).
QColor runColor(int run);

}  // namespace matrix::ui
