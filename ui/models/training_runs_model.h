// TrainingRunsModel: the run history table of the training panel (SFT/DPO runs of the project, newest first:
// id, stage, name, status, steps, last loss, created) and each run's metric series for the charts.
// Reads the store on the UI thread through its own connection (runs are few; series are read on selection).
#pragma once

#include <QAbstractTableModel>
#include <QPointF>
#include <QString>
#include <QVector>

#include <memory>
#include <vector>

#include "core/store/project.h"
#include "core/store/run_repo.h"

namespace matrix::ui {

class TrainingRunsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, Stage, Name, Status, Steps, LastLoss, Created, ColumnCount };
    explicit TrainingRunsModel(QObject* parent = nullptr);

    // Opens the project (its own connection) and loads the runs; false with `error` set on failure.
    bool setProjectPath(const QString& path, QString* error = nullptr);
    void refresh();

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    qint64 runId(int row) const;
    const store::Run* run(int row) const;
    // (step, value) points of one metric of one run.
    QVector<QPointF> series(qint64 runId, const QString& metric) const;
    QStringList datasetNames() const;

private:
    std::unique_ptr<store::Project> m_project;
    std::vector<store::Run> m_runs;
    std::vector<double> m_lastLoss;
    std::vector<qint64> m_steps;
};

}  // namespace matrix::ui
