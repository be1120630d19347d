// RunRankModel: the ranks of one training run, one row each (rank, host, pid, state, step, tokens/s, last seen),
// for the strip under the training panel's charts. A single process shows one rank. The rows come from
// core/store/run_rank_repo.h through ProjectSession (load()); a rank still "running" whose heartbeat is older than
// store::kLostAfterHeartbeats of its intervals, or whose run has ended, shows as lost (red), with the error as its
// tooltip; one whose job is paused shows as paused.
#pragma once

#include <QAbstractTableModel>
#include <QPointer>
#include <QString>

#include <vector>

#include "core/store/run_rank_repo.h"

namespace matrix::ui {

class ProjectSession;

class RunRankModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Rank, Host, Pid, State, Step, TokensPerS, LastSeen, ColumnCount };
    explicit RunRankModel(QObject* parent = nullptr);

    // Reads run `runId`'s ranks through the session (RunRankRepo::status at now); loaded() follows. 0 clears.
    void load(ProjectSession* session, qint64 runId);
    // The rows as read (tests seed them directly).
    void setRanks(qint64 runId, std::vector<store::RunRankStatus> ranks);
    qint64 runId() const { return m_runId; }
    const std::vector<store::RunRankStatus>& ranks() const { return m_ranks; }
    // One line over the table: "Run 7: 2 ranks · 1 running · 1 lost · 1,625 tokens/s in all" (the last
    // tokens/s of the running and finished ranks, summed: the run's throughput).
    QString summary() const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static QString formatAge(double seconds);  // "4 s ago", "3 min ago", "2 h ago"

signals:
    void loaded();

private:
    qint64 m_runId = 0;
    std::vector<store::RunRankStatus> m_ranks;
    quint64 m_generation = 0;
};

}  // namespace matrix::ui
