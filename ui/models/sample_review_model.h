// The review side of a sampling run (store/sampled_pair_repo.h) as two table models: the run's decisions by
// status and rejection reason (approvals and rejections per reason), and the "verifier vs you" queue (sampled
// pairs the user rejected, or whose chosen action the user swapped or edited: the user disagrees with the
// verifier's pick), with the verifier's reason beside the user's decision. Filled from loadSampleReview(), which
// runs on the ProjectSession worker. UI thread only (the loader: the store's thread).
#pragma once

#include <QAbstractTableModel>
#include <QString>
#include <QVector>

namespace matrix::store {
class Project;
}

namespace matrix::ui {

struct DecisionCountRow {
    QString status, reason;
    qint64 count = 0;
};

struct DisagreementRow {
    qint64 pairId = 0, taskId = 0;
    int step = 0;
    QString task;            // the task's short text
    QString decision;        // "rejected (reason)" / "swapped" / "edited"
    QString verifierReason;
};

struct SampleReview {
    QVector<qint64> runs;  // sampling runs, newest first
    qint64 runId = 0;      // the run shown (0: none)
    QVector<DecisionCountRow> counts;
    QVector<DisagreementRow> disagreements;
};

// Reads the review of `runId` (0: the newest sampling run). Runs on the store worker.
SampleReview loadSampleReview(store::Project& project, qint64 runId);

class DecisionCountModel : public QAbstractTableModel {
    Q_OBJECT
public:
    using QAbstractTableModel::QAbstractTableModel;
    void setRows(const QVector<DecisionCountRow>& rows);
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    const QVector<DecisionCountRow>& rows() const { return m_rows; }

private:
    QVector<DecisionCountRow> m_rows;
};

class DisagreementModel : public QAbstractTableModel {
    Q_OBJECT
public:
    using QAbstractTableModel::QAbstractTableModel;
    void setRows(const QVector<DisagreementRow>& rows);
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    qint64 pairId(int row) const { return row >= 0 && row < m_rows.size() ? m_rows[row].pairId : 0; }
    const QVector<DisagreementRow>& rows() const { return m_rows; }

private:
    QVector<DisagreementRow> m_rows;
};

}  // namespace matrix::ui
