// AgentWorker: runs core's agent job (core/agent/agent_job.h: run_task for each task of an agent run) on its own
// QThread so the UI never blocks, with its own connection to the project file (the store's rule: one connection
// per thread). The UI sets a request (a new run of one task, or the resume of a stored run), then invokes
// start() queued; each stored step, each note and the outcome come back as queued signals. cancel() may be
// called from any thread: it sets the flag the agent loop and the local controller poll, so the run stops at the
// next token or step, is stored as "cancelled" with every finished step, and a resume request carries it on.
// The loaded controller is kept between runs with the same controller settings (a 7B model loads slowly).
#pragma once

#include <QMetaType>
#include <QObject>
#include <QString>
#include <QVector>

#include <atomic>
#include <memory>
#include <string>

#include "core/agent/agent_run.h"
#include "ui/models/view_data.h"

namespace matrix::ui {

struct AgentRequest {
    QString projectPath;
    qint64 resumeRunId = 0;  // > 0: carry on this stored run; the fields below are ignored
    matrix::agent::AgentRunSettings settings;  // a new run (task_ids: the tasks it runs)
    QString workRoot;  // where the run's folder goes; empty: next to the project (<stem>.runs)
};

// What the UI learns when a run starts (after the run row exists, before the controller is loaded).
struct AgentRunStart {
    qint64 runId = 0;
    qint64 taskId = 0;
    qint64 trajectoryId = 0;  // > 0 when resuming a task that has stored steps
    int maxSteps = 0;
    QString controller;        // "local model tiny-qwen2vl + adapter dpo", "endpoint URL · model"
    QString controllerDetail;  // the same with full paths
    QVector<StepData> storedSteps;  // a resumed task's steps so far (not signalled again)
};

struct AgentRunOutcome {
    QString status;  // answered | forced | no_answer | invalid | cancelled | failed (the job did not run)
    QString stopReason;  // final_answer | max_steps | max_errors | invalid | cancelled
    QString answer;
    QString reason;  // invalid: why; failed: the error
    qint64 runId = 0, taskId = 0, trajectoryId = 0;
    int steps = 0, errors = 0;
    QString runStatus;  // the run's status now: finished | cancelled | failed
};

class AgentWorker : public QObject {
    Q_OBJECT
public:
    explicit AgentWorker(QObject* parent = nullptr);
    ~AgentWorker() override;

    // UI thread, while idle.
    void setRequest(const AgentRequest& request) { m_request = request; }
    bool isRunning() const { return m_running.load(); }
    // Any thread.
    void cancel() { m_cancel.store(true); }

public slots:
    void start();  // runs to the end on the worker's thread

signals:
    void runStarted(const matrix::ui::AgentRunStart& start);
    // A step was stored (the trajectory grows in the store first, so a reader sees it too).
    void stepStored(qint64 runId, qint64 taskId, qint64 trajectoryId, const matrix::ui::StepData& step);
    // Notes: files the task names that were not found, resumed steps.
    void note(const QString& text);
    // The controller is being loaded (a 7B model takes a while) / is ready (seconds it took; reused: kept from
    // the last run with the same controller settings).
    void controllerLoading(const QString& description);
    void controllerReady(double seconds, bool reused);
    // What protects the host (the sandbox's isolation() text); reduced: no bubblewrap, rlimits only.
    void isolation(const QString& text, bool reduced);
    void finished(const matrix::ui::AgentRunOutcome& outcome);

private:
    AgentRunOutcome run();

    AgentRequest m_request;
    std::atomic<bool> m_cancel{false}, m_running{false};
    std::unique_ptr<matrix::agent::Controller> m_controller;
    std::string m_controllerKey;  // the controller settings m_controller was made from
};

// "local model NAME + adapter NAME" (folder names; full paths with fullPaths) / "endpoint URL · MODEL" for the
// run's controller settings.
QString describeController(const nlohmann::json& controller, bool fullPaths = true);

}  // namespace matrix::ui

Q_DECLARE_METATYPE(matrix::ui::AgentRunStart)
Q_DECLARE_METATYPE(matrix::ui::AgentRunOutcome)
