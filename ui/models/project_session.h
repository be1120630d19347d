// ProjectSession: the open project as seen by the GUI. All store access runs on one worker thread that owns the
// project's SQLite connection, so the UI thread never blocks on SQL, even while an import holds the write
// lock. Callers post a job (a function of store::Project&) and get its result back on the UI thread in a
// callback bound to a context object (dropped when that object is gone). Jobs run in the order posted, so a
// sequence of writes (curation, undo) keeps its order. Slow read-only queries (counts over 177K tasks, project
// statistics) go to a second worker with its own connection (postSlow), so they never delay a page of rows or
// the selected task's data.
// Thread safety: create, post and close on the UI thread; jobs run on the worker thread.
#pragma once

#include <QCoreApplication>
#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>

#include "core/store/project.h"

namespace matrix::ui {

class StoreWorker;

class ProjectSession : public QObject {
    Q_OBJECT
public:
    explicit ProjectSession(QObject* parent = nullptr);
    ~ProjectSession() override;

    // Opens (creating when absent) the project file on the worker thread; opened() or failed() follows.
    void open(const QString& path);
    void close();
    bool isOpen() const { return m_open; }
    QString path() const { return m_path; }

    // Runs `job` on the worker thread; `done(result)` runs later on `context`'s thread if context still lives.
    template <class Job, class Done>
    void post(QObject* context, Job job, Done done) {
        postOn(false, context, std::move(job), std::move(done));
    }
    // Like post, on the slow-query worker (its own connection, opened on first use). For reads only: their
    // order relative to post()ed writes is not kept.
    template <class Job, class Done>
    void postSlow(QObject* context, Job job, Done done) {
        postOn(true, context, std::move(job), std::move(done));
    }
    // Fire-and-forget job (no result).
    void post(std::function<void(store::Project&)> job);

    // Blocks (processing events) until every job posted so far has delivered its result. For tests, benchmarks
    // and --screenshot only; never call it from interactive code.
    bool waitForIdle(int timeoutMs = 30000);
    int pendingJobs() const { return m_pending; }

signals:
    void opened(const QString& path);
    void failed(const QString& message);
    void closed();
    // Emitted (by writers: curation, imports) when data changed so views can refresh.
    void dataChanged(const QString& what);

private:
    template <class Job, class Done>
    void postOn(bool slow, QObject* context, Job job, Done done) {
        using R = std::invoke_result_t<Job, store::Project&>;
        ++m_pending;
        QPointer<QObject> ctx(context);
        QPointer<ProjectSession> self(this);
        enqueue(slow, [job = std::move(job), done = std::move(done), ctx, self](store::Project* project) mutable {
            auto result = std::make_shared<std::optional<R>>();
            if (project) result->emplace(job(*project));
            QMetaObject::invokeMethod(
                self ? static_cast<QObject*>(self.data()) : qApp,
                [result, done = std::move(done), ctx, self]() mutable {
                    if (self) self->jobFinished();
                    if (ctx && result->has_value()) done(std::move(**result));
                },
                Qt::QueuedConnection);
        });
    }
    void enqueue(bool slow, std::function<void(store::Project*)> job);
    void jobFinished();

    QThread m_thread, m_slowThread;
    StoreWorker* m_worker = nullptr;
    StoreWorker* m_slowWorker = nullptr;
    QString m_path;
    bool m_open = false;
    int m_pending = 0;
};

}  // namespace matrix::ui
