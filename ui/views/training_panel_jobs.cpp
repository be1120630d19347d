// TrainingPanel, its jobs (see training_panel.h): the "Run as" form (RunAsForm: this window, a job on this machine,
// a Slurm job with nodes / GPUs per node / CPUs / time / partition / account), the `matrix train` arguments of a request (every
// config key as --set, so the job trains exactly what the form shows), launching through JobListModel, and following
// a job from the store: its state, its log as the file grows, the run's metrics as the trainer writes them (charts),
// progress and ETA from the trainer's step lines; an unfinished training job is reattached when the project opens.
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>

#include <nlohmann/json.hpp>

#include "core/jobs/job_control.h"
#include "core/store/run_repo.h"
#include "ui/models/job_follower.h"
#include "ui/models/job_list_model.h"
#include "ui/models/project_session.h"
#include "ui/models/training_runs_model.h"
#include "ui/views/training_charts.h"
#include "ui/views/run_as_form.h"
#include "ui/views/training_panel.h"
#include "ui/workers/training_worker.h"

namespace matrix::ui {

QString formatTrainingDuration(double s);

QWidget* TrainingPanel::buildRunAs(QWidget* parent) {
    m_runAs = new RunAsForm(QStringLiteral("training"), /*withThread=*/true, parent, /*columns=*/1);
    // Without a session (no project store to record jobs in) only the thread is possible.
    m_runAs->modeBox()->setEnabled(false);
    m_runAs->setMode(QStringLiteral("thread"));
    return m_runAs;
}

void TrainingPanel::setSession(ProjectSession* session) {
    m_session = session;
    m_jobs = new JobListModel(session, this);
    m_jobsView = new QTableView(m_lists);
    m_jobsView->setObjectName("training_jobs");
    m_jobsView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_jobsView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_jobsView->horizontalHeader()->setStretchLastSection(true);
    m_jobsView->verticalHeader()->hide();
    m_jobsView->setToolTip(tr("Jobs of this project (they run on when the window closes); Enter or double-click "
                              "follows one"));
    m_lists->addTab(m_jobsView, tr("Jobs"));
    m_jobsView->setModel(m_jobs);
    // Reattach: when a project opens with an unfinished training job (started before the window closed), follow it.
    m_jobs->reattachOnOpen(
        QStringLiteral("train"), [this] { return m_followed != 0 || (m_worker && m_worker->isRunning()); },
        [this](const jobs::Job& j) {
            followJob(j.id);
            m_log->appendPlainText(
                tr("Reattached to job %1 (%2), %3.").arg(j.id).arg(JobFollower::whereText(j), QString::fromStdString(j.state)));
        });
    connect(m_jobsView, &QTableView::activated, this, [this](const QModelIndex& idx) {
        if (const auto* j = m_jobs->job(idx.row()); j && j->kind == "train") followJob(j->id);
    });
    if (session) {
        connect(session, &ProjectSession::opened, this, [this] {
            m_followed = 0;
            m_followedState.clear();
            if (m_follower) m_follower->follow(0);
        });
    }
    m_follower = new JobFollower(session, this);
    connect(m_follower, &JobFollower::linesRead, this, &TrainingPanel::onFollowedLines);
    connect(m_follower, &JobFollower::jobUpdated, this, &TrainingPanel::onFollowedUpdate);
    connect(m_follower, &JobFollower::ended, this, &TrainingPanel::onFollowedEnded);
    connect(m_follower, &JobFollower::controlled, this, [this](const QString&, const QString& error) {
        if (!error.isEmpty()) m_formError->setText(error);
    });
    m_runAs->modeBox()->setEnabled(true);
    m_runAs->setMode(QStringLiteral("local"));
}

void TrainingPanel::setRunMode(const QString& mode) { m_runAs->setMode(mode); }

QString TrainingPanel::runMode() const { return m_runAs->mode(); }

int TrainingPanel::unfinishedJobs() const { return m_jobs ? m_jobs->unfinishedCount("train") : 0; }

QStringList TrainingPanel::trainArguments(const matrix::train::TrainRequest& r) const {
    QStringList a = {"train"};
    if (r.resume_run) {
        a << "resume" << "--db" << QString::fromStdString(r.db_path) << "--resume" << QString::number(*r.resume_run);
        if (r.extra_epochs > 0) a << "--more-epochs" << QString::number(r.extra_epochs);
        return a;
    }
    a << (r.stage == matrix::train::Stage::Dpo ? "dpo" : "sft") << "--db" << QString::fromStdString(r.db_path)
      << "--dataset" << QString::fromStdString(r.dataset) << "--model" << QString::fromStdString(r.model_dir);
    if (!r.adapter_dir.empty()) a << "--adapter" << QString::fromStdString(r.adapter_dir);
    a << "--out" << QString::fromStdString(r.out_dir);
    const auto j = r.config.to_json();
    for (const auto& field : matrix::train::config_fields()) {
        const auto& v = j.at(field.key);
        std::string text;
        if (v.is_string()) {
            text = v.get<std::string>();
        } else if (v.is_array()) {
            for (const auto& x : v) text += (text.empty() ? "" : ",") + x.get<std::string>();
        } else {
            text = v.dump();
        }
        a << "--set" << QString::fromStdString(field.key + "=" + text);
    }
    return a;
}

void TrainingPanel::launchJob(const matrix::train::TrainRequest& request) {
    if (!m_jobs || !m_session || !m_session->isOpen()) {
        m_formError->setText(tr("no project open"));
        return;
    }
    const QString binary = m_binary.isEmpty() ? JobFollower::matrixBinary() : m_binary;
    if (binary.isEmpty()) {
        m_formError->setText(tr("The matrix command-line program was not found beside the workbench or on PATH."));
        return;
    }
    const jobs::JobRequest req = m_runAs->request(QStringLiteral("train"), trainArguments(request), m_session->path(), binary);
    m_progressText->setText(req.slurm ? tr("submitting to Slurm...") : tr("starting the job..."));
    m_train->setEnabled(false);
    m_jobs->submit(req, [this](const jobs::Job* job, const QString& error) {
        if (!job) {
            m_formError->setText(error);
            m_progressText->setText(tr("not started"));
            setBusy(false);
            return;
        }
        followJob(job->id);
    });
}

void TrainingPanel::followJob(qint64 jobId) {
    if (!m_jobs || jobId <= 0) return;
    m_followed = jobId;
    m_followedState = QStringLiteral("queued");
    m_lastStep = m_lastEvalStep = -1;
    m_log->clear();
    m_charts->resetLive(false);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progressText->setText(tr("job %1: waiting for its first report...").arg(jobId));
    setBusy(true);
    m_follower->follow(jobId);
}

void TrainingPanel::onFollowedLines(const QStringList& lines) {
    static const QRegularExpression stepLine(QStringLiteral("^step (\\d+)/(\\d+) .*?(?: eta (\\S+))?$"));
    const qint64 id = m_followed;
    for (const QString& line : lines) {
        m_log->appendPlainText(line);
        const auto m = stepLine.match(line);
        if (m.hasMatch()) {
            m_progress->setRange(0, std::max(1, m.captured(2).toInt()));
            m_progress->setValue(m.captured(1).toInt());
            m_progressText->setText(tr("job %1 · step %2/%3 · ETA %4")
                                        .arg(id)
                                        .arg(m.captured(1), m.captured(2),
                                             m.captured(3).isEmpty() ? QStringLiteral("?") : m.captured(3)));
        }
    }
}

// The run's curves as rank 0 writes them: the metrics after the last step shown, read through the session.
void TrainingPanel::fetchMetrics(std::function<void()> then) {
    const std::optional<jobs::Job>& job = m_follower->job();
    if (!job || !job->run_id) {
        if (then) then();
        return;
    }
    if (m_metricsInFlight) {
        if (then) m_metricsThen = std::move(then);
        return;
    }
    m_metricsInFlight = true;
    const qint64 run = *job->run_id, after = m_lastStep, afterEval = m_lastEvalStep, id = m_followed;
    using Series = std::map<std::string, std::vector<store::MetricPoint>>;
    m_session->post(
        this,
        [run, after, afterEval](store::Project& p) {
            Series out;
            store::RunRepo runs(p.db());
            for (const char* m : {"loss", "lr", "rewards/margin", "rewards/accuracy"}) {
                auto s = runs.metric_series(run, m, after);
                if (s.ok()) out[m] = *s;
            }
            auto e = runs.metric_series(run, "eval_loss", afterEval);
            if (e.ok()) out["eval_loss"] = *e;
            return out;
        },
        [this, id, then](Series metrics) {
            m_metricsInFlight = false;
            if (id == m_followed) {
                const auto& loss = metrics["loss"];
                const auto& lr = metrics["lr"];
                const auto& margin = metrics["rewards/margin"];
                const auto& acc = metrics["rewards/accuracy"];
                for (size_t i = 0; i < loss.size(); ++i) {
                    const double step = double(loss[i].step);
                    m_charts->appendStep(step, loss[i].value, i < lr.size() ? lr[i].value : 0.0);
                    if (i < margin.size() && i < acc.size()) m_charts->appendDpo(step, margin[i].value, acc[i].value);
                    m_lastStep = loss[i].step;
                }
                for (const auto& e : metrics["eval_loss"]) {
                    m_charts->appendEval(double(e.step), e.value);
                    m_lastEvalStep = e.step;
                }
            }
            if (then) then();
            else if (m_metricsThen) fetchMetrics(std::exchange(m_metricsThen, {}));
        });
}

void TrainingPanel::onFollowedUpdate(const jobs::Job& job) {
    const QString state = QString::fromStdString(job.state);
    const bool changed = state != m_followedState;
    if (!job.is_final()) m_followedState = state;
    if (job.run_id && *job.run_id != m_rankRun) showRanks(*job.run_id);  // its ranks under the charts
    m_pause->setText(state == "paused" ? tr("Continue") : tr("Pause"));
    if (changed && state == "paused")
        m_progressText->setText(tr("job %1 paused (Pause again continues it)").arg(job.id));
    if (!job.is_final()) fetchMetrics();
}

void TrainingPanel::onFollowedEnded(const jobs::Job& ended) {
    const jobs::Job job = ended;
    // The last metrics first, so the charts are complete when trainingFinished is emitted.
    fetchMetrics([this, job] {
        const qint64 id = job.id;
        const QString state = QString::fromStdString(job.state);
        m_followedState = state;
        setBusy(false);
        m_pause->setText(tr("Pause"));
        QString message = QString::fromStdString(job.reason);
        if (state == "finished") {
            for (size_t i = 0; i + 1 < job.argv.size(); ++i)
                if (job.argv[i] == "--out") message = QString::fromStdString(job.argv[i + 1]);
            m_progress->setValue(m_progress->maximum());
            m_progressText->setText(tr("job %1 finished: adapter in %2").arg(id).arg(message));
        } else if (state == "cancelled") {
            m_progressText->setText(tr("job %1 cancelled: the run stopped at a checkpoint (Resume selected carries it on)").arg(id));
        } else {
            m_progressText->setText(tr("job %1 failed").arg(id));
            m_formError->setText(JobFollower::failureText(job));
        }
        m_runs->refresh();  // the history's columns are sized when it has loaded (onRunsRefreshed)
        emit trainingFinished(state, job.run_id.value_or(0), message);
    });
}

}  // namespace matrix::ui
