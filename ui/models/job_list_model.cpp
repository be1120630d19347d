// See job_list_model.h.
#include "ui/models/job_list_model.h"

#include <QTimer>

#include "ui/models/project_session.h"

namespace matrix::ui {

JobListModel::JobListModel(ProjectSession* session, QObject* parent)
    : QAbstractTableModel(parent), m_session(session), m_timer(new QTimer(this)) {
    m_timer->setInterval(1000);
    connect(m_timer, &QTimer::timeout, this, &JobListModel::refresh);
    if (m_session) {
        connect(m_session, &ProjectSession::opened, this, [this] {
            beginResetModel();
            m_jobs.clear();
            m_loaded = false;
            m_reattachPending = true;
            endResetModel();
            refresh();
            m_timer->start();
        });
        connect(m_session, &ProjectSession::closed, this, [this] {
            m_timer->stop();
            beginResetModel();
            m_jobs.clear();
            m_loaded = false;
            endResetModel();
            emit jobsUpdated();
        });
        if (m_session->isOpen()) {
            refresh();
            m_timer->start();
        }
    }
}

int JobListModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_jobs.size()); }
int JobListModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant JobListModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= int(m_jobs.size())) return {};
    const jobs::Job& j = m_jobs[size_t(index.row())];
    if (role == Qt::ToolTipRole) {
        QString tip = QString::fromStdString(j.command_line()) + "\n" + tr("log: %1").arg(QString::fromStdString(j.log_path));
        if (!j.reason.empty()) tip += "\n" + QString::fromStdString(j.reason);
        return tip;
    }
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
    case Id: return qint64(j.id);
    case Kind: return QString::fromStdString(j.kind);
    case State: return QString::fromStdString(j.state);
    case Where:
        return j.backend == "slurm" ? tr("Slurm %1").arg(QString::fromStdString(j.slurm_job_id))
                                    : tr("%1 pid %2").arg(QString::fromStdString(j.host)).arg(j.pid);
    case Run: return j.run_id ? QVariant(qint64(*j.run_id)) : QVariant(QStringLiteral("-"));
    case Command: return QString::fromStdString(j.command_line());
    }
    return {};
}

QVariant JobListModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {"job", "kind", "state", "where", "run", "command"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

const jobs::Job* JobListModel::job(int row) const {
    return row >= 0 && row < int(m_jobs.size()) ? &m_jobs[size_t(row)] : nullptr;
}

const jobs::Job* JobListModel::jobById(qint64 id) const {
    for (const auto& j : m_jobs)
        if (j.id == id) return &j;
    return nullptr;
}

int JobListModel::unfinishedCount(const QString& kind) const {
    int n = 0;
    for (const auto& j : m_jobs)
        if (!j.is_final() && (kind.isEmpty() || kind.toStdString() == j.kind)) ++n;
    return n;
}

const jobs::Job* JobListModel::newestUnfinished(const QString& kind) const {
    for (const auto& j : m_jobs)  // newest first
        if (!j.is_final() && j.kind == kind.toStdString()) return &j;
    return nullptr;
}

void JobListModel::refresh() {
    if (!m_session || !m_session->isOpen() || m_inFlight) return;
    m_inFlight = true;
    m_session->post(this, [](store::Project& p) { return jobs::refresh_jobs(p.db()); },
                    [this](Result<std::vector<jobs::Job>> list) {
                        m_inFlight = false;
                        if (!list.ok()) return;
                        beginResetModel();
                        m_jobs = std::move(*list);
                        m_loaded = true;
                        endResetModel();
                        if (m_reattachPending && m_reattach) {
                            m_reattachPending = false;
                            if (!m_reattachBusy || !m_reattachBusy())
                                if (const jobs::Job* j = newestUnfinished(m_reattachKind)) m_reattach(*j);
                        }
                        emit jobsUpdated();
                    });
}

void JobListModel::reattachOnOpen(const QString& kind, std::function<bool()> busy,
                                  std::function<void(const jobs::Job&)> attach) {
    m_reattachKind = kind;
    m_reattachBusy = std::move(busy);
    m_reattach = std::move(attach);
    m_reattachPending = true;
}

void JobListModel::submit(const jobs::JobRequest& request,
                          std::function<void(const jobs::Job*, const QString& error)> done) {
    if (!m_session || !m_session->isOpen()) {
        if (done) done(nullptr, tr("no project open"));
        return;
    }
    m_session->post(this, [request](store::Project& p) { return jobs::submit_job(p.db(), request); },
                    [this, done](Result<jobs::Job> job) {
                        if (done) done(job.ok() ? &job.value() : nullptr,
                                       job.ok() ? QString() : QString::fromStdString(job.error().to_string()));
                        refresh();
                    });
}

}  // namespace matrix::ui
