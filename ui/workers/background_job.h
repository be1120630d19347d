// BackgroundJob: runs one long core call (an import, an export) on a pool thread via QtConcurrent, adapting
// core's matrix::Progress hooks to queued Qt signals (throttled to ~20 per second) with an ETA, and a cancel
// flag the core loop polls, so the UI thread never waits on the job. The job opens its own store connection: SQLite connections are
// per thread. UI thread creates, starts, cancels; the function runs on the pool thread.
#pragma once

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <QStringList>
#include <atomic>
#include <functional>
#include <memory>

#include "core/util/progress.h"

namespace matrix::ui {

struct JobOutcome {
    bool ok = false;
    bool cancelled = false;
    QString summary;         // one line for the dialog and the status bar
    QStringList rejected;    // one line per rejected record ("record 17: missing key 'conversations'")
    QString error;           // when the job failed as a whole
};

class BackgroundJob : public QObject {
    Q_OBJECT
public:
    using Function = std::function<JobOutcome(const Progress&)>;
    explicit BackgroundJob(QObject* parent = nullptr);
    ~BackgroundJob() override;

    void start(Function fn);
    void cancel();
    bool isRunning() const;
    const JobOutcome& outcome() const { return m_outcome; }
    // Seconds left at the current rate; -1 when unknown.
    static double estimateSecondsLeft(qint64 done, qint64 total, double elapsedSeconds);

signals:
    void progress(qint64 done, qint64 total, const QString& what, double etaSeconds);
    void finished(const JobOutcome& outcome);

private:
    QFutureWatcher<JobOutcome> m_watcher;
    std::shared_ptr<std::atomic<bool>> m_cancel;
    JobOutcome m_outcome;
};

}  // namespace matrix::ui
