// Comparison bar chart with difference labels and CI whiskers (see run_compare_chart.h).
#include "ui/views/run_compare_chart.h"

#include <QtCharts/QBarCategoryAxis>
#include <QtCharts/QBarSeries>
#include <QtCharts/QBarSet>
#include <QtCharts/QChart>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

namespace matrix::ui {

bool isChartedMetric(const bench::MetricRow& m) {
    if (!m.a || !m.b) return false;
    if (m.name.rfind("n_", 0) == 0 || m.name.rfind("tool_call", 0) == 0) return false;
    return true;
}

QChart* buildComparisonChart(const bench::Comparison& c, const QString& nameA, const QString& nameB) {
    auto* chart = new QChart;
    auto* setA = new QBarSet(nameA);
    auto* setB = new QBarSet(nameB);
    setA->setColor(QColor(91, 141, 214));
    setB->setColor(QColor(232, 152, 72));
    QStringList categories;
    std::vector<const bench::MetricRow*> shown;
    double max_value = 0;
    for (const auto& m : c.metrics) {
        if (!isChartedMetric(m)) continue;
        shown.push_back(&m);
        *setA << *m.a;
        *setB << *m.b;
        max_value = std::max({max_value, *m.a, *m.b, m.a_ci ? m.a_ci->hi : 0.0, m.b_ci ? m.b_ci->hi : 0.0});
        const double d = *m.diff;
        categories << QStringLiteral("%1 (%2%3)").arg(QString::fromStdString(m.name)).arg(d > 0 ? "+" : "").arg(d, 0, 'f', 1);
    }
    auto* series = new QBarSeries;
    series->append(setA);
    series->append(setB);
    series->setBarWidth(0.5);
    chart->addSeries(series);
    auto* axisX = new QBarCategoryAxis;
    axisX->append(categories);
    chart->addAxis(axisX, Qt::AlignBottom);
    series->attachAxis(axisX);
    auto* axisY = new QValueAxis;
    axisY->setRange(0, max_value > 100 ? max_value * 1.05 : 100);
    axisY->setTitleText(QObject::tr("percent"));
    chart->addAxis(axisY, Qt::AlignLeft);
    series->attachAxis(axisY);

    // CI whiskers on a hidden numeric x axis aligned with the categories: bar centres at i -/+ 0.125.
    auto* axisW = new QValueAxis;
    axisW->setRange(-0.5, double(shown.size()) - 0.5);
    axisW->setVisible(false);
    chart->addAxis(axisW, Qt::AlignBottom);
    for (size_t i = 0; i < shown.size(); ++i) {
        const bench::MetricRow& m = *shown[i];
        for (int side = 0; side < 2; ++side) {
            const auto& ci = side == 0 ? m.a_ci : m.b_ci;
            if (!ci) continue;
            const double x = double(i) + (side == 0 ? -0.125 : 0.125);
            auto* whisker = new QLineSeries;
            *whisker << QPointF(x, ci->lo) << QPointF(x, ci->hi);
            whisker->setPen(QPen(QColor(40, 40, 40), 2));
            chart->addSeries(whisker);
            whisker->attachAxis(axisW);
            whisker->attachAxis(axisY);
            for (auto* marker : chart->legend()->markers(whisker)) marker->setVisible(false);
            for (double y : {ci->lo, ci->hi}) {
                auto* cap = new QLineSeries;
                *cap << QPointF(x - 0.04, y) << QPointF(x + 0.04, y);
                cap->setPen(QPen(QColor(40, 40, 40), 2));
                chart->addSeries(cap);
                cap->attachAxis(axisW);
                cap->attachAxis(axisY);
                for (auto* marker : chart->legend()->markers(cap)) marker->setVisible(false);
            }
        }
    }
    QString title = QObject::tr("%1 vs %2").arg(nameA, nameB);
    if (!c.metrics.empty() && c.metrics.front().ci_method.size()) {
        title += QObject::tr("  (whiskers: 95% %1 interval)")
                     .arg(c.metrics.front().ci_method == "wilson" ? QObject::tr("Wilson") : QObject::tr("bootstrap"));
    }
    chart->setTitle(title);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setAnimationOptions(QChart::NoAnimation);
    return chart;
}

}  // namespace matrix::ui
