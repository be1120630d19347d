// The Synthesis dock's models: the pipeline (one row per stage: units in, outputs, rejected, pending, requests,
// cached, paid tokens, cost, the rejection reasons) from core/synth's synth_status, and the items behind one count
// (task id, query, the stage's status and reason) for the drill-down. Both are filled with values the panel read
// through the ProjectSession; neither touches the store.
// Thread safety: UI thread only.
#pragma once

#include <QAbstractTableModel>
#include <QString>
#include <QVector>

#include "core/synth/synth_job.h"

namespace matrix::ui {

class SynthPipelineModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Stage, In, Out, Rejected, Pending, Requests, Cached, Tokens, Cost, NColumns };
    using QAbstractTableModel::QAbstractTableModel;

    void setStatus(const synth::SynthStatus& status);
    const synth::SynthStatus& status() const { return m_status; }
    // "duplicate 2, wrong fields 1" for a stage row.
    QString reasonsText(int row) const;
    QString stageAt(int row) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    synth::SynthStatus m_status;
};

struct SynthItemRow {
    qint64 taskId = 0;
    QString query, status, reason;
};

class SynthItemsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    using QAbstractTableModel::QAbstractTableModel;
    void setItems(const QString& title, const QVector<SynthItemRow>& items);
    const QVector<SynthItemRow>& items() const { return m_items; }
    QString title() const { return m_title; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QString m_title;
    QVector<SynthItemRow> m_items;
};

}  // namespace matrix::ui
