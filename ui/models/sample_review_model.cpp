// See sample_review_model.h.
#include "ui/models/sample_review_model.h"

#include "core/store/pair_repo.h"
#include "core/store/project.h"
#include "core/store/run_repo.h"
#include "core/store/sampled_pair_repo.h"
#include "core/store/task_repo.h"

namespace matrix::ui {

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }
}  // namespace

SampleReview loadSampleReview(store::Project& project, qint64 runId) {
    SampleReview r;
    store::Database& db = project.db();
    store::SampledPairRepo links(db);
    if (auto runs = store::RunRepo(db).ids("sample"); runs.ok())
        for (int64_t id : *runs) r.runs.push_back(id);
    if (r.runs.isEmpty()) return r;
    r.runId = runId > 0 && r.runs.contains(runId) ? runId : r.runs.front();
    if (auto counts = links.decision_counts(r.runId); counts.ok())
        for (const store::DecisionCount& c : *counts) r.counts.push_back({qs(c.status), c.reason ? qs(*c.reason) : QString(), c.count});
    auto ids = links.disagreements(r.runId);
    if (!ids.ok()) return r;
    store::PairRepo pairs(db);
    store::TaskRepo tasks(db);
    for (int64_t id : *ids) {
        auto pair = pairs.get(id);
        auto link = links.get(id);
        if (!pair.ok() || !*pair || !link.ok() || !*link) continue;
        DisagreementRow row;
        row.pairId = id;
        row.taskId = (*pair)->task_id.value_or(0);
        row.step = (*pair)->step_index;
        if ((*pair)->task_id)
            if (auto t = tasks.get(*(*pair)->task_id); t.ok() && *t) row.task = qs((*t)->query).simplified().left(120);
        if ((*pair)->status == "rejected") {
            row.decision = QObject::tr("rejected");
            if ((*pair)->rejection_reason) row.decision += QStringLiteral(" (%1)").arg(qs(*(*pair)->rejection_reason));
        } else {
            row.decision = QObject::tr("chosen changed (%1)").arg(qs((*pair)->status));
        }
        row.verifierReason = qs((*link)->verifier_reason.value_or(""));
        r.disagreements.push_back(row);
    }
    return r;
}

void DecisionCountModel::setRows(const QVector<DecisionCountRow>& rows) {
    beginResetModel();
    m_rows = rows;
    endResetModel();
}
int DecisionCountModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }
int DecisionCountModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : 3; }
QVariant DecisionCountModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_rows.size()) return {};
    const DecisionCountRow& r = m_rows[index.row()];
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
            case 0: return r.status;
            case 1: return r.reason.isEmpty() ? QStringLiteral("\u2014") : r.reason;
            case 2: return r.count;
        }
    }
    if (role == Qt::TextAlignmentRole && index.column() == 2) return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}
QVariant DecisionCountModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case 0: return tr("Decision");
        case 1: return tr("Reason");
        case 2: return tr("Pairs");
    }
    return {};
}

void DisagreementModel::setRows(const QVector<DisagreementRow>& rows) {
    beginResetModel();
    m_rows = rows;
    endResetModel();
}
int DisagreementModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_rows.size()); }
int DisagreementModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : 4; }
QVariant DisagreementModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_rows.size()) return {};
    const DisagreementRow& r = m_rows[index.row()];
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
            case 0: return r.task;
            case 1: return r.step;
            case 2: return r.decision;
            case 3: return r.verifierReason;
        }
    }
    if (role == Qt::ToolTipRole && index.column() == 3) return r.verifierReason;
    return {};
}
QVariant DisagreementModel::headerData(int section, Qt::Orientation o, int role) const {
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case 0: return tr("Task");
        case 1: return tr("Step");
        case 2: return tr("Your decision");
        case 3: return tr("Verifier's reason");
    }
    return {};
}

}  // namespace matrix::ui
