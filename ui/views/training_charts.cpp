// See training_charts.h. QtCharts line series; both axes are fitted to the points after every change.
#include "ui/views/training_charts.h"

#include <QGridLayout>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

#include <cmath>

namespace matrix::ui {

namespace {

QChart* makeChart(const QString& title) {
    auto* c = new QChart();
    c->setTitle(title);
    c->legend()->setAlignment(Qt::AlignBottom);
    c->setMargins(QMargins(4, 4, 4, 4));
    auto* x = new QValueAxis();
    x->setTitleText("step");
    x->setLabelFormat("%d");
    // Until a run reports, whole steps 0..10 rather than 0..1 (which "%d" would label 0 0 0 0 1).
    x->setRange(0, 10);
    x->setTickCount(6);
    auto* y = new QValueAxis();
    c->addAxis(x, Qt::AlignBottom);
    c->addAxis(y, Qt::AlignLeft);
    return c;
}

QLineSeries* addSeries(QChart* chart, const QString& name, QColor color = QColor()) {
    auto* s = new QLineSeries();
    s->setName(name);
    if (color.isValid()) s->setColor(color);
    chart->addSeries(s);
    for (auto* a : chart->axes()) s->attachAxis(a);
    return s;
}

// Fits both axes of a chart to its series.
void fitChart(QChart* chart) {
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    bool any = false;
    for (auto* as : chart->series()) {
        auto* s = qobject_cast<QLineSeries*>(as);
        if (!s) continue;
        for (const QPointF& p : s->points()) {
            if (!std::isfinite(p.y())) continue;
            if (!any) {
                x0 = x1 = p.x();
                y0 = y1 = p.y();
                any = true;
            }
            x0 = std::min(x0, p.x());
            x1 = std::max(x1, p.x());
            y0 = std::min(y0, p.y());
            y1 = std::max(y1, p.y());
        }
    }
    if (!any) return;
    if (x1 <= x0) x1 = x0 + 1;
    const double pad = (y1 - y0) * 0.05 + 1e-12;
    auto h = chart->axes(Qt::Horizontal), v = chart->axes(Qt::Vertical);
    if (!h.isEmpty()) {
        h.first()->setRange(x0, x1);
        // Integer step labels need integer tick spacing: nice numbers give 0, 20, 40 ... instead of 0, 12.5 ...
        if (auto* axis = qobject_cast<QValueAxis*>(h.first())) axis->applyNiceNumbers();
    }
    if (!v.isEmpty()) v.first()->setRange(y0 - pad, y1 + pad);
}

}  // namespace

TrainingCharts::TrainingCharts(QWidget* parent) : QWidget(parent) {
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(0, 0, 0, 0);
    m_lossChart = makeChart(tr("Loss"));
    m_lrChart = makeChart(tr("Learning rate"));
    m_dpoChart = makeChart(tr("DPO reward margin / accuracy"));
    auto view = [&](QChart* c) {
        auto* cv = new QChartView(c, this);
        cv->setRenderHint(QPainter::Antialiasing);
        cv->setMinimumSize(260, 200);
        return cv;
    };
    grid->addWidget(view(m_lossChart), 0, 0);
    grid->addWidget(view(m_lrChart), 0, 1);
    m_dpoView = view(m_dpoChart);
    grid->addWidget(m_dpoView, 1, 0, 1, 2);
    resetLive(false);
}

void TrainingCharts::resetLive(bool dpo) {
    for (QChart* c : {m_lossChart, m_lrChart, m_dpoChart}) c->removeAllSeries();
    m_loss = addSeries(m_lossChart, tr("train loss"), QColor(31, 119, 180));
    m_evalLoss = addSeries(m_lossChart, tr("eval loss"), QColor(255, 127, 14));
    m_lr = addSeries(m_lrChart, tr("lr"), QColor(44, 160, 44));
    m_margin = addSeries(m_dpoChart, tr("margin"), QColor(148, 103, 189));
    m_accuracy = addSeries(m_dpoChart, tr("accuracy"), QColor(214, 39, 40));
    m_dpoView->setVisible(dpo);
}

void TrainingCharts::appendStep(double step, double loss, double lr) {
    if (!m_loss) resetLive(false);
    m_loss->append(step, loss);
    m_lr->append(step, lr);
    fit();
}

void TrainingCharts::appendEval(double step, double evalLoss) {
    if (!m_loss) resetLive(false);
    m_evalLoss->append(step, evalLoss);
    fit();
}

void TrainingCharts::appendDpo(double step, double margin, double accuracy) {
    if (!m_loss) resetLive(true);
    m_dpoView->setVisible(true);
    m_margin->append(step, margin);
    m_accuracy->append(step, accuracy);
    fit();
}

int TrainingCharts::livePointCount() const { return m_loss ? int(m_loss->count()) : 0; }

void TrainingCharts::setDpoVisible(bool on) { m_dpoView->setVisible(on); }

void TrainingCharts::showRuns(const QVector<RunCurves>& runs) {
    for (QChart* c : {m_lossChart, m_lrChart, m_dpoChart}) c->removeAllSeries();
    static const QColor colors[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44), QColor(214, 39, 40)};
    bool dpo = false;
    int k = 0;
    for (const auto& run : runs.mid(0, 2)) {  // at most two runs overlaid
        const QColor col = colors[k % 4];
        const QString tag = tr("run %1").arg(run.runId);
        auto fill = [&](QChart* chart, const QString& metric, const QString& name, QColor color) {
            const auto pts = run.series.value(metric);
            if (pts.isEmpty()) return (QLineSeries*)nullptr;
            auto* s = addSeries(chart, name, color);
            s->replace(pts);
            return s;
        };
        fill(m_lossChart, "loss", tag + " loss", col);
        fill(m_lossChart, "eval_loss", tag + " eval", col.lighter(140));
        fill(m_lrChart, "lr", tag, col);
        if (fill(m_dpoChart, "rewards/margin", tag + " margin", col)) dpo = true;
        fill(m_dpoChart, "rewards/accuracy", tag + " acc", col.darker(140));
        ++k;
    }
    m_dpoView->setVisible(dpo);
    fit();
    // No live run draws into these curves: the next step report starts new series (resetLive).
    m_evalLoss = m_margin = m_accuracy = m_loss = m_lr = nullptr;
}

void TrainingCharts::fit() {
    for (QChart* c : {m_lossChart, m_lrChart, m_dpoChart}) fitChart(c);
}

}  // namespace matrix::ui
