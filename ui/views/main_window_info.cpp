// MainWindow, the project's summary (see main_window.h): its datasets with their counts, the tools its trajectories
// call and the overview statistics, read on the session's slow-query worker, and the status bar's counts.
// Moved out of main_window.cpp unchanged.
#include <QFileInfo>
#include <QStatusBar>

#include <algorithm>

#include "core/store/dataset_repo.h"
#include "core/store/stats.h"
#include "ui/models/project_session.h"
#include "ui/models/task_table_model.h"
#include "ui/views/main_window.h"
#include "ui/views/task_browser.h"
#include "ui/widgets/overview_charts.h"

namespace matrix::ui {

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }

struct ProjectInfo {
    QVector<DatasetEntry> datasets;
    QStringList tools;
    OverviewStats stats;
    QString error;
};

ProjectInfo loadProjectInfo(store::Project& p) {
    ProjectInfo info;
    store::DatasetRepo repo(p.db());
    auto list = repo.list();
    if (!list) {
        info.error = qs(list.error().to_string());
        return info;
    }
    for (const store::Dataset& d : *list) {
        DatasetEntry e{d.id, qs(d.name), qs(d.kind)};
        if (auto c = repo.counts(d.id); c) {
            e.tasks = c->tasks;
            e.pairs = c->pairs;
        }
        info.datasets.push_back(e);
    }
    auto stats = store::compute_stats(p.db());
    if (!stats) {
        info.error = qs(stats.error().to_string());
        return info;
    }
    OverviewStats& o = info.stats;
    const int n = int(list->size());
    o.title = QObject::tr("%1 \u00b7 %2 %3")
                  .arg(QFileInfo(qs(p.path())).fileName())
                  .arg(n)
                  .arg(n == 1 ? QObject::tr("dataset") : QObject::tr("datasets"));
    o.tasks = stats->tasks;
    o.pairs = stats->pairs;
    o.missingImages = stats->media_missing;
    for (const auto& [tool, n] : stats->tool_histogram) {
        o.toolCalls.push_back({qs(tool), n});
        info.tools << qs(tool);
    }
    std::sort(o.toolCalls.begin(), o.toolCalls.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    for (const auto& [steps, n] : stats->steps_histogram) o.stepsHistogram[int(steps)] = n;
    for (const auto& [v, n] : stats->verdict_histogram) o.verdicts[qs(v)] = n;
    o.pairStatus = {{QStringLiteral("pending"), stats->pairs_pending},
                    {QStringLiteral("approved"), stats->pairs_approved},
                    {QStringLiteral("rejected"), stats->pairs_rejected}};
    return info;
}
}  // namespace

void MainWindow::refreshProjectInfo() {
    ++m_infoPending;
    m_session->postSlow(this, [](store::Project& p) { return loadProjectInfo(p); },
                    [this](ProjectInfo info) {
                        --m_infoPending;
                        if (!info.error.isEmpty()) statusBar()->showMessage(info.error, 8000);
                        m_datasets = info.datasets;
                        m_browser->setDatasets(info.datasets);
                        m_browser->setTools(info.tools);
                        m_overview->setStats(info.stats);
                        m_countsLabel->setText(statusCounts());
                    });
}

QString MainWindow::statusCounts() const {
    const OverviewStats& s = m_overview->stats();
    return tr("%1 tasks \u00b7 %2 pairs \u00b7 %3 missing images \u00b7 %4 shown")
        .arg(s.tasks)
        .arg(s.pairs)
        .arg(s.missingImages)
        .arg(std::max<qint64>(0, m_browser->model()->totalCount()));
}

}  // namespace matrix::ui
