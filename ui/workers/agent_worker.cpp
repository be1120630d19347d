// See agent_worker.h. Callbacks from the agent job become signals; connections to UI objects are queued
// automatically because the worker lives on another thread.
#include "ui/workers/agent_worker.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>

#include "core/agent/agent_job.h"
#include "core/agent/controller_factory.h"
#include "core/agent/endpoint_controller.h"
#include "core/store/project.h"
#include "core/store/request_cache_repo.h"
#include "core/store/run_repo.h"
#include "core/store/trajectory_repo.h"
#include "ui/models/task_data_loader.h"

namespace matrix::ui {

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

QString describeController(const nlohmann::json& c, bool fullPaths) {
    auto folder = [fullPaths](const std::string& p) {
        const QString path = qs(p);
        return fullPaths ? path : QFileInfo(QDir::cleanPath(path)).fileName();
    };
    const std::string kind = c.value("kind", "");
    if (kind == "local") {
        QString s = QObject::tr("local model %1").arg(folder(c.value("model", "")));
        if (!c.value("adapter", "").empty()) s += QObject::tr(" + adapter %1").arg(folder(c.value("adapter", "")));
        return s;
    }
    if (kind == "endpoint") return QObject::tr("endpoint %1 \u00b7 %2").arg(qs(c.value("url", "")), qs(c.value("model", "")));
    return qs(c.dump());
}

AgentWorker::AgentWorker(QObject* parent) : QObject(parent) {
    qRegisterMetaType<matrix::ui::StepData>();
    qRegisterMetaType<matrix::ui::AgentRunStart>();
    qRegisterMetaType<matrix::ui::AgentRunOutcome>();
}

AgentWorker::~AgentWorker() = default;

void AgentWorker::start() {
    m_cancel.store(false);
    m_running.store(true);
    AgentRunOutcome out = run();
    m_running.store(false);
    emit finished(out);
}

AgentRunOutcome AgentWorker::run() {
    AgentRunOutcome out;
    out.status = out.runStatus = QStringLiteral("failed");
    auto fail = [&](const std::string& why) {
        out.reason = qs(why);
        return out;
    };
    store::OpenOptions open;
    open.create = false;
    auto project = store::Project::open(m_request.projectPath.toStdString(), open);
    if (!project.ok()) return fail(project.error().to_string());
    store::Database& db = project->db();

    // The run: a new one for the task(s), or the stored one to carry on.
    agent::AgentRunSettings settings;
    int64_t run_id = m_request.resumeRunId;
    if (run_id > 0) {
        auto s = agent::load_agent_run_settings(db, run_id);
        if (!s.ok()) return fail(s.error().to_string());
        settings = std::move(*s);
    } else {
        settings = m_request.settings;
    }
    out.runId = run_id;
    if (settings.task_ids.empty()) return fail("the run has no task");
    // The tools' status as recorded with a new run: the controller's engine described, not loaded yet.
    auto described = agent::tool_host_described(settings.controller);
    if (!described.ok()) return fail(described.error().to_string());
    auto tools = agent::agent_tool_registry(settings.tools, *described);
    if (!tools.ok()) return fail(tools.error().to_string());
    if (run_id == 0) {
        const std::string root = m_request.workRoot.isEmpty() ? agent::default_runs_folder(m_request.projectPath.toStdString())
                                                              : m_request.workRoot.toStdString();
        auto created = agent::create_agent_run_in(db, settings, *tools, settings.controller.dump(), root);
        if (!created.ok()) return fail(created.error().to_string());
        run_id = *created;
        out.runId = run_id;
    }

    // Where each task's trajectory is (a resumed task has one with its stored steps).
    store::TrajectoryRepo trajectories(db);
    auto trajectoryOf = [&](int64_t task_id) -> std::optional<store::Trajectory> {
        if (auto list = trajectories.list_for_run(run_id); list)
            for (const store::Trajectory& t : *list)
                if (t.task_id == task_id) return t;
        return std::nullopt;
    };
    AgentRunStart start;
    start.runId = run_id;
    start.taskId = settings.task_ids.front();
    start.maxSteps = settings.loop.max_steps;
    start.controller = describeController(settings.controller, false);
    start.controllerDetail = describeController(settings.controller, true);
    if (auto t = trajectoryOf(start.taskId)) {
        start.trajectoryId = t->id;
        if (auto full = trajectories.get(t->id, true); full && full->has_value())
            for (const store::Step& s : (*full)->steps) start.storedSteps.push_back(stepData(s));
    }
    out.taskId = start.taskId;
    out.trajectoryId = start.trajectoryId;
    emit runStarted(start);

    // The controller: kept from the last run when its settings are the same.
    const std::string key = settings.controller.dump();
    if (m_controller && key == m_controllerKey) {
        emit controllerReady(0, true);
    } else {
        m_controller.reset();
        emit controllerLoading(describeController(settings.controller));
        QElapsedTimer clock;
        clock.start();
        std::shared_ptr<net::RequestCache> cache;
        if (settings.controller.value("kind", "") == "endpoint") {
            auto opened = store::RequestCacheRepo::open(m_request.projectPath.toStdString());
            if (!opened.ok()) return fail(opened.error().to_string());
            cache = std::shared_ptr<net::RequestCache>(std::move(*opened));
        }
        auto made = agent::make_controller(settings.controller, cache);
        if (!made.ok()) {
            (void)store::RunRepo(db).set_status(run_id, "failed", made.error().to_string());
            return fail(made.error().to_string());
        }
        m_controller = std::move(*made);
        m_controllerKey = key;
        emit controllerReady(clock.elapsed() / 1000.0, false);
    }

    // The tools the run calls get the loaded controller's engine (one copy of the weights, one queue).
    auto host = agent::tool_host_for(m_controller.get());
    if (!host.ok()) return fail(host.error().to_string());
    tools = agent::agent_tool_registry(settings.tools, *host);
    if (!tools.ok()) return fail(tools.error().to_string());

    qint64 currentTrajectory = 0;
    agent::AgentJobEvents events;
    events.on_task_start = [&](int64_t task_id) {
        auto t = trajectoryOf(task_id);
        currentTrajectory = t ? t->id : 0;
    };
    events.on_step = [&](int64_t task_id, const store::Step& step) {
        if (currentTrajectory == 0)
            if (auto t = trajectoryOf(task_id)) currentTrajectory = t->id;
        emit stepStored(run_id, task_id, currentTrajectory, stepData(step));
    };
    events.on_note = [&](int64_t, const std::string& text) {
        static const std::string sandbox = "sandbox: ";
        if (text.rfind(sandbox, 0) == 0) {
            const QString iso = qs(text.substr(sandbox.size()));
            emit isolation(iso, iso.startsWith(QLatin1String("reduced isolation")));
        } else {
            emit note(qs(text));
        }
    };
    auto job = agent::run_agent_job(db, run_id, settings, *m_controller, *tools, events, &m_cancel);
    if (!job.ok()) return fail(job.error().to_string());
    out.runStatus = qs(job->status);
    if (!job->tasks.empty()) {
        const auto& [task_id, task] = job->tasks.back();
        const agent::AgentResult& r = task.result;
        out.taskId = task_id;
        out.trajectoryId = task.trajectory_id;
        out.status = qs(r.status);
        out.stopReason = qs(r.stop_reason);
        out.answer = qs(r.answer_text);
        out.reason = qs(r.invalid_reason);
        out.steps = r.steps;
        out.errors = r.errors;
    }
    return out;
}

}  // namespace matrix::ui
