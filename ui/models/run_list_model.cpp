// RunListModel (see run_list_model.h).
#include "ui/models/run_list_model.h"

namespace matrix::ui {

void RunListModel::setRuns(const QVector<RunRow>& runs) {
    beginResetModel();
    m_runs = runs;
    endResetModel();
}

int RunListModel::rowOf(qint64 runId) const {
    for (int i = 0; i < m_runs.size(); ++i) {
        if (m_runs[i].id == runId) return i;
    }
    return -1;
}

int RunListModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_runs.size()); }
int RunListModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RunListModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_runs.size()) return {};
    const RunRow& r = m_runs[index.row()];
    if (role == RunIdRole) return r.id;
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole) return {};
    switch (index.column()) {
        case IdColumn: return r.id;
        case NameColumn: return r.name;
        case BenchmarkColumn: return r.benchmark;
        case ModelColumn: return r.model;
        case CreatedColumn: return r.createdAt;
        case ScoreColumn: return r.headline;
    }
    return {};
}

QVariant RunListModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {"ID", "Run", "Benchmark", "Model", "Created", "Official score"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

}  // namespace matrix::ui
