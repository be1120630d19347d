// A local `matrix serve` process and its load (see local_server.h).
#include "ui/workers/local_server.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QtConcurrent>

#include <nlohmann/json.hpp>

#include "core/net/http_client.h"

namespace matrix::ui {

LocalServer::LocalServer(QObject* parent) : QObject(parent) {
    m_pollTimer.setInterval(1500);
    connect(&m_pollTimer, &QTimer::timeout, this, &LocalServer::poll);
    m_poll = new QFutureWatcher<QString>(this);
    connect(m_poll, &QFutureWatcher<QString>::finished, this, [this] {
        if (m_state != State::Running) return;
        const auto j = nlohmann::json::parse(m_poll->result().toStdString(), nullptr, false);
        if (!j.is_object() || !j.contains("tokens_generated")) return;
        ServerLoad l;
        l.jobsRunning = j.value("jobs_running", 0);
        l.jobsWaiting = j.value("jobs_waiting", 0);
        l.rowsRunning = j.value("rows_running", 0);
        l.jobsCompleted = j.value("jobs_completed", 0);
        l.jobsCancelled = j.value("jobs_cancelled", 0);
        l.tokensGenerated = j.value("tokens_generated", 0);
        const qint64 now = QDateTime::currentMSecsSinceEpoch();
        if (m_lastTokens >= 0 && now > m_lastPollMs)
            l.tokensPerSecond = double(l.tokensGenerated - m_lastTokens) * 1000.0 / double(now - m_lastPollMs);
        m_lastTokens = l.tokensGenerated;
        m_lastPollMs = now;
        m_load = l;
        emit loadChanged(m_load);
    });
}

LocalServer::~LocalServer() {
    m_pollTimer.stop();
    m_poll->waitForFinished();
    if (m_process && m_process->state() != QProcess::NotRunning) {
        m_process->disconnect(this);
        m_process->terminate();
        if (!m_process->waitForFinished(5000)) m_process->kill();
        m_process->waitForFinished(2000);
    }
}

QString LocalServer::program() const {
    if (!m_program.isEmpty()) return m_program;
    const QString dir = QCoreApplication::applicationDirPath();
    for (const QString& p : {dir + "/matrix", dir + "/../app/matrix"})
        if (QFileInfo(p).isExecutable()) return QFileInfo(p).canonicalFilePath();
    const QString onPath = QStandardPaths::findExecutable(QStringLiteral("matrix"));
    return onPath.isEmpty() ? QStringLiteral("matrix") : onPath;
}

QStringList LocalServer::arguments(const LocalServerOptions& o) {
    QStringList a{"serve", "--model", o.modelDir, "--host", o.host, "--port", QString::number(o.port), "--device",
                  o.device, "--max-batch", QString::number(o.maxBatch)};
    for (const QString& x : o.adapters) a << "--adapter" << x;
    for (const QString& r : o.imageRoots) a << "--image-root" << r;
    return a;
}

void LocalServer::setState(State s) {
    if (m_state == s) return;
    m_state = s;
    emit stateChanged();
}

void LocalServer::start(const LocalServerOptions& options) {
    if (m_state != State::Stopped) return;
    if (m_process) m_process->deleteLater();
    m_process = new QProcess(this);
    m_stdout.clear();
    m_stderr.clear();
    m_address.clear();
    m_load = ServerLoad{};
    m_lastTokens = -1;
    connect(m_process, &QProcess::readyReadStandardOutput, this, &LocalServer::onStdout);
    connect(m_process, &QProcess::readyReadStandardError, this,
            [this] { m_stderr += QString::fromUtf8(m_process->readAllStandardError()); });
    connect(m_process, &QProcess::finished, this, &LocalServer::onFinished);
    connect(m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
        if (e != QProcess::FailedToStart) return;
        setState(State::Stopped);
        emit failed(tr("Cannot run %1: %2").arg(program(), m_process->errorString()));
    });
    setState(State::Starting);
    m_process->start(program(), arguments(options));
}

void LocalServer::stop() {
    if (!m_process || m_state == State::Stopped || m_state == State::Stopping) return;
    setState(State::Stopping);
    m_pollTimer.stop();
    m_process->terminate();
}

void LocalServer::onStdout() {
    m_stdout += QString::fromUtf8(m_process->readAllStandardOutput());
    if (m_state != State::Starting) return;
    static const QRegularExpression re(QStringLiteral("listening on (http://\\S+)"));
    const auto m = re.match(m_stdout);
    if (!m.hasMatch()) return;
    m_address = m.captured(1);
    setState(State::Running);
    m_pollTimer.start();
    emit started(m_address);
    poll();
}

void LocalServer::onFinished(int exitCode, QProcess::ExitStatus status) {
    m_pollTimer.stop();
    const State was = m_state;
    setState(State::Stopped);
    m_address.clear();
    if (was == State::Stopping && status == QProcess::NormalExit) {
        emit stopped();
        return;
    }
    QString why = m_stderr.trimmed().section('\n', -1);
    if (why.isEmpty()) why = status == QProcess::CrashExit ? tr("it crashed") : tr("exit code %1").arg(exitCode);
    emit failed(was == State::Starting ? tr("The server did not start: %1").arg(why)
                                       : tr("The server stopped: %1").arg(why));
}

void LocalServer::poll() {
    if (m_state != State::Running || m_poll->isRunning()) return;
    const std::string url = (m_address + QStringLiteral("/stats")).toStdString();
    m_poll->setFuture(QtConcurrent::run([url] {
        net::HttpRequest r;
        r.method = "GET";
        r.url = url;
        r.timeout_ms = 2000;
        auto res = net::http_request(r);
        return res.ok() ? QString::fromStdString(res.response.body) : QString();
    }));
}

}  // namespace matrix::ui
