// LocalServer: a local `matrix serve` process started and stopped from the workbench (Agent > Start Local Server).
// The server runs as its own process (QProcess) so a crash or a long generation never touches the UI; the
// address comes from its "listening on" line, and its load from polling GET /stats every 1.5 s off the UI thread
// (QtConcurrent + libcurl via core/net), delivered as queued signals. Stopping sends SIGTERM (the server finishes
// its answers' connections and exits 0); the destructor does the same and waits briefly.
// Thread safety: UI thread only.
#pragma once

#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTimer>

template <typename T>
class QFutureWatcher;

namespace matrix::ui {

struct LocalServerOptions {
    QString modelDir;
    QStringList adapters;  // "NAME=DIR"
    QString host = QStringLiteral("127.0.0.1");
    int port = 8000;  // 0: any free port
    QString device = QStringLiteral("cpu");
    int maxBatch = 32;
    QStringList imageRoots;
};

struct ServerLoad {
    qint64 jobsRunning = 0, jobsWaiting = 0, rowsRunning = 0;
    qint64 jobsCompleted = 0, jobsCancelled = 0, tokensGenerated = 0;
    double tokensPerSecond = 0.0;  // over the last poll interval
};

class LocalServer : public QObject {
    Q_OBJECT
public:
    enum class State { Stopped, Starting, Running, Stopping };
    explicit LocalServer(QObject* parent = nullptr);
    ~LocalServer() override;

    // The `matrix` binary; default: next to this program, else build/app/matrix beside a test binary, else PATH.
    void setProgram(const QString& path) { m_program = path; }
    QString program() const;
    static QStringList arguments(const LocalServerOptions& options);

    void start(const LocalServerOptions& options);
    void stop();
    State state() const { return m_state; }
    QString address() const { return m_address; }  // "http://127.0.0.1:8000" while running
    const ServerLoad& load() const { return m_load; }

signals:
    void started(const QString& address);
    void failed(const QString& message);  // could not start, or exited unexpectedly
    void stopped();
    void loadChanged(const matrix::ui::ServerLoad& load);
    void stateChanged();

private:
    void setState(State s);
    void onStdout();
    void onFinished(int exitCode, QProcess::ExitStatus status);
    void poll();

    QString m_program;
    QProcess* m_process = nullptr;
    QTimer m_pollTimer;
    QFutureWatcher<QString>* m_poll = nullptr;
    State m_state = State::Stopped;
    QString m_address, m_stdout, m_stderr;
    ServerLoad m_load;
    qint64 m_lastTokens = -1;
    qint64 m_lastPollMs = 0;
};

}  // namespace matrix::ui
