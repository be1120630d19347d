// The Synthesis dock's pipeline and drill-down models (see synth_pipeline_model.h).
#include "ui/models/synth_pipeline_model.h"

#include <QLocale>

namespace matrix::ui {

void SynthPipelineModel::setStatus(const synth::SynthStatus& status) {
    beginResetModel();
    m_status = status;
    endResetModel();
}

QString SynthPipelineModel::stageAt(int row) const {
    if (row < 0 || row >= int(m_status.stages.size())) return {};
    return QString::fromStdString(m_status.stages[row].stage);
}

QString SynthPipelineModel::reasonsText(int row) const {
    if (row < 0 || row >= int(m_status.stages.size())) return {};
    QStringList parts;
    for (const auto& [reason, n] : m_status.stages[row].reasons)
        parts << QStringLiteral("%1 %2").arg(QString::fromStdString(reason)).arg(n);
    return parts.join(QStringLiteral(", "));
}

int SynthPipelineModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_status.stages.size());
}
int SynthPipelineModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : NColumns; }

QVariant SynthPipelineModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= int(m_status.stages.size())) return {};
    const synth::StageStatus& s = m_status.stages[index.row()];
    if (role == Qt::TextAlignmentRole)
        return index.column() == Stage ? int(Qt::AlignLeft | Qt::AlignVCenter) : int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole) {
        if (index.column() == Rejected) {
            const QString r = reasonsText(index.row());
            return r.isEmpty() ? tr("Nothing rejected") : r;
        }
        if (index.column() >= In && index.column() <= Pending) return tr("Double-click or Enter: list these items");
        return {};
    }
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
        case Stage: return QString::fromStdString(s.stage);
        case In: return qlonglong(s.in);
        case Out: return qlonglong(s.out);
        case Rejected: return qlonglong(s.rejected);
        case Pending: return s.stage == "queries" ? QVariant(QStringLiteral("-")) : QVariant(qlonglong(s.pending));
        case Requests: return qlonglong(s.requests);
        case Cached: return qlonglong(s.cached_requests);
        case Tokens: return qlonglong(s.prompt_tokens + s.completion_tokens);
        case Cost: return QStringLiteral("%1").arg(s.cost, 0, 'f', 4);
        default: return {};
    }
}

QVariant SynthPipelineModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {"Stage", "In", "Out", "Rejected", "Pending", "Requests", "Cached", "Paid tokens", "Cost"};
    return section >= 0 && section < NColumns ? tr(names[section]) : QVariant();
}

void SynthItemsModel::setItems(const QString& title, const QVector<SynthItemRow>& items) {
    beginResetModel();
    m_title = title;
    m_items = items;
    endResetModel();
}

int SynthItemsModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : m_items.size(); }
int SynthItemsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : 4; }

QVariant SynthItemsModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_items.size() || role != Qt::DisplayRole) {
        if (role == Qt::ToolTipRole && index.isValid() && index.row() < m_items.size())
            return m_items[index.row()].query;
        return {};
    }
    const SynthItemRow& r = m_items[index.row()];
    switch (index.column()) {
        case 0: return r.taskId;
        case 1: return r.query;
        case 2: return r.status;
        case 3: return r.reason;
        default: return {};
    }
}

QVariant SynthItemsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {"Task", "Query", "Status", "Reason"};
    return section >= 0 && section < 4 ? tr(names[section]) : QVariant();
}

}  // namespace matrix::ui
