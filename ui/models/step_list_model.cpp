// StepListModel implementation (see step_list_model.h).
#include "ui/models/step_list_model.h"

#include <QBrush>
#include <QColor>

namespace matrix::ui {

void StepListModel::setSteps(const QVector<StepData>& steps) {
    beginResetModel();
    m_steps = steps;
    endResetModel();
}

void StepListModel::appendStep(const StepData& step) {
    const int row = int(m_steps.size());
    beginInsertRows({}, row, row);
    m_steps.push_back(step);
    endInsertRows();
}

int StepListModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_steps.size()); }

QVariant StepListModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_steps.size()) return {};
    const StepData& s = m_steps[index.row()];
    switch (role) {
    case Qt::DisplayRole: {
        QStringList tools;
        for (const ToolBadge& t : s.tools)
            if (!tools.contains(t.name)) tools << t.name;
        QString text = (s.isError ? QStringLiteral("\u2717 ") : s.isFinal ? QStringLiteral("\u2713 ") : QStringLiteral("   ")) +
                       tr("Step %1").arg(s.index);
        if (!tools.isEmpty()) text += QStringLiteral(" \u00b7 ") + tools.join(", ");
        if (s.pairCount > 0) text += s.pairCount == 1 ? tr(" \u00b7 1 pair") : tr(" \u00b7 %1 pairs").arg(s.pairCount);
        return text;
    }
    case Qt::ToolTipRole:
        return s.pairCount > 0 ? tr("%1\n\nPreference pairs for this step: %2 (shown in Pair Curation)").arg(s.thought).arg(s.pairCount)
                               : s.thought;
    case Qt::ForegroundRole:
        if (s.isError) return QBrush(QColor(170, 30, 20));
        if (s.isFinal) return QBrush(QColor(10, 100, 40));
        return {};
    case IsErrorRole:
        return s.isError;
    case IsFinalRole:
        return s.isFinal;
    default:
        return {};
    }
}

}  // namespace matrix::ui
