// ProjectSession and its worker (see project_session.h).
#include "ui/models/project_session.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QEventLoop>

#include "core/store/run_repo.h"

namespace matrix::ui {

// Lives on the session's thread and owns the connection.
class StoreWorker : public QObject {
public:
    std::optional<store::Project> project;
    std::string path;  // slow worker: the file its connection is open on
};

ProjectSession::ProjectSession(QObject* parent) : QObject(parent) {
    m_thread.setObjectName("matrix-store");
    m_slowThread.setObjectName("matrix-store-slow");
    m_worker = new StoreWorker;
    m_worker->moveToThread(&m_thread);
    m_slowWorker = new StoreWorker;
    m_slowWorker->moveToThread(&m_slowThread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(&m_slowThread, &QThread::finished, m_slowWorker, &QObject::deleteLater);
    m_thread.start();
    m_slowThread.start();
}

ProjectSession::~ProjectSession() {
    QMetaObject::invokeMethod(m_slowWorker, [w = m_slowWorker] { w->project.reset(); }, Qt::BlockingQueuedConnection);
    QMetaObject::invokeMethod(m_worker, [w = m_worker] { w->project.reset(); }, Qt::BlockingQueuedConnection);
    m_slowThread.quit();
    m_thread.quit();
    m_slowThread.wait();
    m_thread.wait();
}

void ProjectSession::enqueue(bool slow, std::function<void(store::Project*)> job) {
    if (!slow) {
        QMetaObject::invokeMethod(
            m_worker, [w = m_worker, job = std::move(job)] { job(w->project ? &*w->project : nullptr); },
            Qt::QueuedConnection);
        return;
    }
    // The slow worker opens its connection on first use, after the main worker opened (and migrated) the
    // project: slow jobs are only posted while the session is open.
    QMetaObject::invokeMethod(
        m_slowWorker,
        [w = m_slowWorker, job = std::move(job), path = m_open ? m_path.toStdString() : std::string()] {
            if (path.empty()) {
                job(nullptr);
                return;
            }
            if (!w->project || w->path != path) {
                w->project.reset();
                w->path = path;
                if (auto r = store::Project::open(path)) w->project.emplace(std::move(r).value());
            }
            job(w->project ? &*w->project : nullptr);
        },
        Qt::QueuedConnection);
}

void ProjectSession::jobFinished() { --m_pending; }

void ProjectSession::post(std::function<void(store::Project&)> job) {
    post(this, [job = std::move(job)](store::Project& p) { job(p); return true; }, [](bool) {});
}

void ProjectSession::open(const QString& path) {
    m_path = path;
    m_open = false;
    QPointer<ProjectSession> self(this);
    ++m_pending;
    QMetaObject::invokeMethod(
        m_worker,
        [w = m_worker, self, p = path.toStdString()] {
            w->project.reset();
            auto r = store::Project::open(p);
            QString error;
            if (r) {
                w->project.emplace(std::move(r).value());
                // Training runs whose process died while the project was closed show as interrupted, not running.
                (void)store::RunRepo(w->project->db()).mark_interrupted_runs();
            }
            else
                error = QString::fromStdString(r.error().to_string());
            QMetaObject::invokeMethod(qApp, [self, error] {
                if (!self) return;
                self->jobFinished();
                if (error.isEmpty()) {
                    self->m_open = true;
                    emit self->opened(self->m_path);
                } else {
                    emit self->failed(error);
                }
            }, Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
}

void ProjectSession::close() {
    m_open = false;
    QMetaObject::invokeMethod(m_worker, [w = m_worker] { w->project.reset(); }, Qt::QueuedConnection);
    QMetaObject::invokeMethod(m_slowWorker, [w = m_slowWorker] { w->project.reset(); }, Qt::QueuedConnection);
    emit closed();
}

bool ProjectSession::waitForIdle(int timeoutMs) {
    QDeadlineTimer deadline(timeoutMs);
    while (m_pending > 0 && !deadline.hasExpired())
        QCoreApplication::processEvents(QEventLoop::AllEvents | QEventLoop::WaitForMoreEvents, 20);
    QCoreApplication::processEvents();
    return m_pending == 0;
}

}  // namespace matrix::ui
