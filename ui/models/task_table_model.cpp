// TaskTableModel implementation (see task_table_model.h).
#include "ui/models/task_table_model.h"

#include <QBrush>
#include <QColor>

#include "ui/models/project_session.h"

namespace matrix::ui {

namespace {
struct PageReply {
    std::vector<store::TaskSummary> rows;
    QString error;
};
struct CountReply {
    qint64 count = 0;
    QString error;
};
}  // namespace

TaskTableModel::TaskTableModel(ProjectSession* session, QObject* parent)
    : QAbstractTableModel(parent), m_session(session) {
    m_request.limit = kPageSize;
}

void TaskTableModel::setFilter(const store::TaskFilter& filter) {
    m_filter = filter;
    reload();
}

void TaskTableModel::reload() {
    beginResetModel();
    m_rows.clear();
    m_total = -1;
    ++m_generation;
    m_fetching = false;
    endResetModel();
    if (!m_session || !m_session->isOpen()) return;
    m_clock.start();
    m_firstPageMs = -1;
    // The first page before the count: the count visits every match (hundreds of ms at 177K tasks) and runs
    // on the session's slow-query worker.
    requestPage();
    m_counting = true;
    const int gen = m_generation;
    m_session->postSlow(
        this,
        [filter = m_filter](store::Project& p) {
            CountReply r;
            auto c = store::TaskRepo(p.db()).count(filter);
            if (c)
                r.count = *c;
            else
                r.error = QString::fromStdString(c.error().to_string());
            return r;
        },
        [this, gen](CountReply r) {
            if (gen != m_generation) return;
            m_counting = false;
            if (!r.error.isEmpty()) {
                emit queryFailed(r.error);
                return;
            }
            m_total = r.count;
            emit countChanged(m_total);
        });
}

void TaskTableModel::requestPage() {
    if (m_fetching || !m_session || !m_session->isOpen()) return;
    m_fetching = true;
    const int gen = m_generation;
    store::TaskPageRequest req = m_request;
    req.offset = int64_t(m_rows.size());
    req.limit = kPageSize;
    m_session->post(
        this,
        [filter = m_filter, req](store::Project& p) {
            PageReply r;
            auto page = store::TaskRepo(p.db()).page(filter, req);
            if (page)
                r.rows = std::move(page).value();
            else
                r.error = QString::fromStdString(page.error().to_string());
            return r;
        },
        [this, gen](PageReply r) {
            if (gen != m_generation) return;
            m_fetching = false;
            if (!r.error.isEmpty()) {
                emit queryFailed(r.error);
                return;
            }
            if (r.rows.empty()) {
                if (m_total < 0) m_total = qint64(m_rows.size());
                if (m_firstPageMs < 0) {
                    m_firstPageMs = m_clock.elapsed();
                    emit firstPageLoaded(m_firstPageMs);
                }
                return;
            }
            const int first = int(m_rows.size());
            beginInsertRows({}, first, first + int(r.rows.size()) - 1);
            for (auto& row : r.rows) m_rows.push_back(std::move(row));
            endInsertRows();
            if (m_firstPageMs < 0) {
                m_firstPageMs = m_clock.elapsed();
                emit firstPageLoaded(m_firstPageMs);
            }
        });
}

qint64 TaskTableModel::taskId(int row) const {
    return row >= 0 && row < int(m_rows.size()) ? m_rows[size_t(row)].id : 0;
}

int TaskTableModel::rowOfTask(qint64 id) const {
    for (size_t i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].id == id) return int(i);
    return -1;
}

int TaskTableModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }
int TaskTableModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColCount; }

QVariant TaskTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= int(m_rows.size())) return {};
    const store::TaskSummary& t = m_rows[size_t(index.row())];
    if (role == TaskIdRole) return qint64(t.id);
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case ColId: return QString::fromStdString(t.external_id.empty() ? std::to_string(t.id) : t.external_id);
        case ColTask: return QString::fromStdString(t.query).simplified();
        case ColSteps: return t.n_steps;
        case ColTools: {  // every finished trajectory calls final_answer: leave it out of the column
            QStringList tools = QString::fromStdString(t.tools).split(' ', Qt::SkipEmptyParts);
            tools.removeAll(QStringLiteral("final_answer"));
            return tools.join(QStringLiteral(", "));
        }
        case ColVerdict: return QString::fromStdString(t.verdict);
        case ColImages:
            if (t.n_images == 0) return QStringLiteral("\u2013");
            return t.n_missing_media > 0 ? tr("%1 \u26a0%2 missing").arg(t.n_images).arg(t.n_missing_media)
                                         : QString::number(t.n_images);
        case ColPairs: {
            const int total = t.pairs_pending + t.pairs_approved + t.pairs_rejected;
            if (total == 0) return QStringLiteral("\u2013");
            return tr("%1 (%2\u2713 %3\u2717 %4?)").arg(total).arg(t.pairs_approved).arg(t.pairs_rejected).arg(t.pairs_pending);
        }
        default: return {};
        }
    }
    if (role == Qt::ToolTipRole && index.column() == ColTask) return QString::fromStdString(t.query);
    if (role == Qt::ToolTipRole && index.column() == ColTools) return QString::fromStdString(t.tools);
    if (role == Qt::TextAlignmentRole && index.column() == ColSteps) return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ForegroundRole) {
        if (index.column() == ColVerdict)
            return QBrush(t.verdict == "yes" ? QColor(27, 122, 51) : t.verdict == "no" ? QColor(179, 38, 30) : QColor(120, 120, 120));
        if (index.column() == ColImages && t.n_missing_media > 0) return QBrush(QColor(179, 38, 30));
    }
    return {};
}

QVariant TaskTableModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return QAbstractTableModel::headerData(section, o, role);
    static const char* names[] = {QT_TR_NOOP("ID"), QT_TR_NOOP("Task"), QT_TR_NOOP("Steps"), QT_TR_NOOP("Tools"),
                                  QT_TR_NOOP("Verdict"), QT_TR_NOOP("Images"), QT_TR_NOOP("Pairs")};
    return section >= 0 && section < ColCount ? tr(names[section]) : QVariant();
}

bool TaskTableModel::canFetchMore(const QModelIndex& parent) const {
    if (parent.isValid() || m_fetching) return false;
    return m_total < 0 ? false : qint64(m_rows.size()) < m_total;
}

void TaskTableModel::fetchMore(const QModelIndex& parent) {
    if (!parent.isValid()) requestPage();
}

void TaskTableModel::sort(int column, Qt::SortOrder order) {
    static const store::TaskSort map[] = {store::TaskSort::Ordinal, store::TaskSort::Query, store::TaskSort::Steps,
                                          store::TaskSort::Ordinal, store::TaskSort::Verdict, store::TaskSort::Images,
                                          store::TaskSort::PairsPending};
    if (column < 0 || column >= ColCount) return;
    m_request.sort = map[column];
    m_request.descending = order == Qt::DescendingOrder;
    reload();
}

}  // namespace matrix::ui
