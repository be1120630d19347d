// JobListModel: the project's jobs (core/jobs: `matrix train|eval|sample` processes, local or on Slurm) as a table
// (id, kind, state, where, run, command), newest first. While a project is open it polls the store every second
// through the ProjectSession's worker (refresh_jobs there: a job whose process died is marked failed, a Slurm job
// takes the scheduler's state), so the table and unfinishedCount() follow jobs that outlive any window. Submitting,
// pausing, resuming and cancelling also run on the session's worker; results come back in callbacks.
// Thread safety: UI thread only.
#pragma once

#include <QAbstractTableModel>
#include <QPointer>
#include <QString>
#include <QVector>
#include <functional>
#include <vector>

#include "core/jobs/job_control.h"

class QTimer;

namespace matrix::ui {

class ProjectSession;

class JobListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, Kind, State, Where, Run, Command, ColumnCount };
    explicit JobListModel(ProjectSession* session, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    const jobs::Job* job(int row) const;
    const jobs::Job* jobById(qint64 id) const;
    int unfinishedCount(const QString& kind = {}) const;  // queued, running or paused (of one kind when given)
    // The newest queued, running or paused job of this kind (what a dock reattaches to), or null.
    const jobs::Job* newestUnfinished(const QString& kind) const;
    bool loaded() const { return m_loaded; }

    // A dock's reattach after a restart: once per opened project (and for the project open when this is called), with
    // the first job list read after it opened, calls `attach` with the newest queued, running or paused job of `kind`,
    // unless `busy()` says the dock already follows or starts one. One registration per model.
    void reattachOnOpen(const QString& kind, std::function<bool()> busy, std::function<void(const jobs::Job&)> attach);

    // `done` gets the job (or the error text) on the UI thread.
    void submit(const jobs::JobRequest& request, std::function<void(const jobs::Job*, const QString& error)> done);

public slots:
    void refresh();

signals:
    void jobsUpdated();

private:
    ProjectSession* m_session;
    QTimer* m_timer;
    std::vector<jobs::Job> m_jobs;
    bool m_loaded = false;
    bool m_inFlight = false;
    QString m_reattachKind;
    std::function<bool()> m_reattachBusy;
    std::function<void(const jobs::Job&)> m_reattach;
    bool m_reattachPending = false;
};

}  // namespace matrix::ui
