// See job_follower.h.
#include "ui/models/job_follower.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTimer>

#include <fstream>

#include "core/jobs/job_control.h"
#include "ui/models/project_session.h"

namespace matrix::ui {

namespace {

// The log's complete lines after `offset` (at most 1 MiB a poll), moving `offset` past them.
std::string readNewLines(const std::string& path, qint64& offset) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return {};
    f.seekg(0, std::ios::end);
    const qint64 size = f.tellg();
    if (size <= offset) return {};
    f.seekg(offset);
    std::string chunk(size_t(std::min<qint64>(size - offset, 1 << 20)), '\0');
    f.read(chunk.data(), std::streamsize(chunk.size()));
    const size_t nl = chunk.rfind('\n');
    if (nl == std::string::npos) return {};
    offset += qint64(nl + 1);
    return chunk.substr(0, nl + 1);
}

struct Poll {
    std::optional<jobs::Job> job;
    std::string lines;
    qint64 offset = 0;
};

}  // namespace

JobFollower::JobFollower(ProjectSession* session, QObject* parent)
    : QObject(parent), m_session(session), m_timer(new QTimer(this)) {
    m_timer->setInterval(500);
    connect(m_timer, &QTimer::timeout, this, &JobFollower::poll);
}

void JobFollower::setInterval(int ms) { m_timer->setInterval(ms); }

void JobFollower::follow(qint64 jobId) {
    ++m_generation;  // answers about a job followed before are dropped
    m_inFlight = false;
    m_jobId = jobId;
    m_logOffset = 0;
    m_job.reset();
    if (jobId <= 0) return stop();
    m_timer->start();
    poll();
}

void JobFollower::stop() {
    m_timer->stop();
    ++m_generation;
    m_inFlight = false;
}

void JobFollower::poll() {
    if (m_jobId <= 0 || !m_session || !m_session->isOpen() || m_inFlight) return;
    m_inFlight = true;
    const qint64 id = m_jobId, offset = m_logOffset;
    const int generation = m_generation;
    m_session->post(
        this,
        [id, offset](store::Project& p) {
            Poll u;
            u.offset = offset;
            auto j = jobs::refresh_job(p.db(), id);
            if (!j.ok()) return u;
            u.job = *j;
            u.lines = readNewLines(j->log_path, u.offset);
            if (j->is_final()) {
                // The job's last lines may land after the row says it ended: read up to the end of the file.
                for (std::string more; !(more = readNewLines(j->log_path, u.offset)).empty();) u.lines += more;
            }
            return u;
        },
        [this, generation](Poll u) {
            if (generation != m_generation) return;
            m_inFlight = false;
            if (!u.job) return;
            m_logOffset = u.offset;
            const bool wasFinal = m_job && m_job->is_final();
            m_job = u.job;
            QStringList lines = QString::fromStdString(u.lines).split('\n', Qt::SkipEmptyParts);
            if (!lines.isEmpty()) emit linesRead(lines);
            emit jobUpdated(*m_job);
            if (m_job->is_final() && !wasFinal) {
                m_timer->stop();
                emit ended(*m_job);
            }
        });
}

QString JobFollower::togglePause() {
    if (!isActive() || !m_job) return {};
    const QString action = m_job->state == "paused" ? QStringLiteral("resume") : QStringLiteral("pause");
    control(action);
    return action;
}

bool JobFollower::cancel() {
    if (!isActive()) return false;
    control(QStringLiteral("cancel"));
    return true;
}

void JobFollower::control(const QString& action) {
    if (!m_session || !m_session->isOpen()) return;
    const qint64 id = m_jobId;
    const std::string a = action.toStdString();
    m_session->post(
        this,
        [id, a](store::Project& p) {
            if (a == "pause") return jobs::pause_job(p.db(), id);
            if (a == "resume") return jobs::resume_job(p.db(), id);
            return jobs::cancel_job(p.db(), id);
        },
        [this, action](Status st) {
            emit controlled(action, st.ok() ? QString() : QString::fromStdString(st.error().to_string()));
            poll();
        });
}

std::optional<JobFollower::Progress> JobFollower::parseProgress(const QString& line) {
    static const QRegularExpression re(QStringLiteral("^\\[progress (\\d+)/(\\d+)(?:, eta (\\d+(?:\\.\\d+)?) s)?\\]$"));
    const auto m = re.match(line.trimmed());
    if (!m.hasMatch()) return std::nullopt;
    Progress p;
    p.done = m.captured(1).toInt();
    p.total = m.captured(2).toInt();
    if (!m.captured(3).isEmpty()) p.eta_s = m.captured(3).toDouble();
    return p;
}

QString JobFollower::failureText(const jobs::Job& job) {
    const QStringList lines = QString::fromStdString(job.reason).split(QLatin1Char('\n'));
    QString head = lines.value(0);
    const int tail = head.indexOf(QLatin1String("; log tail:"));
    if (tail >= 0) head.truncate(tail);
    for (int i = int(lines.size()) - 1; i >= 1; --i) {
        const QString line = lines.at(i).trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1String("[job "))) continue;
        return head + QStringLiteral(": ") + line;
    }
    return head;
}

QString JobFollower::whereText(const jobs::Job& j) {
    return j.backend == "slurm" ? tr("Slurm job %1").arg(QString::fromStdString(j.slurm_job_id))
                                : tr("process %1 on %2").arg(j.pid).arg(QString::fromStdString(j.host));
}

QString JobFollower::matrixBinary() {
    const QString beside = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("matrix"));
    return QFileInfo::exists(beside) ? beside : QStandardPaths::findExecutable(QStringLiteral("matrix"));
}

}  // namespace matrix::ui
