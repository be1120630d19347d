// EvaluatePanel implementation (see evaluate_panel.h). `matrix eval` runs as a job (core/jobs: detached here or on
// Slurm, its output in the job's log), so closing the window leaves it running; the panel follows the job
// (JobFollower) and reads the run's progress from the store (eval_run_statuses: done, live accuracy, current item).
#include "ui/views/evaluate_panel.h"

#include <QCheckBox>
#include <QDateTime>
#include <QFile>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QStandardItemModel>
#include <QPushButton>
#include <QComboBox>
#include <QSpinBox>
#include <QTimer>
#include <QVBoxLayout>

#include <set>

#include <csignal>
#include <signal.h>

#include "core/eval/eval_run.h"
#include "core/jobs/job_repo.h"
#include "core/store/dataset_repo.h"
#include "core/store/run_repo.h"
#include "ui/models/job_follower.h"
#include "ui/models/job_list_model.h"
#include "ui/models/project_session.h"
#include "ui/views/run_as_form.h"

namespace matrix::ui {

namespace {

struct PanelInfo {
    QVector<QPair<QString, QString>> datasets;  // name, kind
    QVector<QPair<QString, QString>> adapters;  // label, folder
    std::vector<eval::EvalRunStatus> statuses;
    std::set<int64_t> jobRuns;  // runs that an unfinished job runs (followed as jobs, not as hand-started processes)
    QString error;
};

PanelInfo loadPanelInfo(store::Project& p) {
    PanelInfo info;
    auto ds = store::DatasetRepo(p.db()).list();
    if (!ds) {
        info.error = QString::fromStdString(ds.error().to_string());
        return info;
    }
    for (const auto& d : *ds) {
        if (d.kind == "gta" || d.kind == "gaia" || d.kind == "agentx")
            info.datasets.push_back({QString::fromStdString(d.name), QString::fromStdString(d.kind)});
    }
    store::RunRepo runs(p.db());
    for (const char* kind : {"dpo", "sft"}) {
        auto list = runs.list(std::string(kind));
        if (!list) continue;
        for (const auto& r : *list) {
            if (!r.adapter_path || r.adapter_path->empty()) continue;
            const QString label = QStringLiteral("#%1 %2 (%3, %4)")
                                      .arg(r.id)
                                      .arg(QString::fromStdString(r.name), QString::fromLatin1(kind),
                                           QString::fromStdString(r.status));
            info.adapters.push_back({label, QString::fromStdString(*r.adapter_path)});
        }
    }
    auto st = eval::eval_run_statuses(p.db());
    if (st) info.statuses = *st;
    if (auto unfinished = jobs::JobRepo(p.db()).list(/*unfinished_only=*/true); unfinished.ok())
        for (const auto& j : *unfinished)
            if (j.run_id) info.jobRuns.insert(*j.run_id);
    return info;
}

// Alive and not a zombie (a detached process's parent may not reap it at once).
bool processAlive(qint64 pid) {
    if (pid <= 0 || ::kill(pid_t(pid), 0) != 0) return false;
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly)) return true;
    const QByteArray text = stat.readAll();
    const int close = text.lastIndexOf(')');
    return close < 0 || close + 2 >= text.size() || text.at(close + 2) != 'Z';
}

double nowS() { return QDateTime::currentMSecsSinceEpoch() / 1000.0; }

bool finalRunStatus(const std::string& s) { return s == "finished" || s == "cancelled" || s == "paused" || s == "failed"; }

}  // namespace

EvaluatePanel::EvaluatePanel(ProjectSession* session, QWidget* parent)
    : QWidget(parent),
      m_session(session),
      m_binary(JobFollower::matrixBinary()),
      m_jobs(new JobListModel(session, this)),
      m_follower(new JobFollower(session, this)) {

    auto* form = new QFormLayout;
    m_benchmark = new QComboBox;
    m_benchmark->addItem(tr("GTA"), QStringLiteral("gta"));
    m_benchmark->addItem(tr("GAIA"), QStringLiteral("gaia"));
    m_benchmark->addItem(tr("Agent-X"), QStringLiteral("agentx"));
    m_dataset = new QComboBox;
    m_mode = new QComboBox;
    m_mode->addItem(tr("Step by step (gold prefix)"), QStringLiteral("step"));
    m_mode->addItem(tr("End to end (agent with tools)"), QStringLiteral("e2e"));
    m_controller = new QComboBox;
    m_controller->addItem(tr("Gold replay (checks the harness)"), QStringLiteral("gold"));
    m_controller->addItem(tr("Perturbed replay"), QStringLiteral("perturbed"));
    m_controller->addItem(tr("Local model"), QStringLiteral("local"));
    m_controller->addItem(tr("Endpoint (OpenAI-compatible)"), QStringLiteral("endpoint"));
    m_model = new QLineEdit;
    m_model->setPlaceholderText(tr("Qwen2-VL model folder"));
    m_adapter = new QComboBox;
    m_adapter->setEditable(true);
    m_adapter->addItem(tr("(base model, no adapter)"), QString());
    m_endpoint = new QLineEdit;
    m_endpoint->setPlaceholderText(QStringLiteral("http://127.0.0.1:8000/v1"));
    m_endpointModel = new QLineEdit;
    m_endpointModel->setPlaceholderText(tr("served model name"));
    m_tools = new QLineEdit;
    m_tools->setPlaceholderText(tr("all MATRIX tools (or a,b,c)"));
    m_limit = new QSpinBox;
    m_limit->setRange(0, 100000);
    m_limit->setSpecialValueText(tr("all items"));
    m_workers = new QSpinBox;
    m_workers->setRange(1, 64);
    m_seed = new QSpinBox;
    m_seed->setRange(0, 1 << 30);
    m_name = new QLineEdit;
    m_name->setPlaceholderText(tr("run name (optional)"));
    m_judgeUrl = new QLineEdit;
    m_judgeUrl->setPlaceholderText(tr("Agent-X judge: http://host/v1/chat/completions (empty: toolset F1 only)"));
    m_judgeModel = new QLineEdit;
    m_judgeModel->setPlaceholderText(tr("judge model name"));
    // Mnemonics apart from the Run as form's (W N G K M O U) and the buttons' (S P C R, F for Follow).
    const std::pair<QWidget*, const char*> names[] = {
        {m_benchmark, "eval_benchmark"}, {m_dataset, "eval_dataset"}, {m_mode, "eval_mode"},
        {m_controller, "eval_controller"}, {m_model, "eval_model"}, {m_adapter, "eval_adapter"},
        {m_endpoint, "eval_endpoint"}, {m_endpointModel, "eval_endpoint_model"}, {m_tools, "eval_tools"},
        {m_limit, "eval_limit"}, {m_workers, "eval_workers"}, {m_seed, "eval_seed"}, {m_name, "eval_name"},
        {m_judgeUrl, "eval_judge"}, {m_judgeModel, "eval_judge_model"}};
    for (const auto& [w, name] : names) w->setObjectName(QLatin1String(name));
    form->addRow(tr("&Benchmark"), m_benchmark);
    form->addRow(tr("&Dataset"), m_dataset);
    form->addRow(tr("Mod&e"), m_mode);
    form->addRow(tr("Contro&ller"), m_controller);
    form->addRow(tr("Model"), m_model);
    form->addRow(tr("&Adapter"), m_adapter);
    form->addRow(tr("Endpo&int"), m_endpoint);
    form->addRow(tr("Endpoint model"), m_endpointModel);
    form->addRow(tr("&Tools"), m_tools);
    form->addRow(tr("Limit"), m_limit);
    form->addRow(tr("Workers"), m_workers);
    form->addRow(tr("Seed"), m_seed);
    form->addRow(tr("Name"), m_name);
    form->addRow(tr("&Judge"), m_judgeUrl);
    form->addRow(tr("Judge model"), m_judgeModel);
    auto* settings = new QGroupBox(tr("Evaluation run"));
    settings->setLayout(form);
    // After the settings, before the buttons that launch (the Tab order).
    m_runAs = new RunAsForm(QStringLiteral("evaluate"), /*withThread=*/false, nullptr, /*columns=*/2);

    m_start = new QPushButton(tr("&Start"));
    m_start->setToolTip(tr("Run the evaluation as a job: a matrix eval process of its own, here or on Slurm (it goes "
                           "on if the window closes)"));
    m_pause = new QPushButton(tr("&Pause"));
    m_pause->setToolTip(tr("Stop the evaluation job where it is (Continue carries it on)"));
    m_cancel = new QPushButton(tr("&Cancel"));
    m_cancel->setToolTip(tr("Stop the run as cancelled: every finished item is kept and Resume carries it on"));
    m_resume = new QPushButton(tr("&Resume"));
    auto* buttons = new QHBoxLayout;
    for (auto* b : {m_start, m_pause, m_cancel, m_resume}) buttons->addWidget(b);
    m_progress = new QProgressBar;
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_status = new QLabel(tr("No evaluation running."));
    m_status->setObjectName(QStringLiteral("eval_status"));
    m_log = new QPlainTextEdit;
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(2000);
    m_follow = new QCheckBox(tr("&Follow the current item in the trajectory view"));
    m_follow->setToolTip(tr("End-to-end runs: show the item being run, its steps as they are stored"));
    m_follow->setChecked(true);
    auto* progressBox = new QGroupBox(tr("Progress"));
    auto* pv = new QVBoxLayout(progressBox);
    pv->addLayout(buttons);
    pv->addWidget(m_progress);
    pv->addWidget(m_status);
    pv->addWidget(m_follow);
    pv->addWidget(m_log, 1);

    auto* left = new QVBoxLayout;
    left->addWidget(settings);
    left->addWidget(m_runAs);
    left->addStretch();
    auto* layout = new QHBoxLayout(this);
    layout->addLayout(left, 2);
    layout->addWidget(progressBox, 3);

    m_poll = new QTimer(this);
    m_poll->setInterval(500);
    connect(m_poll, &QTimer::timeout, this, &EvaluatePanel::pollAttached);
    connect(m_start, &QPushButton::clicked, this, &EvaluatePanel::start);
    connect(m_pause, &QPushButton::clicked, this, &EvaluatePanel::pause);
    connect(m_cancel, &QPushButton::clicked, this, &EvaluatePanel::cancel);
    connect(m_resume, &QPushButton::clicked, this, &EvaluatePanel::resumeUnfinished);
    connect(m_controller, &QComboBox::currentIndexChanged, this, &EvaluatePanel::updateControllerFields);
    connect(m_mode, &QComboBox::currentIndexChanged, this, &EvaluatePanel::updateControllerFields);
    connect(m_benchmark, &QComboBox::currentIndexChanged, this, [this] {
        const bool gta = m_benchmark->currentData().toString() == QLatin1String("gta");
        if (!gta) setMode(QStringLiteral("e2e"));
        updateControllerFields();
        refresh();
    });
    connect(m_follower, &JobFollower::linesRead, this, [this](const QStringList& lines) {
        for (const QString& line : lines) m_log->appendPlainText(line);
    });
    connect(m_follower, &JobFollower::jobUpdated, this, [this](const jobs::Job& j) {
        m_pause->setText(j.state == "paused" ? tr("Continue") : tr("&Pause"));
        if (j.run_id && m_runId == 0) m_runId = *j.run_id;
        if (j.state == "queued") m_status->setText(tr("Job %1 queued (%2)").arg(j.id).arg(JobFollower::whereText(j)));
        else if (j.state == "paused") m_status->setText(tr("Job %1 paused (Continue carries it on)").arg(j.id));
        else if (!j.is_final() && m_runId > 0) readProgress(false);
        updateControls();
    });
    connect(m_follower, &JobFollower::ended, this, &EvaluatePanel::onJobEnded);
    connect(m_follower, &JobFollower::controlled, this, [this](const QString& action, const QString& error) {
        if (!error.isEmpty()) m_status->setText(action == "cancel" ? tr("Cancel failed: %1").arg(error) : error);
    });
    // Reattach: the first job list after a project opens names an unfinished evaluation job started before (by this
    // window before it closed, another window, or `matrix eval submit`).
    m_jobs->reattachOnOpen(QStringLiteral("eval"), [this] { return isRunning(); }, [this](const jobs::Job& j) {
        m_log->appendPlainText(
            tr("Reattached to job %1 (%2), %3.").arg(j.id).arg(JobFollower::whereText(j), QString::fromStdString(j.state)));
        follow(j.id);
    });
    if (m_session) {
        connect(m_session, &ProjectSession::opened, this, [this] {
            m_follower->follow(0);
            updateControls();
        });
    }
    updateControllerFields();
    updateControls();
}

EvaluatePanel::~EvaluatePanel() = default;  // a running `matrix eval` job is a process of its own: it goes on

void EvaluatePanel::refresh() {
    if (!m_session || !m_session->isOpen()) return;
    m_session->post(this, [](store::Project& p) { return loadPanelInfo(p); }, [this](PanelInfo info) {
        if (!info.error.isEmpty()) m_status->setText(info.error);
        const QString kind = m_benchmark->currentData().toString();
        const QString keepDataset = m_dataset->currentText();
        m_dataset->clear();
        for (const auto& [name, k] : info.datasets)
            if (k == kind) m_dataset->addItem(name);
        if (!keepDataset.isEmpty() && m_dataset->findText(keepDataset) >= 0) m_dataset->setCurrentText(keepDataset);
        // The empty state says how to get one.
        m_dataset->setPlaceholderText(tr("none in this project: matrix bench load --db FILE --benchmark %1 PATH").arg(kind));
        while (m_adapter->count() > 1) m_adapter->removeItem(1);
        for (const auto& [label, dir] : info.adapters) m_adapter->addItem(label, dir);
        // A run still going on in a `matrix eval` process started by hand (not a job; jobs are reattached from the
        // job list): follow it.
        m_resumable = 0;
        if (!isRunning()) {
            for (const auto& s : info.statuses) {
                if (s.process_alive && !info.jobRuns.count(s.run_id)) {
                    m_runId = s.run_id;
                    m_attachedPid = s.pid;
                    m_attachedDone = -1;
                    m_log->appendPlainText(tr("Reattached to run #%1 (process %2).").arg(s.run_id).arg(s.pid));
                    setProgress(s.done, s.total, s.accuracy, -1, QString());
                    m_poll->start();
                    break;
                }
            }
        }
        if (!isRunning()) {
            for (const auto& s : info.statuses) {
                if (info.jobRuns.count(s.run_id) || s.process_alive) continue;
                if (s.status == "running" || s.status == "paused" || s.status == "cancelled" || s.status == "created") {
                    m_resumable = s.run_id;
                    m_resume->setText(tr("&Resume #%1 (%2/%3)").arg(s.run_id).arg(s.done).arg(s.total));
                    break;
                }
            }
        }
        updateControls();
        emit refreshed();
    });
}

QStringList EvaluatePanel::startArguments() const {
    QStringList a = {QStringLiteral("eval"), QStringLiteral("run"), QStringLiteral("--db"),
                     m_session ? m_session->path() : QString(), QStringLiteral("--benchmark"),
                     m_benchmark->currentData().toString(), QStringLiteral("--mode"), m_mode->currentData().toString()};
    if (!m_dataset->currentText().isEmpty()) a << QStringLiteral("--dataset") << m_dataset->currentText();
    const QString c = m_controller->currentData().toString();
    if (c == QLatin1String("gold") || c == QLatin1String("perturbed")) {
        a << QStringLiteral("--controller") << c;
    } else if (c == QLatin1String("local")) {
        a << QStringLiteral("--model") << m_model->text();
        QString adapter = m_adapter->currentData().toString();
        if (adapter.isEmpty() && m_adapter->currentIndex() != 0) adapter = m_adapter->currentText();  // typed in
        if (!adapter.isEmpty()) a << QStringLiteral("--adapter") << adapter;
    } else {
        a << QStringLiteral("--endpoint") << m_endpoint->text() << QStringLiteral("--endpoint-model") << m_endpointModel->text();
    }
    if (m_mode->currentData().toString() == QLatin1String("e2e") && !m_tools->text().trimmed().isEmpty())
        a << QStringLiteral("--tools") << m_tools->text().trimmed();
    if (m_limit->value() > 0) a << QStringLiteral("--limit") << QString::number(m_limit->value());
    a << QStringLiteral("--workers") << QString::number(m_workers->value());
    a << QStringLiteral("--seed") << QString::number(m_seed->value());
    if (!m_name->text().trimmed().isEmpty()) a << QStringLiteral("--name") << m_name->text().trimmed();
    if (m_benchmark->currentData().toString() == QLatin1String("agentx") && !m_judgeUrl->text().trimmed().isEmpty())
        a << QStringLiteral("--judge-url") << m_judgeUrl->text().trimmed() << QStringLiteral("--judge-model")
          << m_judgeModel->text().trimmed();
    return a;
}

void EvaluatePanel::setBenchmark(const QString& kind) {
    const int i = m_benchmark->findData(kind);
    if (i >= 0) m_benchmark->setCurrentIndex(i);
}
void EvaluatePanel::setJudge(const QString& url, const QString& model) {
    m_judgeUrl->setText(url);
    m_judgeModel->setText(model);
}
void EvaluatePanel::setMode(const QString& mode) {
    const int i = m_mode->findData(mode);
    if (i >= 0) m_mode->setCurrentIndex(i);
}
void EvaluatePanel::setController(const QString& kind) {
    const int i = m_controller->findData(kind);
    if (i >= 0) m_controller->setCurrentIndex(i);
}
void EvaluatePanel::setLimit(int n) { m_limit->setValue(n); }
void EvaluatePanel::setModelDir(const QString& dir) { m_model->setText(dir); }
void EvaluatePanel::setWorkers(int n) { m_workers->setValue(n); }
bool EvaluatePanel::isRunning() const { return m_starting || m_follower->isActive() || m_attachedPid != 0; }
int EvaluatePanel::unfinishedJobs() const { return m_jobs->unfinishedCount(QStringLiteral("eval")) + (m_attachedPid ? 1 : 0); }
qint64 EvaluatePanel::followedJob() const { return m_follower->jobId(); }
QString EvaluatePanel::progressText() const { return m_status->text(); }

void EvaluatePanel::start() {
    if (isRunning() || !m_session || !m_session->isOpen()) return;
    m_runId = 0;
    launch(startArguments());
}

void EvaluatePanel::resumeUnfinished() {
    if (isRunning() || m_resumable == 0 || !m_session) return;
    m_runId = m_resumable;
    launch({QStringLiteral("eval"), QStringLiteral("resume"), QStringLiteral("--db"), m_session->path(),
            QStringLiteral("--run"), QString::number(m_resumable)});
}

void EvaluatePanel::launch(const QStringList& args) {
    if (m_binary.isEmpty()) {
        m_status->setText(tr("The matrix command-line program was not found beside the workbench or on PATH."));
        return;
    }
    const jobs::JobRequest req = m_runAs->request(QStringLiteral("eval"), args, m_session->path(), m_binary);
    m_log->clear();
    m_log->appendPlainText(QStringLiteral("$ matrix %1").arg(args.join(QLatin1Char(' '))));
    m_status->setText(req.slurm ? tr("Submitting an evaluation job to Slurm...") : tr("Starting an evaluation job..."));
    m_starting = true;
    updateControls();
    m_jobs->submit(req, [this](const jobs::Job* job, const QString& error) {
        m_starting = false;
        if (!job) {
            m_status->setText(tr("Not started: %1").arg(error));
            updateControls();
            return;
        }
        follow(job->id);
    });
}

void EvaluatePanel::follow(qint64 jobId) {
    if (const jobs::Job* j = m_jobs->jobById(jobId); j && j->run_id) m_runId = *j->run_id;
    m_attachedDone = -1;
    m_followedTrajectory = 0;
    m_followedSteps = -1;
    m_progress->setRange(0, 0);
    m_status->setText(tr("Job %1: waiting for its first report...").arg(jobId));
    m_follower->follow(jobId);
    updateControls();
}

void EvaluatePanel::onJobEnded(const jobs::Job& job) {
    m_jobs->refresh();  // the job list (unfinishedJobs, the close dialog) catches up now, not at its next poll
    if (job.run_id) m_runId = *job.run_id;
    m_pause->setText(tr("&Pause"));
    QString failure;
    if (job.state == "failed") failure = JobFollower::failureText(job);
    readProgress(/*ended=*/true, failure);
}

void EvaluatePanel::pollAttached() { readProgress(!processAlive(m_attachedPid)); }

void EvaluatePanel::readProgress(bool ended, const QString& failure) {
    if (!m_session || !m_session->isOpen()) return;
    if (m_readInFlight && !ended) return;
    if (ended) m_poll->stop();
    m_readInFlight = true;
    const qint64 runId = m_runId;
    const qint64 pid = m_attachedPid;
    m_session->post(this, [](store::Project& p) { return eval::eval_run_statuses(p.db()); },
                    [this, runId, pid, ended, failure](Result<std::vector<eval::EvalRunStatus>> list) {
                        m_readInFlight = false;
                        const eval::EvalRunStatus* s = nullptr;
                        if (list) {
                            for (const auto& x : *list) {
                                if (runId ? x.run_id == runId : (pid != 0 && x.pid == pid)) {
                                    s = &x;
                                    break;
                                }
                            }
                        }
                        if (s) {
                            if (m_runId == 0) m_runId = s->run_id;
                            double eta = -1;
                            if (m_attachedDone < 0 || s->done < m_attachedDone) {
                                m_attachedDone = s->done;
                                m_attachedSince = nowS();
                            } else if (s->done > m_attachedDone) {
                                const double rate = (s->done - m_attachedDone) / std::max(1e-3, nowS() - m_attachedSince);
                                eta = (s->total - s->done) / rate;
                            }
                            if (!ended || s->total > 0) setProgress(s->done, s->total, s->accuracy, ended ? -1 : eta, QString());
                            if (!ended && m_follow->isChecked() && s->current_trajectory_id > 0 &&
                                (s->current_trajectory_id != m_followedTrajectory || s->current_steps != m_followedSteps)) {
                                m_followedTrajectory = s->current_trajectory_id;
                                m_followedSteps = s->current_steps;
                                emit followItem(s->current_task_id, s->current_trajectory_id, s->current_steps);
                            }
                        }
                        if (!ended) return;
                        m_attachedPid = 0;
                        // The run's own word, unless the process died without recording an end (then: failed).
                        QString status = s && finalRunStatus(s->status) ? QString::fromStdString(s->status)
                                                                          : QStringLiteral("failed");
                        if (!failure.isEmpty() && status != QLatin1String("finished"))
                            m_status->setText(tr("Failed: %1").arg(failure));
                        else if (s)
                            m_status->setText(m_status->text() + QStringLiteral(" \u2014 ") + status);
                        else
                            m_status->setText(tr("The evaluation ended (%1) before it created its run.").arg(status));
                        if (status != QLatin1String("finished") && m_progress->maximum() == 0) m_progress->setRange(0, 1);
                        emit runFinished(m_runId, status);
                        refresh();
                        updateControls();
                    });
}

void EvaluatePanel::setProgress(int done, int total, std::optional<double> accuracy, double etaS, const QString&) {
    m_progress->setRange(0, std::max(1, total));
    m_progress->setValue(done);
    QString text = tr("Run #%1: %2/%3 items").arg(m_runId).arg(done).arg(total);
    if (accuracy) text += tr(" \u00b7 accuracy so far %1%").arg(*accuracy, 0, 'f', 1);
    if (etaS >= 0) text += tr(" \u00b7 ETA %1 s").arg(qRound(etaS));
    m_status->setText(text);
}

void EvaluatePanel::setFollow(bool on) { m_follow->setChecked(on); }

void EvaluatePanel::pause() {
    // A hand-started process stops as a paused run (SIGUSR1: resumable); a job stops where it is (SIGSTOP or
    // scontrol suspend) and Continue carries it on.
    if (m_attachedPid != 0) {
        if (processAlive(m_attachedPid)) ::kill(pid_t(m_attachedPid), SIGUSR1);
        return;
    }
    m_follower->togglePause();
}

void EvaluatePanel::cancel() {
    if (m_attachedPid != 0) {
        if (processAlive(m_attachedPid)) ::kill(pid_t(m_attachedPid), SIGTERM);
        return;
    }
    if (m_follower->cancel()) m_status->setText(tr("Cancelling: the items under way stop, finished ones are kept..."));
}

void EvaluatePanel::updateControllerFields() {
    const QString c = m_controller->currentData().toString();
    const bool step = m_mode->currentData().toString() == QLatin1String("step");
    m_model->setEnabled(c == QLatin1String("local"));
    m_adapter->setEnabled(c == QLatin1String("local"));
    m_endpoint->setEnabled(c == QLatin1String("endpoint"));
    m_endpointModel->setEnabled(c == QLatin1String("endpoint"));
    m_tools->setEnabled(!step);
    const bool agentx = m_benchmark->currentData().toString() == QLatin1String("agentx");
    m_judgeUrl->setEnabled(agentx);
    m_judgeModel->setEnabled(agentx);
    // The replays exist only in step mode (e2e has no gold step).
    for (int i = 0; i < 2; ++i) {
        auto* model = qobject_cast<QStandardItemModel*>(m_controller->model());
        if (model) model->item(i)->setEnabled(step);
    }
    if (!step && (c == QLatin1String("gold") || c == QLatin1String("perturbed"))) setController(QStringLiteral("local"));
    updateControls();
}

void EvaluatePanel::updateControls() {
    const bool running = isRunning();
    const bool open = m_session && m_session->isOpen();
    m_start->setEnabled(open && !running);
    m_pause->setEnabled(running && !m_starting);
    m_cancel->setEnabled(running && !m_starting);
    m_runAs->setEnabled(!running);
    m_resume->setEnabled(open && !running && m_resumable != 0);
    if (m_resumable == 0) m_resume->setText(tr("&Resume"));
}

}  // namespace matrix::ui
