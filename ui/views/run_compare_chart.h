// The comparison bar chart (QtCharts): one pair of bars (A, B) per metric that both runs have (counts
// left out), the difference B - A in each category label, and 95% interval whiskers where the metric has
// per-task scores behind it. Built from a core bench::Comparison; UI thread only.
#pragma once

#include <QString>

#include "core/bench/compare.h"

QT_BEGIN_NAMESPACE
class QChart;
QT_END_NAMESPACE

namespace matrix::ui {

QChart* buildComparisonChart(const bench::Comparison& c, const QString& nameA, const QString& nameB);

// Metrics the chart shows (percent-like; counts such as n_scored or tool_call are excluded).
bool isChartedMetric(const bench::MetricRow& m);

}  // namespace matrix::ui
