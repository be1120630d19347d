// See sampling_worker.h. The job's callbacks become signals; connections to UI objects are queued because the
// worker lives on another thread.
#include "ui/workers/sampling_worker.h"

#include "core/agent/agent_job.h"
#include "core/agent/sampling_models.h"
#include "core/store/project.h"
#include "core/store/request_cache_repo.h"
#include "core/store/run_repo.h"

namespace matrix::ui {

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }
}  // namespace

SamplingWorker::SamplingWorker(QObject* parent) : QObject(parent) { qRegisterMetaType<matrix::ui::SamplingOutcome>(); }

void SamplingWorker::start() {
    m_cancel.store(false);
    m_running.store(true);
    SamplingOutcome out = run();
    m_running.store(false);
    emit finished(out);
}

SamplingOutcome SamplingWorker::run() {
    SamplingOutcome out;
    out.status = QStringLiteral("failed");
    auto project = store::Project::open(m_request.projectPath.toStdString());
    if (!project.ok()) {
        out.error = qs(project.error().to_string());
        return out;
    }
    store::Database& db = project->db();
    agent::SamplingSettings settings = m_request.settings;
    if (m_request.resumeRunId > 0) {
        auto loaded = agent::load_sampling_settings(db, m_request.resumeRunId);
        if (!loaded.ok()) {
            out.error = qs(loaded.error().to_string());
            return out;
        }
        settings = *loaded;
        out.runId = m_request.resumeRunId;
    }
    auto described = agent::tool_host_described(settings.agent.controller);  // the status recorded with the run
    if (!described.ok()) {
        out.error = qs(described.error().to_string());
        return out;
    }
    auto tools = agent::agent_tool_registry(settings.agent.tools, *described);
    if (!tools.ok()) {
        out.error = qs(tools.error().to_string());
        return out;
    }
    if (out.runId == 0) {
        auto ids = agent::dataset_task_ids(db, settings.dataset, m_request.limit);
        if (!ids.ok()) {
            out.error = qs(ids.error().to_string());
            return out;
        }
        settings.agent.task_ids = *ids;
        const std::string root = m_request.workRoot.isEmpty() ? agent::default_runs_folder(m_request.projectPath.toStdString())
                                                              : m_request.workRoot.toStdString();
        auto run_id = agent::create_sampling_run(db, settings, *tools, settings.agent.controller.dump(),
                                                 settings.verifier.dump(), root);
        if (!run_id.ok()) {
            out.error = qs(run_id.error().to_string());
            return out;
        }
        out.runId = *run_id;
    }
    out.tasks = int(settings.agent.task_ids.size());
    emit runStarted(out.runId, out.tasks, settings.k());

    std::shared_ptr<net::RequestCache> cache;
    if (agent::sampling_uses_endpoint(settings)) {
        auto opened = store::RequestCacheRepo::open(m_request.projectPath.toStdString());
        if (opened.ok()) cache = std::shared_ptr<net::RequestCache>(std::move(*opened));
    }
    auto models = agent::make_sampling_models(settings, cache);
    if (!models.ok()) {
        out.error = qs(models.error().to_string());
        (void)store::RunRepo(db).set_status(out.runId, "failed", models.error().to_string());
        return out;
    }
    // The tools the job calls get the controller's engine (visualizer, objectlocation, questions about files).
    auto host = agent::tool_host_for(models->controller.get());
    auto engineTools = host.ok() ? agent::agent_tool_registry(settings.agent.tools, *host) : Result<agent::ToolRegistry>(host.error());
    if (!engineTools.ok()) {
        out.error = qs(engineTools.error().to_string());
        (void)store::RunRepo(db).set_status(out.runId, "failed", engineTools.error().to_string());
        return out;
    }
    tools = std::move(engineTools);
    const qint64 runId = out.runId;
    agent::SamplingEvents events;
    events.on_step = [this, runId](int64_t task, const store::Step& s, int pairs) {
        const auto extra = nlohmann::json::parse(s.extra.value_or("{}"), nullptr, false);
        const int best = extra.is_object() ? std::atoi(extra.value("best_step_idx", "0").c_str()) : 0;
        emit stepStored(runId, task, s.idx, int(s.candidates.size()), best, pairs,
                        extra.is_object() ? qs(extra.value("rank_reason", "")) : QString());
    };
    events.on_note = [this](int64_t task, const std::string& n) { emit note(tr("task %1: %2").arg(task).arg(qs(n))); };
    events.on_progress = [this](int64_t done, int64_t total, double eta) { emit progress(done, total, eta); };
    auto job = agent::run_sampling_job(db, runId, settings, *models->controller, *models->verifier, *tools, events,
                                       &m_cancel, models->thread_safe);
    if (!job.ok()) {
        out.error = qs(job.error().to_string());
        return out;
    }
    out.status = qs(job->status);
    out.pairs = job->pairs;
    return out;
}

}  // namespace matrix::ui
