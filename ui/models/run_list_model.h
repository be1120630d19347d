// RunListModel: the project's evaluation runs (id, name, benchmark, model, date, headline score) for the
// comparison pane's runs table. Holds plain rows filled by the pane; UI thread only.
#pragma once

#include <QAbstractTableModel>
#include <QVector>

namespace matrix::ui {

struct RunRow {
    qint64 id = 0;
    QString name, benchmark, model, createdAt;
    QString headline;  // "answer_acc 60.00" from the run's stored summary
};

class RunListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { IdColumn, NameColumn, BenchmarkColumn, ModelColumn, CreatedColumn, ScoreColumn, ColumnCount };
    enum Roles { RunIdRole = Qt::UserRole + 1 };
    using QAbstractTableModel::QAbstractTableModel;

    void setRuns(const QVector<RunRow>& runs);
    const RunRow& run(int row) const { return m_runs[row]; }
    int rowOf(qint64 runId) const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

private:
    QVector<RunRow> m_runs;
};

}  // namespace matrix::ui
