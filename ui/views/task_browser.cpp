// TaskBrowser implementation (see task_browser.h).
#include "ui/views/task_browser.h"

#include <QAction>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QSpinBox>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/models/project_session.h"
#include "ui/models/task_table_model.h"

#include <algorithm>

namespace matrix::ui {

namespace {
// Dataset combo entries of pair datasets browse the tasks their pairs sit on (TaskFilter::pairs_dataset_id).
constexpr int kByPairsRole = Qt::UserRole + 1;
}  // namespace

TaskBrowser::TaskBrowser(ProjectSession* session, QWidget* parent)
    : QWidget(parent),
      m_session(session),
      m_model(new TaskTableModel(session, this)),
      m_table(new QTableView(this)),
      m_search(new QLineEdit(this)),
      m_dataset(new QComboBox(this)),
      m_tool(new QComboBox(this)),
      m_verdict(new QComboBox(this)),
      m_missing(new QComboBox(this)),
      m_pairStatus(new QComboBox(this)),
      m_minSteps(new QSpinBox(this)),
      m_maxSteps(new QSpinBox(this)),
      m_count(new QLabel(this)),
      m_debounce(new QTimer(this)),
      m_useAsSeeds(new QAction(tr("Use as &Synthesis Seeds"), this)),
      m_chip(new QWidget(this)),
      m_chipText(new QLabel(m_chip)),
      m_chipClear(new QToolButton(m_chip)) {
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(4, 4, 4, 4);
    m_search->setPlaceholderText(tr("Search tasks, thoughts, code, observations (word, word*, \"phrase\")"));
    m_search->setClearButtonEnabled(true);
    outer->addWidget(m_search);

    auto* grid = new QGridLayout;
    grid->setHorizontalSpacing(6);
    auto label = [this](const QString& t) { return new QLabel(t, this); };
    m_dataset->addItem(tr("All datasets"), QVariant());
    m_tool->addItem(tr("Any tool"), QString());
    m_verdict->addItem(tr("Any verdict"), QString());
    for (const char* v : {"yes", "no", "unknown"}) m_verdict->addItem(QString::fromLatin1(v), QString::fromLatin1(v));
    m_missing->addItem(tr("Any"), 0);
    m_missing->addItem(tr("Has missing images"), 1);
    m_missing->addItem(tr("No missing images"), 2);
    m_pairStatus->addItem(tr("Any pairs"), QString());
    for (const char* s : {"pending", "approved", "rejected"})
        m_pairStatus->addItem(tr("Has %1 pairs").arg(QString::fromLatin1(s)), QString::fromLatin1(s));
    for (QSpinBox* s : {m_minSteps, m_maxSteps}) {
        s->setRange(0, 99);
        s->setSpecialValueText(tr("any"));
        s->setFixedWidth(64);
    }
    grid->addWidget(label(tr("Dataset")), 0, 0);
    grid->addWidget(m_dataset, 0, 1);
    grid->addWidget(label(tr("Tool")), 0, 2);
    grid->addWidget(m_tool, 0, 3);
    grid->addWidget(label(tr("Verdict")), 0, 4);
    grid->addWidget(m_verdict, 0, 5);
    grid->addWidget(label(tr("Steps")), 1, 0);
    auto* steps = new QHBoxLayout;
    steps->addWidget(m_minSteps);
    steps->addWidget(label(QStringLiteral("\u2013")));
    steps->addWidget(m_maxSteps);
    steps->addStretch(1);
    grid->addLayout(steps, 1, 1);
    grid->addWidget(label(tr("Images")), 1, 2);
    grid->addWidget(m_missing, 1, 3);
    grid->addWidget(label(tr("Pairs")), 1, 4);
    grid->addWidget(m_pairStatus, 1, 5);
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(3, 1);
    grid->setColumnStretch(5, 1);
    outer->addLayout(grid);

    // The drill-down chip: which count the table is narrowed to, and the way back (Esc).
    m_chip->setObjectName("task_filter_chip");
    m_chip->setAutoFillBackground(true);
    QPalette chipPalette = m_chip->palette();
    chipPalette.setColor(QPalette::Window, chipPalette.color(QPalette::Highlight).lighter(170));
    m_chip->setPalette(chipPalette);
    auto* chipLayout = new QHBoxLayout(m_chip);
    chipLayout->setContentsMargins(6, 2, 2, 2);
    m_chipText->setObjectName("task_filter_chip_text");
    chipLayout->addWidget(m_chipText, 1);
    m_chipClear->setText(tr("Clear (Esc)"));
    m_chipClear->setToolTip(tr("Show every task again (Esc in the task table)"));
    m_chipClear->setAutoRaise(true);
    chipLayout->addWidget(m_chipClear);
    m_chip->hide();
    outer->addWidget(m_chip);
    connect(m_chipClear, &QToolButton::clicked, this, &TaskBrowser::clearIdFilter);
    m_clearFilterKey = new QAction(tr("Clear the Task Filter"), this);
    m_clearFilterKey->setShortcut(QKeySequence(Qt::Key_Escape));
    m_clearFilterKey->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_clearFilterKey->setEnabled(false);
    connect(m_clearFilterKey, &QAction::triggered, this, &TaskBrowser::clearIdFilter);
    addAction(m_clearFilterKey);
    if (m_session) {
        // Another project: the drill-down's ids mean nothing there.
        connect(m_session, &ProjectSession::opened, this, [this] {
            m_idFilter.reset();
            m_chip->hide();
            m_clearFilterKey->setEnabled(false);
        });
    }

    m_useAsSeeds->setObjectName("use_as_synthesis_seeds");
    m_useAsSeeds->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+U")));
    m_useAsSeeds->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_useAsSeeds->setToolTip(tr("Give the selected tasks to the Synthesis dock as seed examples for new queries "
                                "(Ctrl+Shift+U)"));
    m_useAsSeeds->setStatusTip(m_useAsSeeds->toolTip());
    connect(m_useAsSeeds, &QAction::triggered, this, [this] {
        const QVector<qint64> ids = selectedTaskIds();
        if (!ids.isEmpty()) emit seedsRequested(ids);
    });
    addAction(m_useAsSeeds);

    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(TaskTableModel::ColId, Qt::AscendingOrder);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->setWordWrap(false);
    m_table->setAlternatingRowColors(true);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_table, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
        const QModelIndex index = m_table->indexAt(pos);
        if (!index.isValid()) return;
        // A click inside a multi-row selection keeps it (the seeds action works on all of it).
        if (!m_table->selectionModel()->isRowSelected(index.row(), QModelIndex())) selectRow(index.row());
        QMenu menu(this);
        menu.addActions(m_contextActions);
        if (!m_contextActions.isEmpty()) menu.addSeparator();
        menu.addAction(m_useAsSeeds);
        menu.exec(m_table->viewport()->mapToGlobal(pos));
    });
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->horizontalHeader()->setSectionResizeMode(TaskTableModel::ColTask, QHeaderView::Stretch);
    m_table->setColumnWidth(TaskTableModel::ColId, 76);
    m_table->setColumnWidth(TaskTableModel::ColSteps, 44);
    m_table->setColumnWidth(TaskTableModel::ColTools, 104);
    m_table->setColumnWidth(TaskTableModel::ColVerdict, 62);
    m_table->setColumnWidth(TaskTableModel::ColImages, 56);
    m_table->setColumnWidth(TaskTableModel::ColPairs, 90);
    outer->addWidget(m_table, 1);
    setMinimumWidth(600);
    outer->addWidget(m_count);

    m_debounce->setSingleShot(true);
    m_debounce->setInterval(250);
    connect(m_debounce, &QTimer::timeout, this, &TaskBrowser::applyFilter);
    connect(m_search, &QLineEdit::textChanged, m_debounce, qOverload<>(&QTimer::start));
    connect(m_search, &QLineEdit::returnPressed, this, &TaskBrowser::applyFilter);
    for (QComboBox* c : {m_dataset, m_tool, m_verdict, m_missing, m_pairStatus})
        connect(c, qOverload<int>(&QComboBox::currentIndexChanged), this, &TaskBrowser::applyFilter);
    for (QSpinBox* s : {m_minSteps, m_maxSteps}) connect(s, qOverload<int>(&QSpinBox::valueChanged), m_debounce, qOverload<>(&QTimer::start));
    connect(m_dataset, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
        const QVariant v = m_dataset->currentData();
        emit datasetChanged(v.isValid() ? std::optional<qint64>(v.toLongLong()) : std::nullopt);
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& cur) {
                if (cur.isValid()) emit taskSelected(m_model->taskId(cur.row()));
            });
    connect(m_model, &TaskTableModel::countChanged, this, &TaskBrowser::updateCount);
    connect(m_model, &QAbstractItemModel::rowsInserted, this, [this] {
        updateCount();
        if (!m_table->currentIndex().isValid() && m_model->rowCount() > 0) selectRow(0);
    });
    connect(m_model, &QAbstractItemModel::modelReset, this, &TaskBrowser::updateCount);
    connect(m_model, &TaskTableModel::queryFailed, this, [this](const QString& m) { m_count->setText(tr("Query failed: %1").arg(m)); });
    updateCount();
}

void TaskBrowser::setDatasets(const QVector<DatasetEntry>& datasets) {
    QSignalBlocker block(m_dataset);
    const QVariant keep = m_dataset->currentData();
    m_dataset->clear();
    m_dataset->addItem(tr("All datasets"), QVariant());
    for (const DatasetEntry& d : datasets) {
        if (d.tasks > 0) {
            m_dataset->addItem(tr("%1 (%2)").arg(d.name).arg(d.tasks), d.id);
        } else if (d.pairs > 0) {
            // A pair dataset whose pairs sit on other datasets' tasks: "browse it" = the tasks its pairs belong to.
            m_dataset->addItem(tr("%1 (%2 pairs)").arg(d.name).arg(d.pairs), d.id);
            m_dataset->setItemData(m_dataset->count() - 1, true, kByPairsRole);
        }
    }
    const int i = m_dataset->findData(keep);
    m_dataset->setCurrentIndex(i < 0 ? 0 : i);
}

void TaskBrowser::setTools(const QStringList& tools) {
    QSignalBlocker block(m_tool);
    const QString keep = m_tool->currentData().toString();
    m_tool->clear();
    m_tool->addItem(tr("Any tool"), QString());
    for (const QString& t : tools) m_tool->addItem(t, t);
    const int i = m_tool->findData(keep);
    m_tool->setCurrentIndex(i < 0 ? 0 : i);
}

store::TaskFilter TaskBrowser::currentFilter() const {
    store::TaskFilter f;
    if (m_dataset->currentData().isValid()) {
        const qint64 id = m_dataset->currentData().toLongLong();
        if (m_dataset->currentData(kByPairsRole).toBool())
            f.pairs_dataset_id = id;
        else
            f.dataset_id = id;
    }
    f.tool = m_tool->currentData().toString().toStdString();
    if (!m_verdict->currentData().toString().isEmpty()) f.verdict = m_verdict->currentData().toString().toStdString();
    if (m_minSteps->value() > 0) f.min_steps = m_minSteps->value();
    if (m_maxSteps->value() > 0) f.max_steps = m_maxSteps->value();
    const int missing = m_missing->currentData().toInt();
    if (missing == 1) f.has_missing_media = true;
    if (missing == 2) f.has_missing_media = false;
    if (!m_pairStatus->currentData().toString().isEmpty()) f.pair_status = m_pairStatus->currentData().toString().toStdString();
    f.text = m_search->text().trimmed().toStdString();
    f.task_ids = m_idFilter;
    return f;
}

QVector<qint64> TaskBrowser::selectedTaskIds() const {
    QVector<qint64> ids;
    QModelIndexList rows = m_table->selectionModel()->selectedRows();
    std::sort(rows.begin(), rows.end(), [](const QModelIndex& a, const QModelIndex& b) { return a.row() < b.row(); });
    for (const QModelIndex& i : rows) ids << m_model->taskId(i.row());
    if (ids.isEmpty() && m_table->currentIndex().isValid()) ids << m_model->taskId(m_table->currentIndex().row());
    return ids;
}

void TaskBrowser::setIdFilter(const QVector<qint64>& ids, const QString& label) {
    m_idFilter = std::vector<int64_t>(ids.begin(), ids.end());
    m_chipText->setText(tr("Filtered to %1: %2").arg(ids.size() == 1 ? tr("1 task") : tr("%1 tasks").arg(ids.size()), label));
    m_chip->show();
    m_clearFilterKey->setEnabled(true);
    m_table->clearSelection();
    m_table->setCurrentIndex(QModelIndex());
    applyFilter();
    m_table->setFocus();
}

void TaskBrowser::clearIdFilter() {
    if (!m_idFilter) return;
    m_idFilter.reset();
    m_chip->hide();
    m_clearFilterKey->setEnabled(false);
    applyFilter();
}

QString TaskBrowser::idFilterLabel() const { return m_idFilter ? m_chipText->text() : QString(); }

void TaskBrowser::applyFilter() {
    m_debounce->stop();
    m_model->setFilter(currentFilter());
}

void TaskBrowser::reload() { m_model->reload(); }

void TaskBrowser::focusSearch() {
    m_search->setFocus();
    m_search->selectAll();
}

qint64 TaskBrowser::currentTaskId() const {
    const QModelIndex i = m_table->currentIndex();
    return i.isValid() ? m_model->taskId(i.row()) : 0;
}

void TaskBrowser::selectRow(int row) {
    if (row < 0 || row >= m_model->rowCount()) return;
    m_table->setCurrentIndex(m_model->index(row, TaskTableModel::ColTask));
    m_table->scrollTo(m_table->currentIndex());
}

void TaskBrowser::selectNext() { selectRow(m_table->currentIndex().row() + 1); }
void TaskBrowser::selectPrevious() { selectRow(std::max(0, m_table->currentIndex().row() - 1)); }

QString TaskBrowser::countText() const { return m_count->text(); }

void TaskBrowser::updateCount() {
    if (!m_session || !m_session->isOpen()) {
        m_count->setText(tr("No project open"));
        return;
    }
    const qint64 total = m_model->totalCount();
    if (total < 0)
        m_count->setText(tr("Searching..."));
    else
        m_count->setText(tr("%1 matching tasks (%2 loaded)").arg(total).arg(m_model->loadedCount()));
}

}  // namespace matrix::ui
