// SamplingWorker: runs core's step-wise Pref-X sampling job (core/agent/sampling.h) on its own QThread with its
// own connection to the project file (one connection per thread), so the UI never blocks. The UI sets a request
// (a new run over a dataset, or the resume of a stored run), then invokes start() queued; each stored step,
// progress with ETA, notes and the outcome come back as queued signals. cancel() may be called from any thread:
// the job stops at the next step or token, the run is stored as "cancelled" with every finished step and pair,
// and a resume request carries it on (each step's seed comes from the run's seed, the task and the step).
#pragma once

#include <QMetaType>
#include <QObject>
#include <QString>

#include <atomic>

#include "core/agent/sampling.h"

namespace matrix::ui {

struct SamplingRequest {
    QString projectPath;
    qint64 resumeRunId = 0;  // > 0: carry on this stored run; the fields below are ignored
    matrix::agent::SamplingSettings settings;  // a new run: dataset, controller, verifier, K, limits
    qint64 limit = -1;       // the dataset's first N tasks (-1: all)
    QString workRoot;        // where the run's folder goes; empty: next to the project (<stem>.runs)
};

struct SamplingOutcome {
    qint64 runId = 0;
    QString status;  // finished | cancelled | failed
    QString error;
    qint64 pairs = 0;
    int tasks = 0;
};

class SamplingWorker : public QObject {
    Q_OBJECT
public:
    explicit SamplingWorker(QObject* parent = nullptr);
    void setRequest(const SamplingRequest& request) { m_request = request; }
    bool isRunning() const { return m_running.load(); }
    void cancel() { m_cancel.store(true); }  // any thread

public slots:
    void start();  // runs to the end on the worker's thread

signals:
    void runStarted(qint64 runId, int tasks, int k);
    void stepStored(qint64 runId, qint64 taskId, int step, int candidates, int best, int pairs, const QString& reason);
    void progress(qint64 done, qint64 total, double etaSeconds);
    void note(const QString& text);
    void finished(const matrix::ui::SamplingOutcome& outcome);

private:
    SamplingOutcome run();
    SamplingRequest m_request;
    std::atomic<bool> m_cancel{false}, m_running{false};
};

}  // namespace matrix::ui

Q_DECLARE_METATYPE(matrix::ui::SamplingOutcome)
