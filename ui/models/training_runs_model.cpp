// See training_runs_model.h.
#include "ui/models/training_runs_model.h"

#include <QColor>

#include "core/store/dataset_repo.h"

namespace matrix::ui {

TrainingRunsModel::TrainingRunsModel(QObject* parent) : QAbstractTableModel(parent) {}

bool TrainingRunsModel::setProjectPath(const QString& path, QString* error) {
    auto p = store::Project::open(path.toStdString());
    if (!p.ok()) {
        if (error) *error = QString::fromStdString(p.error().to_string());
        beginResetModel();
        m_project.reset();
        m_runs.clear();
        endResetModel();
        return false;
    }
    m_project = std::make_unique<store::Project>(std::move(p).value());
    refresh();
    return true;
}

void TrainingRunsModel::refresh() {
    beginResetModel();
    m_runs.clear();
    m_lastLoss.clear();
    m_steps.clear();
    if (m_project) {
        store::RunRepo repo(m_project->db());
        auto runs = repo.list();
        if (runs.ok())
            for (auto& r : *runs) {
                if (r.kind != "sft" && r.kind != "dpo") continue;
                auto loss = repo.metric_series(r.id, "loss");
                m_lastLoss.push_back(loss.ok() && !loss->empty() ? loss->back().value : qQNaN());
                m_steps.push_back(loss.ok() && !loss->empty() ? loss->back().step : 0);
                m_runs.push_back(std::move(r));
            }
    }
    endResetModel();
}

int TrainingRunsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_runs.size());
}
int TrainingRunsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant TrainingRunsModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= int(m_runs.size())) return {};
    const auto& r = m_runs[size_t(index.row())];
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Id: return qint64(r.id);
        case Stage: return QString::fromStdString(r.kind).toUpper();
        case Name: return QString::fromStdString(r.name);
        case Status: return QString::fromStdString(r.status);
        case Steps: return m_steps[size_t(index.row())];
        case LastLoss: {
            double v = m_lastLoss[size_t(index.row())];
            return qIsNaN(v) ? QVariant() : QVariant(QString::number(v, 'g', 4));
        }
        case Created: return QString::fromStdString(r.created_at).left(19).replace('T', ' ');
        }
    }
    if (role == Qt::ForegroundRole && index.column() == Status) {
        if (r.status == "failed") return QColor(Qt::red);
        if (r.status == "finished") return QColor(0, 128, 0);
    }
    if (role == Qt::ToolTipRole && r.error) return QString::fromStdString(*r.error);
    return {};
}

QVariant TrainingRunsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {"Run", "Stage", "Name", "Status", "Steps", "Loss", "Created"};
    return section >= 0 && section < ColumnCount ? QString(names[section]) : QVariant();
}

qint64 TrainingRunsModel::runId(int row) const {
    return row >= 0 && row < int(m_runs.size()) ? m_runs[size_t(row)].id : 0;
}

const store::Run* TrainingRunsModel::run(int row) const {
    return row >= 0 && row < int(m_runs.size()) ? &m_runs[size_t(row)] : nullptr;
}

QVector<QPointF> TrainingRunsModel::series(qint64 runId, const QString& metric) const {
    QVector<QPointF> out;
    if (!m_project) return out;
    auto s = store::RunRepo(m_project->db()).metric_series(runId, metric.toStdString());
    if (s.ok())
        for (const auto& p : *s) out.append(QPointF(double(p.step), p.value));
    return out;
}

QStringList TrainingRunsModel::datasetNames() const {
    QStringList out;
    if (!m_project) return out;
    auto ds = store::DatasetRepo(m_project->db()).list();
    if (ds.ok())
        for (const auto& d : *ds) out << QString::fromStdString(d.name);
    return out;
}

}  // namespace matrix::ui
