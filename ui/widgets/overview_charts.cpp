// Chart construction for OverviewCharts (see overview_charts.h).
#include "ui/widgets/overview_charts.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QGridLayout>
#include <QHorizontalBarSeries>
#include <QLabel>
#include <QPieSeries>
#include <QPieSlice>
#include <QValueAxis>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

namespace matrix::ui {

namespace {

QChartView* makeView(QWidget* parent) {
    auto* v = new QChartView(parent);
    v->setRenderHint(QPainter::Antialiasing);
    v->setMinimumSize(280, 220);
    return v;
}

QChart* newChart(const QString& title) {
    auto* c = new QChart;
    c->setTitle(title);
    QFont f = c->titleFont();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 1.1);
    c->setTitleFont(f);
    c->setMargins(QMargins(4, 4, 4, 4));
    c->setAnimationOptions(QChart::NoAnimation);
    return c;
}

// An integer axis 0..max with whole-number ticks.
void integerAxis(QValueAxis* axis, qint64 maxValue) {
    const qint64 top = std::max<qint64>(1, qint64(std::ceil(double(maxValue) * 1.15)));
    axis->setLabelFormat("%d");
    if (top <= 8) {
        axis->setRange(0, double(top));
        axis->setTickCount(int(top) + 1);
    } else {
        axis->setRange(0, double(top));
        axis->applyNiceNumbers();
    }
}

QChart* pieChart(const QString& title, const QMap<QString, qint64>& counts, const QMap<QString, QColor>& colors) {
    QChart* c = newChart(title);
    auto* series = new QPieSeries;
    qint64 total = 0;
    for (auto v : counts) total += v;
    for (auto it = counts.begin(); it != counts.end(); ++it) {
        if (it.value() == 0) continue;
        auto* s = series->append(QStringLiteral("%1: %2").arg(it.key()).arg(it.value()), double(it.value()));
        if (colors.contains(it.key())) s->setColor(colors[it.key()]);
        s->setLabelVisible(false);
    }
    series->setPieSize(0.75);
    c->addSeries(series);
    c->legend()->setAlignment(Qt::AlignRight);
    if (total == 0) c->setTitle(title + QObject::tr(" (none)"));
    return c;
}

}  // namespace

OverviewCharts::OverviewCharts(QWidget* parent)
    : QWidget(parent),
      m_summary(new QLabel(this)),
      m_tools(makeView(this)),
      m_steps(makeView(this)),
      m_verdicts(makeView(this)),
      m_pairs(makeView(this)) {
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(4, 4, 4, 4);
    m_summary->setWordWrap(true);
    outer->addWidget(m_summary);
    auto* grid = new QGridLayout;
    // Tool calls get the full height (one bar per tool); the three small charts share the right column.
    grid->addWidget(m_tools, 0, 0, 2, 1);
    grid->addWidget(m_steps, 0, 1, 1, 2);
    grid->addWidget(m_verdicts, 1, 1);
    grid->addWidget(m_pairs, 1, 2);
    grid->setColumnStretch(0, 2);
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(2, 1);
    outer->addLayout(grid, 1);
    setStats({});
}

void OverviewCharts::setStats(const OverviewStats& stats) {
    m_stats = stats;
    m_summary->setText(tr("<b>%1</b> &nbsp; %2 tasks \u00b7 %3 pairs \u00b7 %4 missing images")
                           .arg((stats.title.isEmpty() ? tr("No project") : stats.title).toHtmlEscaped())
                           .arg(stats.tasks)
                           .arg(stats.pairs)
                           .arg(stats.missingImages));

    {  // tool calls: horizontal bars, most used on top
        QChart* c = newChart(tr("Tool calls"));
        auto* set = new QBarSet(tr("calls"));
        set->setColor(QColor(52, 112, 196));
        QStringList cats;
        qint64 maxv = 1;
        auto tools = stats.toolCalls;
        std::reverse(tools.begin(), tools.end());  // horizontal bars draw bottom-up
        for (const auto& [name, n] : tools) {
            cats << name;
            *set << double(n);
            maxv = std::max(maxv, n);
        }
        set->setLabelColor(Qt::black);
        auto* series = new QHorizontalBarSeries;
        series->append(set);
        series->setLabelsVisible(true);
        series->setLabelsPosition(QAbstractBarSeries::LabelsOutsideEnd);
        c->addSeries(series);
        auto* y = new QBarCategoryAxis;
        y->append(cats);
        QFont lf = y->labelsFont();
        lf.setPointSizeF(std::min(lf.pointSizeF(), 8.0));
        y->setLabelsFont(lf);
        auto* x = new QValueAxis;
        integerAxis(x, maxv);
        c->addAxis(y, Qt::AlignLeft);
        c->addAxis(x, Qt::AlignBottom);
        series->attachAxis(x);
        series->attachAxis(y);
        c->legend()->hide();
        QChart* old = m_tools->chart();
        m_tools->setChart(c);
        delete old;
    }
    {  // steps per trajectory
        QChart* c = newChart(tr("Steps per trajectory"));
        auto* set = new QBarSet(tr("trajectories"));
        set->setColor(QColor(96, 178, 110));
        set->setLabelColor(Qt::black);
        QStringList cats;
        qint64 maxv = 1;
        if (!stats.stepsHistogram.isEmpty()) {
            const int lo = stats.stepsHistogram.firstKey(), hi = stats.stepsHistogram.lastKey();
            for (int k = lo; k <= hi; ++k) {
                cats << QString::number(k);
                const qint64 n = stats.stepsHistogram.value(k, 0);
                *set << double(n);
                maxv = std::max(maxv, n);
            }
        }
        auto* series = new QBarSeries;
        series->append(set);
        series->setLabelsVisible(true);
        series->setLabelsPosition(QAbstractBarSeries::LabelsOutsideEnd);
        c->addSeries(series);
        auto* x = new QBarCategoryAxis;
        x->append(cats);
        x->setTitleText(tr("steps"));
        auto* y = new QValueAxis;
        integerAxis(y, maxv);
        c->addAxis(x, Qt::AlignBottom);
        c->addAxis(y, Qt::AlignLeft);
        series->attachAxis(x);
        series->attachAxis(y);
        c->legend()->hide();
        QChart* old = m_steps->chart();
        m_steps->setChart(c);
        delete old;
    }
    {
        QChart* old = m_verdicts->chart();
        m_verdicts->setChart(pieChart(tr("Trajectory verdicts"), stats.verdicts,
                                      {{"yes", QColor(96, 178, 110)}, {"no", QColor(214, 96, 77)},
                                       {"unknown", QColor(170, 170, 170)}}));
        delete old;
    }
    {
        QChart* old = m_pairs->chart();
        m_pairs->setChart(pieChart(tr("Pair status"), stats.pairStatus,
                                   {{"approved", QColor(96, 178, 110)}, {"rejected", QColor(214, 96, 77)},
                                    {"pending", QColor(244, 165, 84)}}));
        delete old;
    }
}

}  // namespace matrix::ui
