// See training_runs_model.h.
#include "ui/models/training_runs_model.h"

#include <QColor>

#include "ui/models/project_session.h"

namespace matrix::ui {

namespace {
struct Listing {
    std::vector<store::TrainingRunRow> rows;
    std::vector<std::string> datasets;
    std::string error;
};
}  // namespace

TrainingRunsModel::TrainingRunsModel(QObject* parent) : QAbstractTableModel(parent) {}

void TrainingRunsModel::setSession(ProjectSession* session) {
    m_session = session;
    ++m_generation;
    beginResetModel();
    m_rows.clear();
    m_datasets.clear();
    endResetModel();
}

ProjectSession* TrainingRunsModel::session() const { return m_session; }

void TrainingRunsModel::refresh() {
    if (!m_session || !m_session->isOpen()) return;
    const quint64 generation = ++m_generation;
    m_session->post(
        this,
        [](store::Project& p) {
            Listing out;
            auto rows = store::list_training_runs(p.db());
            auto names = store::dataset_names(p.db());
            if (!rows.ok()) out.error = rows.error().to_string();
            else if (!names.ok()) out.error = names.error().to_string();
            else {
                out.rows = std::move(rows).value();
                out.datasets = std::move(names).value();
            }
            return out;
        },
        [this, generation](Listing l) {
            if (generation != m_generation) return;
            if (!l.error.empty()) {
                emit failed(QString::fromStdString(l.error));
                return;
            }
            beginResetModel();
            m_rows = std::move(l.rows);
            m_datasets.clear();
            for (const auto& d : l.datasets) m_datasets << QString::fromStdString(d);
            endResetModel();
            emit refreshed();
        });
}

int TrainingRunsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : int(m_rows.size());
}
int TrainingRunsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant TrainingRunsModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= int(m_rows.size())) return {};
    const auto& row = m_rows[size_t(index.row())];
    const auto& r = row.run;
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Id: return qint64(r.id);
        case Stage: return QString::fromStdString(r.kind).toUpper();
        case Name: return QString::fromStdString(r.name);
        case Status: return QString::fromStdString(r.status);
        case Steps: return qint64(row.last_step);
        case LastLoss: return row.last_loss ? QVariant(QString::number(*row.last_loss, 'g', 4)) : QVariant();
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
    return row >= 0 && row < int(m_rows.size()) ? m_rows[size_t(row)].run.id : 0;
}

const store::Run* TrainingRunsModel::run(int row) const {
    return row >= 0 && row < int(m_rows.size()) ? &m_rows[size_t(row)].run : nullptr;
}

int TrainingRunsModel::rowOf(qint64 runId) const {
    for (size_t i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].run.id == runId) return int(i);
    return -1;
}

void TrainingRunsModel::loadCurves(const QVector<qint64>& runIds, const QStringList& metrics, QObject* context,
                                   std::function<void(const Curves&)> done) {
    if (!m_session || !m_session->isOpen()) return;
    std::vector<int64_t> ids(runIds.begin(), runIds.end());
    std::vector<std::string> names;
    for (const QString& m : metrics) names.push_back(m.toStdString());
    m_session->post(
        context,
        [ids, names](store::Project& p) {
            std::vector<std::pair<int64_t, std::map<std::string, std::vector<store::MetricPoint>>>> out;
            for (int64_t id : ids) {
                auto c = store::run_curves(p.db(), id, names);
                out.emplace_back(id, c.ok() ? std::move(c).value() : std::map<std::string, std::vector<store::MetricPoint>>{});
            }
            return out;
        },
        [done = std::move(done)](const std::vector<std::pair<int64_t, std::map<std::string, std::vector<store::MetricPoint>>>>& all) {
            Curves curves;
            for (const auto& [id, series] : all) {
                auto& run = curves[id];
                for (const auto& [name, points] : series) {
                    QVector<QPointF> pts;
                    pts.reserve(int(points.size()));
                    for (const auto& p : points) pts.append(QPointF(double(p.step), p.value));
                    run[QString::fromStdString(name)] = pts;
                }
            }
            done(curves);
        });
}

}  // namespace matrix::ui
