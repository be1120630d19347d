// TrainingPanel, the ranks of the shown run (see training_panel.h): under the charts, a summary line ("Run 7:
// 2 ranks · 2 running · 1,625 tokens/s in all") and one row per process of the selected run, or of the run being
// trained or followed, read through the panel's ProjectSession every 2 s while a rank still runs.
#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include "ui/models/run_rank_model.h"
#include "ui/views/training_panel.h"

namespace matrix::ui {

void TrainingPanel::buildRanks(QWidget* w, QVBoxLayout* v) {
    m_ranks = new RunRankModel(this);
    connect(m_ranks, &RunRankModel::loaded, this, &TrainingPanel::onRanksLoaded);
    m_ranksTimer = new QTimer(this);
    m_ranksTimer->setInterval(2000);
    connect(m_ranksTimer, &QTimer::timeout, this, [this] {
        if (m_rankRun > 0) m_ranks->load(storeSession(), m_rankRun);
    });

    // A summary line and one row per process.
    m_ranksSummary = new QLabel(w);
    m_ranksSummary->setObjectName("rank_summary");
    m_ranksView = new QTableView(w);
    m_ranksView->setObjectName("run_ranks");
    m_ranksView->setModel(m_ranks);
    m_ranksView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_ranksView->verticalHeader()->hide();
    m_ranksView->horizontalHeader()->setStretchLastSection(true);
    m_ranksView->verticalHeader()->setDefaultSectionSize(m_ranksView->fontMetrics().height() + 6);
    m_ranksView->setMaximumHeight(m_ranksView->fontMetrics().height() * 6 + 12);
    m_ranksView->setToolTip(tr("The run's processes: a rank that stops answering while the run runs shows as lost"));
    m_ranksSummary->hide();
    m_ranksView->hide();
    v->addWidget(m_ranksSummary);
    v->addWidget(m_ranksView, 1);
}

void TrainingPanel::showRanks(qint64 runId) {
    m_rankRun = runId;
    m_ranksSummary->setVisible(runId > 0);
    m_ranksView->setVisible(runId > 0);
    if (runId <= 0) {
        m_ranksTimer->stop();
        m_ranks->load(nullptr, 0);  // clears (and drops a load still under way)
        return;
    }
    m_ranks->load(storeSession(), runId);
    m_ranksTimer->start();
}

void TrainingPanel::onRanksLoaded() {
    m_ranksSummary->setText(m_ranks->summary());
    m_ranksView->resizeColumnsToContents();
    // Keep polling while a rank still runs (or the run is being trained here).
    bool running = isTraining();
    for (const auto& r : m_ranks->ranks()) running = running || r.shown_state == "running";
    if (!running) m_ranksTimer->stop();
    else if (m_rankRun > 0 && !m_ranksTimer->isActive()) m_ranksTimer->start();
}

QString TrainingPanel::rankSummaryText() const { return m_ranksSummary->text(); }

}  // namespace matrix::ui
