// See run_rank_model.h.
#include "ui/models/run_rank_model.h"

#include <QColor>
#include <QLocale>
#include <QMap>
#include <QStringList>

#include <cmath>

#include "ui/models/project_session.h"

namespace matrix::ui {

RunRankModel::RunRankModel(QObject* parent) : QAbstractTableModel(parent) {}

void RunRankModel::load(ProjectSession* session, qint64 runId) {
    const quint64 generation = ++m_generation;
    if (!session || !session->isOpen() || runId <= 0) {
        setRanks(0, {});
        emit loaded();
        return;
    }
    session->post(
        this,
        [runId](store::Project& p) {
            auto r = store::RunRankRepo(p.db()).status(runId, store::unix_now());
            return r.ok() ? std::move(r).value() : std::vector<store::RunRankStatus>{};
        },
        [this, runId, generation](std::vector<store::RunRankStatus> ranks) {
            if (generation != m_generation) return;
            setRanks(runId, std::move(ranks));
            emit loaded();
        });
}

void RunRankModel::setRanks(qint64 runId, std::vector<store::RunRankStatus> ranks) {
    beginResetModel();
    m_runId = runId;
    m_ranks = std::move(ranks);
    endResetModel();
}

QString RunRankModel::formatAge(double s) {
    if (!std::isfinite(s)) return QStringLiteral("?");
    if (s < 0) s = 0;
    if (s < 120) return QStringLiteral("%1 s ago").arg(qint64(s));
    if (s < 7200) return QStringLiteral("%1 min ago").arg(qint64(s / 60));
    return QStringLiteral("%1 h ago").arg(qint64(s / 3600));
}

QString RunRankModel::summary() const {
    if (m_ranks.empty()) return m_runId > 0 ? tr("Run %1: no rank recorded").arg(m_runId) : QString();
    QMap<QString, int> byState;
    double tps = 0;
    for (const auto& r : m_ranks) {
        ++byState[QString::fromStdString(r.shown_state)];
        if (r.shown_state == "running" || r.shown_state == "finished") tps += r.row.tokens_per_s;
    }
    QStringList parts{m_ranks.size() == 1 ? tr("Run %1: 1 rank").arg(m_runId)
                                          : tr("Run %1: %2 ranks").arg(m_runId).arg(m_ranks.size())};
    for (const char* s : {"running", "finished", "paused", "cancelled", "failed", "lost"})
        if (byState.value(s)) parts << QStringLiteral("%1 %2").arg(byState.value(s)).arg(QLatin1String(s));
    if (tps > 0) parts << tr("%1 tokens/s in all").arg(QLocale(QLocale::English).toString(qint64(std::lround(tps))));
    return parts.join(QStringLiteral(" \u00b7 "));
}

int RunRankModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(m_ranks.size()); }
int RunRankModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RunRankModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= int(m_ranks.size())) return {};
    const auto& s = m_ranks[size_t(index.row())];
    const auto& r = s.row;
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Rank: return QStringLiteral("%1/%2").arg(r.rank).arg(r.world_size);
        case Host: return QString::fromStdString(r.host);
        case Pid: return qint64(r.pid);
        case State: return QString::fromStdString(s.shown_state);
        case Step: return qint64(r.step);
        case TokensPerS: return QLocale(QLocale::English).toString(r.tokens_per_s, 'f', 0);
        case LastSeen: return formatAge(s.seconds_since_heartbeat);
        }
    }
    if (role == Qt::TextAlignmentRole && (index.column() == Pid || index.column() == Step || index.column() == TokensPerS))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ForegroundRole && index.column() == State) {
        if (s.shown_state == "failed" || s.shown_state == "lost") return QColor(0xb0, 0x00, 0x20);
        if (s.shown_state == "finished") return QColor(0, 128, 0);
    }
    if (role == Qt::ToolTipRole) {
        if (r.error) return QString::fromStdString(*r.error);
        if (s.shown_state == "lost" && r.state == "running")
            return tr("No heartbeat for %1 while the run was running, or the run ended without this rank reporting")
                .arg(formatAge(s.seconds_since_heartbeat));
        if (s.shown_state == "paused" && r.state == "running")
            return tr("Its job is paused: the rank's process is stopped and resumes with the job");
    }
    return {};
}

QVariant RunRankModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    static const char* names[] = {"Rank", "Host", "PID", "State", "Step", "Tokens/s", "Last seen"};
    return section >= 0 && section < ColumnCount ? QString(names[section]) : QVariant();
}

}  // namespace matrix::ui
