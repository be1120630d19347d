// See training_worker.h. Callbacks from the training thread become signals; connections to UI objects are
// queued automatically because the worker lives on another thread.
#include "ui/workers/training_worker.h"

namespace matrix::ui {

QVariantMap toVariantMap(const matrix::train::StepReport& r) {
    QVariantMap m;
    m["run_id"] = qint64(r.run_id);
    m["step"] = qint64(r.step);
    m["total_steps"] = qint64(r.total_steps);
    m["epoch"] = qint64(r.epoch);
    m["eval"] = r.eval;
    m["loss"] = r.loss;
    m["lr"] = r.lr;
    m["grad_norm"] = r.grad_norm;
    m["tokens_per_s"] = r.tokens_per_s;
    m["samples_per_s"] = r.samples_per_s;
    m["elapsed_s"] = r.elapsed_s;
    m["eta_s"] = r.eta_s;
    for (const auto& [k, v] : r.metrics) m[QString::fromStdString(k)] = v;
    return m;
}

TrainingWorker::TrainingWorker(QObject* parent) : QObject(parent) {}

void TrainingWorker::start() {
    m_pause.store(false);
    m_cancel.store(false);
    m_running.store(true);
    emit started();
    matrix::train::TrainCallbacks cb;
    cb.pause = &m_pause;
    cb.cancel = &m_cancel;
    cb.on_log = [this](const std::string& line) { emit logLine(QString::fromStdString(line)); };
    cb.on_step = [this](const matrix::train::StepReport& r) { emit stepReported(toVariantMap(r)); };
    auto r = matrix::train::run_training(m_request, cb);
    m_running.store(false);
    if (!r.ok()) {
        emit finished("failed", 0, QString::fromStdString(r.error().to_string()));
        return;
    }
    emit finished(QString::fromStdString(r->status), qint64(r->run_id), QString::fromStdString(r->adapter_dir));
}

}  // namespace matrix::ui
