// BackgroundJob implementation (see background_job.h).
#include "ui/workers/background_job.h"

#include <QPointer>
#include <QtConcurrent>

namespace matrix::ui {

BackgroundJob::BackgroundJob(QObject* parent) : QObject(parent) {
    connect(&m_watcher, &QFutureWatcher<JobOutcome>::finished, this, [this] {
        m_outcome = m_watcher.result();
        emit finished(m_outcome);
    });
}

BackgroundJob::~BackgroundJob() {
    cancel();
    m_watcher.waitForFinished();
}

bool BackgroundJob::isRunning() const { return m_watcher.isRunning(); }

void BackgroundJob::cancel() {
    if (m_cancel) m_cancel->store(true);
}

double BackgroundJob::estimateSecondsLeft(qint64 done, qint64 total, double elapsed) {
    if (total <= 0 || done <= 0 || elapsed <= 0.05 || done >= total) return done >= total && total > 0 ? 0.0 : -1.0;
    return elapsed * double(total - done) / double(done);
}

void BackgroundJob::start(Function fn) {
    m_cancel = std::make_shared<std::atomic<bool>>(false);
    m_outcome = {};
    QPointer<BackgroundJob> self(this);
    auto cancel = m_cancel;
    m_watcher.setFuture(QtConcurrent::run([fn = std::move(fn), cancel, self]() {
        QElapsedTimer clock;
        clock.start();
        auto lastReport = std::make_shared<qint64>(-1000);
        Progress p;
        p.cancel = cancel.get();
        p.report = [&clock, lastReport, self](int64_t done, int64_t total, const std::string& what) {
            const qint64 now = clock.elapsed();
            if (now - *lastReport < 50 && done != total) return;  // throttle to ~20 signals per second
            *lastReport = now;
            const double eta = estimateSecondsLeft(done, total, now / 1000.0);
            const QString w = QString::fromStdString(what);
            QMetaObject::invokeMethod(
                qApp, [self, done, total, w, eta] {
                    if (self) emit self->progress(done, total, w, eta);
                },
                Qt::QueuedConnection);
        };
        JobOutcome out = fn(p);
        if (cancel->load()) out.cancelled = true;
        return out;
    }));
}

}  // namespace matrix::ui
