// RunComparePane (see run_compare_pane.h).
#include "ui/views/run_compare_pane.h"

#include <QAction>
#include <QComboBox>
#include <QCoreApplication>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPainter>
#include <QResizeEvent>
#include <QSplitter>
#include <QSvgGenerator>
#include <QTabWidget>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <algorithm>

#include "core/eval/bench_store.h"
#include "ui/models/project_session.h"
#include "ui/models/run_group_model.h"
#include "ui/models/run_list_model.h"
#include "ui/models/run_metrics_model.h"
#include "ui/models/run_task_model.h"
#include "ui/views/run_compare_chart.h"
#include "ui/views/run_compare_task_view.h"

namespace matrix::ui {

namespace {

QTableView* makeTable(QAbstractItemModel* model, QWidget* parent) {
    auto* t = new QTableView(parent);
    t->setModel(model);
    t->setSelectionBehavior(QAbstractItemView::SelectRows);
    t->verticalHeader()->hide();
    t->horizontalHeader()->setStretchLastSection(true);
    t->setAlternatingRowColors(true);
    return t;
}

QString headline(const std::string& summary) {
    const auto j = nlohmann::json::parse(summary.empty() ? "{}" : summary, nullptr, false);
    if (!j.is_object() || !j.contains("official")) return {};
    const auto& o = j["official"];
    const std::string metric = o.value("primary_metric", std::string());
    if (!o.contains("metrics") || !o["metrics"].contains(metric)) return {};
    QString text = QStringLiteral("%1 %2").arg(QString::fromStdString(metric)).arg(o["metrics"][metric].get<double>(), 0, 'f', 2);
    if (o.contains("not_scored") && o["not_scored"].is_object()) {
        QStringList parts;
        for (const auto& [reason, n] : o["not_scored"].items()) {
            parts << QObject::tr("%1 not scored: %2").arg(n.get<int>()).arg(QString::fromStdString(reason));
        }
        if (!parts.isEmpty()) text += QStringLiteral("  (%1)").arg(parts.join(QStringLiteral(", ")));
    }
    return text;
}

// An action whose tooltip names its shortcut, triggered while the focus is anywhere in `owner`.
QAction* makeAction(QWidget* owner, const QString& text, const QKeySequence& key, const QString& tip) {
    auto* a = new QAction(text, owner);
    a->setShortcut(key);
    a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    a->setToolTip(QStringLiteral("%1 (%2)").arg(tip, key.toString(QKeySequence::NativeText)));
    a->setStatusTip(tip);
    owner->addAction(a);
    return a;
}

QToolButton* buttonFor(QAction* a, QWidget* parent) {
    auto* b = new QToolButton(parent);
    b->setDefaultAction(a);
    b->setToolButtonStyle(Qt::ToolButtonTextOnly);
    return b;
}

}  // namespace

RunComparePane::RunComparePane(ProjectSession* session, QWidget* parent) : QWidget(parent), m_session(session) {
    m_runs = new RunListModel(this);
    m_metrics = new RunMetricsModel(this);
    m_tasks = new RunTaskModel(this);
    m_taskFilter = new RunTaskFilterModel(this);
    m_taskFilter->setSourceModel(m_tasks);
    m_groups = new RunGroupModel(this);

    m_compareAction = makeAction(this, tr("&Compare selected"), QKeySequence(Qt::CTRL | Qt::Key_Return),
                                 tr("Compare the selected runs (two or more) against the baseline"));
    m_reloadAction = makeAction(this, tr("&Reload runs"), QKeySequence(Qt::Key_F5), tr("Re-read the project's evaluation runs"));
    m_csvAction = makeAction(this, tr("Export CS&V..."), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C),
                             tr("Save the comparison (metrics, per-task scores, groups) as CSV"));
    m_chartAction = makeAction(this, tr("Export c&hart..."), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E),
                               tr("Save the metrics chart as PNG or SVG"));

    auto* layout = new QVBoxLayout(this);
    auto* bar = new QHBoxLayout;
    auto* scorerLabel = new QLabel(tr("&Scorer:"), this);
    bar->addWidget(scorerLabel);
    m_scorer = new QComboBox(this);
    m_scorer->addItem(tr("official"), "official");
    m_scorer->addItem(tr("MATRIX (lenient GTA check)"), "matrix");
    m_scorer->setToolTip(tr("official: the benchmark's own scoring code; MATRIX: its lenient GTA substring check (Alt+S)"));
    scorerLabel->setBuddy(m_scorer);
    bar->addWidget(m_scorer);
    auto* baselineLabel = new QLabel(tr("Base&line:"), this);
    bar->addWidget(baselineLabel);
    m_baseline = new QComboBox(this);
    m_baseline->setMinimumContentsLength(14);
    m_baseline->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_baseline->setToolTip(tr("The run the others are compared against: differences, gains and losses are "
                              "relative to it (Alt+L)"));
    baselineLabel->setBuddy(m_baseline);
    bar->addWidget(m_baseline);
    bar->addWidget(buttonFor(m_compareAction, this));
    bar->addWidget(buttonFor(m_reloadAction, this));
    bar->addStretch(1);
    bar->addWidget(buttonFor(m_csvAction, this));
    bar->addWidget(buttonFor(m_chartAction, this));
    layout->addLayout(bar);

    auto* split = new QSplitter(Qt::Vertical, this);
    m_runTable = makeTable(m_runs, split);
    m_runTable->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_runTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_runTable->setToolTip(tr("Select two or more runs (Ctrl/Shift+click), then Compare (Ctrl+Return)"));
    split->addWidget(m_runTable);

    m_tabs = new QTabWidget(split);
    // Table above, chart below at full width: with three or more runs neither fits beside the other.
    auto* metricsSplit = m_metricsSplit = new QSplitter(Qt::Vertical, m_tabs);
    m_metricTable = makeTable(m_metrics, metricsSplit);
    m_metricTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_metricTable->horizontalHeader()->setStretchLastSection(false);
    m_chartView = new QChartView(metricsSplit);
    m_chartView->setRenderHint(QPainter::Antialiasing);
    m_chartView->setMinimumSize(360, 220);
    metricsSplit->addWidget(m_metricTable);
    metricsSplit->addWidget(m_chartView);
    metricsSplit->setStretchFactor(0, 1);
    metricsSplit->setStretchFactor(1, 2);
    metricsSplit->setSizes({300, 420});
    m_tabs->addTab(metricsSplit, tr("&Metrics"));

    auto* tasksPage = new QWidget(m_tabs);
    auto* tasksLayout = new QVBoxLayout(tasksPage);
    auto* filterBar = new QHBoxLayout;
    auto* showLabel = new QLabel(tr("Sho&w:"), tasksPage);
    filterBar->addWidget(showLabel);
    m_outcomeFilter = new QComboBox(tasksPage);
    m_outcomeFilter->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_outcomeFilter->setToolTip(tr("Which tasks to list, relative to the baseline (Alt+W)"));
    showLabel->setBuddy(m_outcomeFilter);
    filterBar->addWidget(m_outcomeFilter);
    m_flipSummary = new QLabel(tasksPage);
    m_flipSummary->setWordWrap(true);
    filterBar->addWidget(m_flipSummary, 1);
    tasksLayout->addLayout(filterBar);
    m_taskTable = makeTable(m_taskFilter, tasksPage);
    m_taskTable->setSortingEnabled(true);
    m_taskTable->sortByColumn(RunTaskModel::TaskColumn, Qt::AscendingOrder);
    m_taskTable->setToolTip(tr("Enter or double-click: every compared run's trajectory next to the gold one"));
    m_taskTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    tasksLayout->addWidget(m_taskTable);
    m_tabs->addTab(tasksPage, tr("&Tasks"));

    m_groupTable = makeTable(m_groups, m_tabs);
    m_groupTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_tabs->addTab(m_groupTable, tr("&Breakdown"));
    split->addWidget(m_tabs);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 5);
    split->setSizes({150, 750});
    layout->addWidget(split, 1);
    // Below the tabs, so it is in view on each of them.
    m_notScored = new QLabel(this);
    m_notScored->setWordWrap(true);
    m_notScored->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_notScored);
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    layout->addWidget(m_status);

    connect(m_compareAction, &QAction::triggered, this, &RunComparePane::compareSelected);
    connect(m_reloadAction, &QAction::triggered, this, &RunComparePane::reload);
    connect(m_runTable->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &RunComparePane::onSelectionChanged);
    connect(m_baseline, &QComboBox::activated, this, [this](int) {
        // Picking another baseline for the runs already compared re-compares at once.
        QVector<qint64> selected;
        for (int i = 0; i < m_baseline->count(); ++i) selected << m_baseline->itemData(i).toLongLong();
        if (m_comparison && selected == m_compared) setBaseline(m_baseline->currentIndex());
    });
    connect(m_outcomeFilter, &QComboBox::currentIndexChanged, this, [this](int i) {
        if (i >= 0 && i < m_filters.size()) m_taskFilter->setOutcomeFilter(m_filters[i].second);
    });
    connect(m_taskTable, &QTableView::activated, this, [this](const QModelIndex& i) {
        openTask(i.data(RunTaskModel::TaskKeyRole).toString(), true);
    });
    connect(m_csvAction, &QAction::triggered, this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Export comparison"), {}, tr("CSV (*.csv)"));
        if (!f.isEmpty()) showStatus(exportCsv(f) ? tr("Saved %1").arg(f) : tr("Could not save %1").arg(f));
    });
    connect(m_chartAction, &QAction::triggered, this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Export chart"), {}, tr("PNG (*.png);;SVG (*.svg)"));
        if (!f.isEmpty()) showStatus(exportChart(f) ? tr("Saved %1").arg(f) : tr("Could not save %1").arg(f));
    });
    if (m_session) {
        connect(m_session, &ProjectSession::opened, this, &RunComparePane::reload);
        connect(m_session, &ProjectSession::failed, this, [this](const QString& e) { showStatus(tr("Cannot open the project: %1").arg(e)); });
    }
    if (isOpen()) reload();
    else showStatus(tr("No project open."));
    m_csvAction->setEnabled(false);
    m_chartAction->setEnabled(false);
}

// Jobs still on the session's worker deliver nothing once the pane is gone (their context is this pane).
RunComparePane::~RunComparePane() = default;

QString RunComparePane::projectPath() const { return m_session ? m_session->path() : QString(); }
bool RunComparePane::isOpen() const { return m_session && m_session->isOpen(); }

void RunComparePane::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    const Qt::Orientation want = width() >= 1200 && width() > 2 * height() ? Qt::Horizontal : Qt::Vertical;
    if (m_metricsSplit->orientation() == want) return;
    m_metricsSplit->setOrientation(want);
    layoutMetrics();
}

void RunComparePane::layoutMetrics() {
    if (m_metricsSplit->orientation() == Qt::Vertical) {
        m_metricsSplit->setSizes({300, 420});
        return;
    }
    // Beside the chart: the table as wide as its columns (at most half the pane).
    int table = 24;
    for (int c = 0; c < m_metrics->columnCount(); ++c) {
        table += std::max(static_cast<QAbstractItemView*>(m_metricTable)->sizeHintForColumn(c), m_metricTable->horizontalHeader()->sectionSizeHint(c));
    }
    table = std::clamp(table, 320, std::max(320, width() / 2));
    m_metricsSplit->setSizes({table, std::max(360, width() - table)});
}

QList<QAction*> RunComparePane::paneActions() const { return {m_compareAction, m_reloadAction, m_csvAction, m_chartAction}; }

void RunComparePane::showStatus(const QString& text) { m_status->setText(text); }

void RunComparePane::reload() {
    if (!isOpen()) return;
    m_session->post(this, [](store::Project& p) { return eval::list_eval_runs(p); }, [this](Result<std::vector<store::Run>> runs) {
        if (!runs.ok()) {
            showStatus(QString::fromStdString(runs.error().to_string()));
            return;
        }
        QVector<RunRow> rows;
        for (const auto& r : runs.value()) {
            RunRow row;
            row.id = r.id;
            row.name = QString::fromStdString(r.name);
            row.benchmark = QString::fromStdString(r.benchmark.value_or(""));
            row.model = QString::fromStdString(r.model_path.value_or(""));
            row.createdAt = QString::fromStdString(r.created_at);
            row.headline = headline(r.summary);
            rows.push_back(row);
        }
        m_runs->setRuns(rows);
        showStatus(rows.size() < 2 ? tr("Import at least two evaluation runs to compare them (matrix bench import-run).")
                                   : tr("%1 evaluation runs. Select two or more and press Compare (Ctrl+Return).").arg(rows.size()));
        emit runsLoaded();
    });
}

QString RunComparePane::runName(qint64 id) const {
    const int row = m_runs->rowOf(id);
    return row >= 0 ? QStringLiteral("#%1 %2").arg(id).arg(m_runs->run(row).name) : QStringLiteral("#%1").arg(id);
}

void RunComparePane::setScorer(const QString& scorer) {
    const int i = m_scorer->findData(scorer);
    if (i >= 0) m_scorer->setCurrentIndex(i);
}

void RunComparePane::selectRuns(const QVector<qint64>& runs) {
    QItemSelection sel;
    for (qint64 id : runs) {
        const int row = m_runs->rowOf(id);
        if (row >= 0) sel.select(m_runs->index(row, 0), m_runs->index(row, m_runs->columnCount() - 1));
    }
    m_runTable->selectionModel()->select(sel, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

void RunComparePane::onSelectionChanged() {
    QVector<qint64> ids;
    for (const QModelIndex& i : m_runTable->selectionModel()->selectedRows()) ids << i.data(RunListModel::RunIdRole).toLongLong();
    std::sort(ids.begin(), ids.end());
    const qint64 previous = m_baseline->currentData().toLongLong();
    m_baseline->clear();
    for (qint64 id : ids) m_baseline->addItem(runName(id), id);
    const int keep = m_baseline->findData(previous);
    m_baseline->setCurrentIndex(keep >= 0 ? keep : 0);
    m_compareAction->setEnabled(ids.size() >= 2 || m_runTable->selectionModel()->selectedRows().isEmpty());
}

void RunComparePane::compareSelected() {
    QVector<qint64> ids;
    for (int i = 0; i < m_baseline->count(); ++i) ids << m_baseline->itemData(i).toLongLong();
    if (ids.size() < 2) {
        showStatus(tr("Select two or more runs (Ctrl/Shift+click in the runs table)."));
        return;
    }
    compareRuns(ids, std::max(0, m_baseline->currentIndex()));
}

void RunComparePane::setBaseline(int runIndex) {
    if (m_compared.size() < 2 || runIndex < 0 || runIndex >= m_compared.size()) return;
    compareRuns(m_compared, runIndex);
}

void RunComparePane::compareRuns(const QVector<qint64>& runs, int baseline) {
    if (m_comparing || runs.size() < 2) return;
    if (!isOpen()) {
        showStatus(tr("No project open."));
        emit comparisonFailed(tr("no project open"));
        return;
    }
    m_comparing = true;
    m_pending = runs;
    m_pendingBaseline = baseline >= 0 && baseline < runs.size() ? baseline : 0;
    const bool matrixScorer = m_scorer->currentData().toString() == "matrix";
    const std::vector<int64_t> ids(runs.begin(), runs.end());
    const size_t base = size_t(m_pendingBaseline);
    m_compareAction->setEnabled(false);
    QStringList names;
    for (qint64 id : runs) names << runName(id);
    showStatus(tr("Scoring and comparing %1 ...").arg(names.join(", ")));
    // On the session's worker, in order with the other writes (the comparison stores the scores it computes).
    m_session->post(
        this,
        [ids, base, matrixScorer](store::Project& project) {
            Outcome out;
            auto c = eval::compare_stored_many(project, ids, base,
                                                matrixScorer ? eval::ScorerKind::matrix : eval::ScorerKind::official);
            if (!c.ok()) out.first = QString::fromStdString(c.error().to_string());
            else out.second = std::move(c).value();
            return out;
        },
        [this](Outcome out) { onComparisonFinished(std::move(out)); });
}

void RunComparePane::rebuildFilters() {
    m_filters.clear();
    const eval::MultiComparison& c = *m_comparison;
    using K = eval::OutcomeKind;
    auto label = [&](size_t i) { return QString::fromStdString(c.run_labels[i]); };
    m_filters.append({tr("all tasks"), {K::all_tasks}});
    m_filters.append({tr("solved by all"), {K::solved_by_all}});
    m_filters.append({tr("solved by none"), {K::solved_by_none}});
    m_filters.append({tr("solved only by the baseline (%1)").arg(label(c.baseline)), {K::only_run, int(c.baseline)}});
    for (size_t i = 0; i < c.n_runs(); ++i) {
        if (i != c.baseline) m_filters.append({tr("solved only by %1").arg(label(i)), {K::only_run, int(i)}});
    }
    for (size_t i = 0; i < c.n_runs(); ++i) {
        if (i == c.baseline) continue;
        m_filters.append({tr("%1 solved, baseline not").arg(label(i)), {K::gained, int(i)}});
        m_filters.append({tr("baseline solved, %1 not").arg(label(i)), {K::lost, int(i)}});
    }
    m_filters.append({tr("not scored"), {K::not_scored}});
    QSignalBlocker block(m_outcomeFilter);
    m_outcomeFilter->clear();
    for (const auto& f : m_filters) m_outcomeFilter->addItem(f.first);
    m_outcomeFilter->setCurrentIndex(0);
    m_taskFilter->setOutcomeFilter(m_filters.front().second);
}

void RunComparePane::onComparisonFinished(Outcome result) {
    m_comparing = false;
    m_compareAction->setEnabled(true);
    if (!result.second) {
        showStatus(tr("Comparison failed: %1").arg(result.first));
        emit comparisonFailed(result.first);
        return;
    }
    m_comparison = std::move(result.second);
    m_compared = m_pending;
    const eval::MultiComparison& c = *m_comparison;
    m_metrics->setComparison(c);
    m_tasks->setComparison(c);
    m_groups->setComparison(c);
    rebuildFilters();
    m_csvAction->setEnabled(true);
    m_chartAction->setEnabled(true);
    {
        // The baseline box shows the compared runs with the baseline current.
        QSignalBlocker block(m_baseline);
        m_baseline->clear();
        for (qint64 id : m_compared) m_baseline->addItem(runName(id), id);
        m_baseline->setCurrentIndex(int(c.baseline));
    }
    layoutMetrics();
    QChart* old = m_chartView->chart();
    m_chartView->setChart(buildComparisonChart(c));
    if (old) delete old;

    QStringList parts;
    for (size_t i = 0; i < c.n_runs(); ++i) {
        if (i == c.baseline) continue;
        const auto& v = c.versus[i];
        QString s = tr("%1: +%2 / -%3").arg(QString::fromStdString(c.run_labels[i])).arg(v.gained).arg(v.lost);
        if (v.mcnemar_p) s += tr(" (McNemar p = %1)").arg(*v.mcnemar_p, 0, 'f', 3);
        parts << s;
    }
    const QString flips = tr("Against the baseline %1: %2.  Solved by all: %3, by none: %4 (of %5 scored by every run).")
                              .arg(QString::fromStdString(c.run_labels[c.baseline]), parts.join("; "))
                              .arg(c.solved_by_all)
                              .arg(c.solved_by_none)
                              .arg(c.n_complete);
    m_flipSummary->setText(flips);

    QStringList notScored, notes;
    const auto counts = c.not_scored_counts();
    for (size_t i = 0; i < c.n_runs(); ++i) {
        for (const auto& [reason, n] : counts[i]) {
            notScored << (n == 1 ? tr("%1: %2 task (%3)") : tr("%1: %2 tasks (%3)"))
                             .arg(QString::fromStdString(c.run_labels[i]))
                             .arg(n)
                             .arg(QString::fromStdString(reason))
                             .toHtmlEscaped();
        }
        for (const auto& note : c.notes[i]) notes << QString::fromStdString(c.run_labels[i] + ": " + note);
    }
    m_notScored->setText(notScored.isEmpty() ? tr("Every task was scored.")
                                             : tr("<b>Not scored:</b> %1").arg(notScored.join(QStringLiteral(" &middot; "))));
    m_notScored->setToolTip(notes.join('\n'));
    showStatus(flips);
    emit comparisonReady();
}

void RunComparePane::setOutcomeFilter(const eval::OutcomeFilter& filter) {
    for (int i = 0; i < m_filters.size(); ++i) {
        if (m_filters[i].second.kind == filter.kind && m_filters[i].second.run == filter.run) {
            m_outcomeFilter->setCurrentIndex(i);
            return;
        }
    }
    m_taskFilter->setOutcomeFilter(filter);  // not offered in the box (e.g. gained by the baseline): still applied
}

bool RunComparePane::exportCsv(const QString& path) const {
    if (!m_comparison) return false;
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
    const std::string csv = m_comparison->to_csv();
    return f.write(csv.data(), qint64(csv.size())) == qint64(csv.size());
}

bool RunComparePane::exportChart(const QString& path) const {
    if (!m_comparison) return false;
    // A fresh chart in an off-screen view of a fixed size, so the export does not depend on the pane being
    // visible or on its current size.
    const QSize size(std::max(900, 260 * int(m_comparison->n_runs()) + 260), 560);
    QChartView view(buildComparisonChart(*m_comparison));
    view.setRenderHint(QPainter::Antialiasing);
    view.setAttribute(Qt::WA_DontShowOnScreen);
    view.resize(size);
    view.show();
    QCoreApplication::processEvents();
    if (path.endsWith(".svg", Qt::CaseInsensitive)) {
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setSize(size);
        svg.setViewBox(QRect(QPoint(0, 0), size));
        svg.setTitle(tr("Run comparison"));
        QPainter p(&svg);
        view.render(&p);
        return p.end() && QFileInfo(path).size() > 0;
    }
    QPixmap pm(size);
    pm.fill(Qt::white);
    QPainter p(&pm);
    p.setRenderHint(QPainter::Antialiasing);
    view.render(&p);
    p.end();
    return pm.save(path);
}

void RunComparePane::openTask(const QString& taskKey, bool show) {
    if (!isOpen() || !m_comparison) return;
    const std::vector<int64_t> ids(m_compared.begin(), m_compared.end());
    m_session->post(
        this, [ids, key = taskKey.toStdString()](store::Project& p) { return eval::load_task_across_runs(p, ids, key); },
        [this, show](Result<eval::TaskAcrossRuns> t) {
            if (!m_comparison) return;
            if (!t.ok()) {
                showStatus(QString::fromStdString(t.error().to_string()));
                return;
            }
            QString outcome;
            const eval::MultiTask* scores = nullptr;
            for (const auto& task : m_comparison->tasks) {
                if (task.task_id == t->task_key) {
                    outcome = QString::fromStdString(m_comparison->outcome_label(task));
                    scores = &task;
                }
            }
            auto* view = new RunCompareTaskView(t.value(), int(m_comparison->baseline), outcome, scores, this);
            view->setAttribute(Qt::WA_DeleteOnClose);
            if (show) view->show();
            emit taskOpened(view);
        });
}

}  // namespace matrix::ui
