// Grouped comparison bar chart with difference labels and CI whiskers (see run_compare_chart.h).
#include "ui/views/run_compare_chart.h"

#include <QtCharts/QBarCategoryAxis>
#include <QtCharts/QBarSeries>
#include <QtCharts/QBarSet>
#include <QtCharts/QChart>
#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

#include "ui/models/run_metrics_model.h"

namespace matrix::ui {

QColor runColor(int run) {
    static const QColor colors[] = {QColor(91, 141, 214), QColor(232, 152, 72), QColor(106, 176, 102),
                                    QColor(196, 96, 160), QColor(150, 120, 90), QColor(90, 180, 190),
                                    QColor(210, 190, 70),  QColor(140, 140, 140)};
    return colors[size_t(run) % (sizeof colors / sizeof colors[0])];
}

bool isChartedMetric(const eval::MultiMetricRow& m) {
    if (RunMetricsModel::isCount(m.name)) return false;
    bool any_nonzero = false;
    for (const auto& r : m.runs) {
        if (!r.value) return false;
        any_nonzero |= *r.value != 0.0;
    }
    return any_nonzero;  // all zero: nothing to see (the table still lists it)
}

QChart* buildComparisonChart(const eval::MultiComparison& c) {
    auto* chart = new QChart;
    const int n = int(c.n_runs());
    std::vector<QBarSet*> sets;
    for (int i = 0; i < n; ++i) {
        QString label = QString::fromStdString(c.run_labels[size_t(i)]);
        if (size_t(i) == c.baseline) label += QObject::tr(" (baseline)");
        auto* set = new QBarSet(label);
        set->setColor(runColor(i));
        set->setBorderColor(runColor(i).darker(130));
        sets.push_back(set);
    }
    QStringList categories;
    std::vector<const eval::MultiMetricRow*> shown;
    double max_value = 0;
    for (const auto& m : c.metrics) {
        if (!isChartedMetric(m)) continue;
        shown.push_back(&m);
        QStringList diffs;
        for (int i = 0; i < n; ++i) {
            const auto& cell = m.runs[size_t(i)];
            *sets[size_t(i)] << *cell.value;
            max_value = std::max({max_value, *cell.value, cell.ci ? cell.ci->hi : 0.0});
            if (cell.diff) diffs << QStringLiteral("%1%2").arg(*cell.diff > 0 ? "+" : "").arg(*cell.diff, 0, 'f', 1);
        }
        categories << QStringLiteral("%1 (%2)").arg(QString::fromStdString(m.name), diffs.join(", "));
    }
    auto* series = new QBarSeries;
    for (auto* s : sets) series->append(s);
    const double barWidth = n <= 2 ? 0.5 : 0.8;
    series->setBarWidth(barWidth);
    // Values on the bars while they are wide enough to hold them.
    series->setLabelsVisible(shown.size() * size_t(n) <= 16);
    series->setLabelsPosition(QAbstractBarSeries::LabelsInsideBase);  // clear of the whiskers
    series->setLabelsPrecision(3);
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

    // CI whiskers on a hidden numeric x axis aligned with the categories: bar i of a group is centred at
    // category - barWidth/2 + (i + 0.5) * barWidth / n.
    auto* axisW = new QValueAxis;
    axisW->setRange(-0.5, double(shown.size()) - 0.5);
    axisW->setVisible(false);
    chart->addAxis(axisW, Qt::AlignBottom);
    const double cap = std::min(0.04, barWidth / n / 4);
    for (size_t k = 0; k < shown.size(); ++k) {
        for (int i = 0; i < n; ++i) {
            const auto& ci = shown[k]->runs[size_t(i)].ci;
            if (!ci) continue;
            const double x = double(k) - barWidth / 2 + (i + 0.5) * barWidth / n;
            auto add = [&](QPointF p, QPointF q) {
                auto* line = new QLineSeries;
                *line << p << q;
                line->setPen(QPen(QColor(40, 40, 40), 2));
                chart->addSeries(line);
                line->attachAxis(axisW);
                line->attachAxis(axisY);
                for (auto* marker : chart->legend()->markers(line)) marker->setVisible(false);
            };
            add({x, ci->lo}, {x, ci->hi});
            add({x - cap, ci->lo}, {x + cap, ci->lo});
            add({x - cap, ci->hi}, {x + cap, ci->hi});
        }
    }
    QString title = QObject::tr("%1 runs against the baseline %2 (in brackets: differences)")
                        .arg(n)
                        .arg(QString::fromStdString(c.run_labels[c.baseline]));
    bool wilson = false, bootstrap = false;
    for (const auto* m : shown) {
        wilson |= m->ci_method == "wilson";
        bootstrap |= m->ci_method == "bootstrap";
    }
    if (wilson || bootstrap) {
        title += QObject::tr("; whiskers: 95% %1")
                     .arg(wilson && bootstrap ? QObject::tr("intervals (Wilson for 0/1 scores, else bootstrap)")
                          : wilson            ? QObject::tr("Wilson intervals")
                                              : QObject::tr("bootstrap intervals"));
    }
    chart->setTitle(title);
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setAnimationOptions(QChart::NoAnimation);
    return chart;
}

}  // namespace matrix::ui
