// RunComparePane (see run_compare_pane.h).
#include "ui/views/run_compare_pane.h"

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
#include <QPushButton>
#include <QSplitter>
#include <QSvgGenerator>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtConcurrent/QtConcurrent>

#include "core/bench/bench_store.h"
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
    return QStringLiteral("%1 %2").arg(QString::fromStdString(metric)).arg(o["metrics"][metric].get<double>(), 0, 'f', 2);
}

}  // namespace

RunComparePane::RunComparePane(const QString& projectPath, QWidget* parent)
    : QWidget(parent), m_projectPath(projectPath) {
    m_runs = new RunListModel(this);
    m_metrics = new RunMetricsModel(this);
    m_tasks = new RunTaskModel(this);
    m_taskFilter = new RunTaskFilterModel(this);
    m_taskFilter->setSourceModel(m_tasks);
    m_groups = new RunGroupModel(this);

    auto* layout = new QVBoxLayout(this);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Scorer:"), this));
    m_scorer = new QComboBox(this);
    m_scorer->addItem(tr("official"), "official");
    m_scorer->addItem(tr("MATRIX (lenient GTA check)"), "matrix");
    m_scorer->setToolTip(tr("official: the benchmark's own scoring code; MATRIX: its lenient GTA substring check"));
    bar->addWidget(m_scorer);
    m_compareButton = new QPushButton(tr("&Compare selected"), this);
    m_compareButton->setToolTip(tr("Compare the two selected runs (A = older, B = newer)"));
    bar->addWidget(m_compareButton);
    auto* reloadButton = new QPushButton(tr("&Reload"), this);
    bar->addWidget(reloadButton);
    bar->addStretch(1);
    auto* csvButton = new QPushButton(tr("Export CS&V..."), this);
    auto* chartButton = new QPushButton(tr("Export c&hart..."), this);
    bar->addWidget(csvButton);
    bar->addWidget(chartButton);
    layout->addLayout(bar);

    auto* split = new QSplitter(Qt::Vertical, this);
    m_runTable = makeTable(m_runs, split);
    m_runTable->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_runTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    split->addWidget(m_runTable);

    m_tabs = new QTabWidget(split);
    auto* metricsPage = new QSplitter(Qt::Horizontal, m_tabs);
    m_metricTable = makeTable(m_metrics, metricsPage);
    m_metricTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_chartView = new QChartView(metricsPage);
    m_chartView->setRenderHint(QPainter::Antialiasing);
    m_chartView->setMinimumWidth(380);
    metricsPage->addWidget(m_metricTable);
    metricsPage->addWidget(m_chartView);
    metricsPage->setStretchFactor(0, 1);
    metricsPage->setStretchFactor(1, 1);
    m_tabs->addTab(metricsPage, tr("&Metrics"));

    auto* tasksPage = new QWidget(m_tabs);
    auto* tasksLayout = new QVBoxLayout(tasksPage);
    auto* filterBar = new QHBoxLayout;
    filterBar->addWidget(new QLabel(tr("Show:"), tasksPage));
    m_flipFilter = new QComboBox(tasksPage);
    m_flipFilter->addItem(tr("all tasks"), -1);
    m_flipFilter->addItem(tr("solved only by A"), int(bench::FlipKind::only_a));
    m_flipFilter->addItem(tr("solved only by B"), int(bench::FlipKind::only_b));
    m_flipFilter->addItem(tr("solved by both"), int(bench::FlipKind::both));
    m_flipFilter->addItem(tr("solved by neither"), int(bench::FlipKind::neither));
    filterBar->addWidget(m_flipFilter);
    m_flipSummary = new QLabel(tasksPage);
    filterBar->addWidget(m_flipSummary, 1);
    tasksLayout->addLayout(filterBar);
    m_taskTable = makeTable(m_taskFilter, tasksPage);
    m_taskTable->setSortingEnabled(true);
    m_taskTable->sortByColumn(RunTaskModel::TaskColumn, Qt::AscendingOrder);
    m_taskTable->setToolTip(tr("Double-click a task to see both trajectories next to the gold one"));
    tasksLayout->addWidget(m_taskTable);
    m_tabs->addTab(tasksPage, tr("&Tasks"));

    m_groupTable = makeTable(m_groups, m_tabs);
    m_tabs->addTab(m_groupTable, tr("&Breakdown"));
    split->addWidget(m_tabs);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 3);
    layout->addWidget(split, 1);
    m_status = new QLabel(this);
    layout->addWidget(m_status);

    connect(m_compareButton, &QPushButton::clicked, this, &RunComparePane::compareSelected);
    connect(reloadButton, &QPushButton::clicked, this, &RunComparePane::reload);
    connect(m_flipFilter, &QComboBox::currentIndexChanged, this, [this](int) {
        const int v = m_flipFilter->currentData().toInt();
        m_taskFilter->setFlipFilter(v < 0 ? std::nullopt : std::optional<bench::FlipKind>(bench::FlipKind(v)));
    });
    connect(m_taskTable, &QTableView::doubleClicked, this, [this](const QModelIndex& i) {
        if (auto* view = openTask(i.data(RunTaskModel::TaskKeyRole).toString())) view->show();
    });
    connect(csvButton, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Export comparison"), {}, tr("CSV (*.csv)"));
        if (!f.isEmpty()) showStatus(exportCsv(f) ? tr("Saved %1").arg(f) : tr("Could not save %1").arg(f));
    });
    connect(chartButton, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getSaveFileName(this, tr("Export chart"), {}, tr("PNG (*.png);;SVG (*.svg)"));
        if (!f.isEmpty()) showStatus(exportChart(f) ? tr("Saved %1").arg(f) : tr("Could not save %1").arg(f));
    });
    connect(&m_watcher, &QFutureWatcher<std::pair<QString, std::optional<bench::Comparison>>>::finished, this,
            &RunComparePane::onComparisonFinished);

    auto project = store::Project::open(projectPath.toStdString(), store::OpenOptions{false, false, 5000});
    if (project.ok()) {
        m_project = std::make_unique<store::Project>(std::move(project).value());
        reload();
    } else {
        showStatus(tr("Cannot open %1: %2").arg(projectPath, QString::fromStdString(project.error().to_string())));
    }
}

RunComparePane::~RunComparePane() { m_watcher.waitForFinished(); }

void RunComparePane::showStatus(const QString& text) { m_status->setText(text); }

void RunComparePane::reload() {
    if (!m_project) return;
    auto runs = bench::list_eval_runs(*m_project);
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
                               : tr("%1 evaluation runs. Select two and press Compare.").arg(rows.size()));
}

QString RunComparePane::runName(qint64 id) const {
    const int row = m_runs->rowOf(id);
    return row >= 0 ? QStringLiteral("#%1 %2").arg(id).arg(m_runs->run(row).name) : QStringLiteral("#%1").arg(id);
}

void RunComparePane::setScorer(const QString& scorer) {
    const int i = m_scorer->findData(scorer);
    if (i >= 0) m_scorer->setCurrentIndex(i);
}

void RunComparePane::setFlipFilter(std::optional<bench::FlipKind> kind) {
    const int i = m_flipFilter->findData(kind ? int(*kind) : -1);
    if (i >= 0) m_flipFilter->setCurrentIndex(i);
}

void RunComparePane::compareSelected() {
    const auto rows = m_runTable->selectionModel()->selectedRows();
    if (rows.size() != 2) {
        showStatus(tr("Select exactly two runs."));
        return;
    }
    qint64 a = rows[0].data(RunListModel::RunIdRole).toLongLong();
    qint64 b = rows[1].data(RunListModel::RunIdRole).toLongLong();
    if (a > b) std::swap(a, b);
    compareRuns(a, b);
}

void RunComparePane::compareRuns(qint64 runA, qint64 runB) {
    if (m_watcher.isRunning()) return;
    m_runA = runA;
    m_runB = runB;
    const std::string path = m_projectPath.toStdString();
    const bool matrixScorer = m_scorer->currentData().toString() == "matrix";
    m_compareButton->setEnabled(false);
    showStatus(tr("Scoring and comparing %1 and %2 ...").arg(runName(runA), runName(runB)));
    // A worker-thread connection of its own (store connections are per thread).
    m_watcher.setFuture(QtConcurrent::run([path, runA, runB, matrixScorer]() {
        std::pair<QString, std::optional<bench::Comparison>> out;
        auto project = store::Project::open(path, store::OpenOptions{false, false, 5000});
        if (!project.ok()) {
            out.first = QString::fromStdString(project.error().to_string());
            return out;
        }
        auto c = bench::compare_stored_runs(project.value(), runA, runB,
                                            matrixScorer ? bench::ScorerKind::matrix : bench::ScorerKind::official);
        if (!c.ok()) out.first = QString::fromStdString(c.error().to_string());
        else out.second = std::move(c).value();
        return out;
    }));
}

void RunComparePane::onComparisonFinished() {
    m_compareButton->setEnabled(true);
    auto result = m_watcher.result();
    if (!result.second) {
        showStatus(tr("Comparison failed: %1").arg(result.first));
        emit comparisonFailed(result.first);
        return;
    }
    m_comparison = std::move(result.second);
    const bench::Comparison& c = *m_comparison;
    m_metrics->setComparison(c);
    m_tasks->setComparison(c);
    m_groups->setComparison(c);
    QChart* old = m_chartView->chart();
    m_chartView->setChart(buildComparisonChart(c, tr("A: %1").arg(runName(m_runA)), tr("B: %1").arg(runName(m_runB))));
    if (old) delete old;
    QString flips = tr("A = %1, B = %2.  Solved only by A: %3, only by B: %4, both: %5, neither: %6")
                        .arg(runName(m_runA), runName(m_runB))
                        .arg(c.only_a)
                        .arg(c.only_b)
                        .arg(c.both)
                        .arg(c.neither);
    if (c.mcnemar_p) flips += tr("  (McNemar exact p = %1)").arg(*c.mcnemar_p, 0, 'f', 3);
    m_flipSummary->setText(flips);
    showStatus(flips);
    emit comparisonReady();
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
    const QSize size(900, 560);
    QChartView view(buildComparisonChart(*m_comparison, tr("A: %1").arg(runName(m_runA)),
                                         tr("B: %1").arg(runName(m_runB))));
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

RunCompareTaskView* RunComparePane::openTask(const QString& taskKey) {
    if (!m_project || !m_comparison) return nullptr;
    auto t = bench::load_task_side_by_side(*m_project, m_runA, m_runB, taskKey.toStdString());
    if (!t.ok()) {
        showStatus(QString::fromStdString(t.error().to_string()));
        return nullptr;
    }
    auto* view = new RunCompareTaskView(t.value(), runName(m_runA), runName(m_runB), this);
    view->setAttribute(Qt::WA_DeleteOnClose);
    return view;
}

}  // namespace matrix::ui
