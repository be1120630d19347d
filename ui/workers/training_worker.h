// TrainingWorker: runs core's run_training (core/training/trainer.h) on its own QThread so the UI never blocks.
// The UI sets the request, then invokes start() queued; progress comes back as queued signals (a QVariantMap per
// optimiser step / evaluation, one QString per log line). pause()/cancel() may be called from the UI thread at
// any time: they set atomics the training loop polls between steps.
#pragma once

#include <QObject>
#include <QString>
#include <QVariantMap>

#include <atomic>

#include "core/training/trainer.h"

namespace matrix::ui {

class TrainingWorker : public QObject {
    Q_OBJECT
public:
    explicit TrainingWorker(QObject* parent = nullptr);

    // UI thread, while idle.
    void setRequest(const matrix::train::TrainRequest& request) { m_request = request; }
    bool isRunning() const { return m_running.load(); }
    // Any thread.
    void pause() { m_pause.store(true); }
    void cancel() { m_cancel.store(true); }

public slots:
    void start();  // runs to the end on the worker's thread

signals:
    void started();
    void logLine(const QString& line);
    // keys: run_id, step, total_steps, epoch, eval, loss, lr, grad_norm, tokens_per_s, samples_per_s, elapsed_s,
    // eta_s and the stage's metrics ("rewards/margin", ...).
    void stepReported(const QVariantMap& report);
    // status: finished | paused | cancelled | failed; message: the adapter dir or the error.
    void finished(const QString& status, qint64 runId, const QString& message);

private:
    matrix::train::TrainRequest m_request;
    std::atomic<bool> m_pause{false}, m_cancel{false}, m_running{false};
};

QVariantMap toVariantMap(const matrix::train::StepReport& r);

}  // namespace matrix::ui
