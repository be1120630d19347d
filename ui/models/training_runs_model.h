// TrainingRunsModel: the run history table of the training panel (SFT/DPO runs of the project, newest first:
// id, stage, name, status, steps, last loss, created) and the project's dataset names. Reads the store only
// through ProjectSession (core/store/training_runs.h on its worker thread): refresh() posts the query and the
// rows arrive later (refreshed()); loadCurves() brings runs' metric series back the same way.
#pragma once

#include <QAbstractTableModel>
#include <QMap>
#include <QPointF>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QVector>

#include <functional>
#include <vector>

#include "core/store/training_runs.h"

namespace matrix::ui {

class ProjectSession;

class TrainingRunsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, Stage, Name, Status, Steps, LastLoss, Created, ColumnCount };
    explicit TrainingRunsModel(QObject* parent = nullptr);

    // The session the model reads through (not owned); nullptr clears the rows.
    void setSession(ProjectSession* session);
    ProjectSession* session() const;
    // Re-reads the runs and dataset names on the session's worker; refreshed() (or failed()) follows.
    void refresh();

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    qint64 runId(int row) const;
    const store::Run* run(int row) const;
    int rowOf(qint64 runId) const;  // -1 when not listed
    QStringList datasetNames() const { return m_datasets; }

    // Curves of runs: metric name -> (step, value) points, per run id, delivered to `done` on `context`'s thread.
    using Curves = QMap<qint64, QMap<QString, QVector<QPointF>>>;
    void loadCurves(const QVector<qint64>& runIds, const QStringList& metrics, QObject* context,
                    std::function<void(const Curves&)> done);

signals:
    void refreshed();
    void failed(const QString& message);

private:
    QPointer<ProjectSession> m_session;
    std::vector<store::TrainingRunRow> m_rows;
    QStringList m_datasets;
    quint64 m_generation = 0;  // a refresh answered after a newer one is dropped
};

}  // namespace matrix::ui
