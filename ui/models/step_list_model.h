// StepListModel: the steps of one trajectory as a list ("Step 2 · objectlocation · error"), for the
// trajectory stepper. Holds plain StepData; UI thread only.
#pragma once

#include <QAbstractListModel>

#include "ui/models/view_data.h"

namespace matrix::ui {

class StepListModel : public QAbstractListModel {
    Q_OBJECT
public:
    enum Roles { IsErrorRole = Qt::UserRole + 1, IsFinalRole };
    using QAbstractListModel::QAbstractListModel;

    void setSteps(const QVector<StepData>& steps);
    // A step of a live agent run, added at the end.
    void appendStep(const StepData& step);
    const StepData& step(int row) const { return m_steps[row]; }
    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;

private:
    QVector<StepData> m_steps;
};

}  // namespace matrix::ui
