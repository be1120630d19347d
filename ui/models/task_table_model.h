// TaskTableModel: the task browser's table over the store. Rows arrive in pages (kPageSize) from
// store::TaskRepo::page on the session's worker thread as the view scrolls (canFetchMore/fetchMore), so a
// 177K-task project never loads all rows; the total comes from a separate count query. Changing the filter or
// sort resets the model; replies from an older filter are dropped (generation counter). UI thread only.
#pragma once

#include <QAbstractTableModel>
#include <QElapsedTimer>
#include <vector>

#include "core/store/task_repo.h"

namespace matrix::ui {

class ProjectSession;

class TaskTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { ColId, ColTask, ColSteps, ColTools, ColVerdict, ColImages, ColPairs, ColCount };
    enum Roles { TaskIdRole = Qt::UserRole + 1 };
    static constexpr int kPageSize = 200;

    explicit TaskTableModel(ProjectSession* session, QObject* parent = nullptr);

    void setFilter(const store::TaskFilter& filter);
    const store::TaskFilter& filter() const { return m_filter; }
    // Re-runs the current query (after an import or a curation change).
    void reload();
    qint64 totalCount() const { return m_total; }
    int loadedCount() const { return int(m_rows.size()); }
    bool isLoading() const { return m_fetching || m_counting; }
    qint64 taskId(int row) const;
    int rowOfTask(qint64 taskId) const;
    const store::TaskSummary& summary(int row) const { return m_rows[size_t(row)]; }
    qint64 lastFirstPageMs() const { return m_firstPageMs; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;
    bool canFetchMore(const QModelIndex& parent) const override;
    void fetchMore(const QModelIndex& parent) override;
    void sort(int column, Qt::SortOrder order) override;

signals:
    void countChanged(qint64 total);
    void firstPageLoaded(qint64 elapsedMs);
    void queryFailed(const QString& message);

private:
    void requestPage();

    ProjectSession* m_session;
    store::TaskFilter m_filter;
    store::TaskPageRequest m_request;
    std::vector<store::TaskSummary> m_rows;
    qint64 m_total = -1;
    int m_generation = 0;
    bool m_fetching = false;
    bool m_counting = false;
    QElapsedTimer m_clock;
    qint64 m_firstPageMs = -1;
};

}  // namespace matrix::ui
