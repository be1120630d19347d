// See sample_panel.h.
#include "ui/views/sample_panel.h"

#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QTableView>
#include <QVBoxLayout>

#include "core/agent/tool_specs.h"
#include "core/store/dataset_repo.h"
#include "ui/models/job_follower.h"
#include "ui/models/job_list_model.h"
#include "ui/models/project_session.h"
#include "ui/models/sample_review_model.h"
#include "ui/views/run_as_form.h"
#include "ui/views/scrolled_layout.h"

namespace matrix::ui {

namespace {
QString eta_text(double seconds) {
    if (seconds < 0) return QObject::tr("ETA unknown");
    const qint64 s = qint64(seconds + 0.5);
    if (s < 60) return QObject::tr("ETA %1 s").arg(s);
    if (s < 3600) return QObject::tr("ETA %1 min").arg((s + 30) / 60);
    return QObject::tr("ETA %1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}
}  // namespace

SamplePanel::SamplePanel(ProjectSession* session, QWidget* parent)
    : QWidget(parent),
      m_session(session),
      m_binary(JobFollower::matrixBinary()),
      m_jobs(new JobListModel(session, this)),
      m_follower(new JobFollower(session, this)),
      m_dataset(new QComboBox(this)),
      m_controllerKind(new QComboBox(this)),
      m_model(new QLineEdit(this)),
      m_adapter(new QLineEdit(this)),
      m_endpoint(new QLineEdit(this)),
      m_endpointModel(new QLineEdit(this)),
      m_verifierUrl(new QLineEdit(this)),
      m_verifierModel(new QLineEdit(this)),
      m_k(new QSpinBox(this)),
      m_limit(new QSpinBox(this)),
      m_seed(new QSpinBox(this)),
      m_maxSteps(new QSpinBox(this)),
      m_maxNewTokens(new QSpinBox(this)),
      m_runAs(new RunAsForm(QStringLiteral("sample"), /*withThread=*/false, this)),
      m_start(new QPushButton(tr("&Start Sampling"), this)),
      m_resume(new QPushButton(tr("&Resume Run"), this)),
      m_pause(new QPushButton(tr("&Pause"), this)),
      m_cancel(new QPushButton(tr("&Cancel"), this)),
      m_progress(new QProgressBar(this)),
      m_status(new QLabel(tr("Idle"), this)),
      m_log(new QPlainTextEdit(this)),
      m_reviewRun(new QComboBox(this)),
      m_counts(new DecisionCountModel(this)),
      m_disagreements(new DisagreementModel(this)),
      m_countView(new QTableView(this)),
      m_disagreementView(new QTableView(this)) {
    qRegisterMetaType<matrix::ui::SamplingOutcome>();
    m_dataset->setEditable(true);
    m_dataset->setToolTip(tr("The dataset whose tasks are sampled"));
    m_controllerKind->addItems({tr("Local model"), tr("Endpoint")});
    m_model->setPlaceholderText(tr("model folder (Qwen2-VL)"));
    m_adapter->setPlaceholderText(tr("adapter folder (SFT), optional"));
    m_endpoint->setPlaceholderText(tr("http://127.0.0.1:8000/v1"));
    m_endpointModel->setPlaceholderText(tr("served model name"));
    m_verifierUrl->setPlaceholderText(tr("verifier endpoint URL (empty: the controller's model verifies)"));
    m_verifierModel->setPlaceholderText(tr("verifier model name"));
    m_k->setRange(2, 16);
    m_k->setValue(5);
    m_k->setToolTip(tr("Candidates per step: 1 at T 0.7 with repetition penalty 1.05, the others at T 1.2"));
    m_limit->setRange(0, 1000000);
    m_limit->setSpecialValueText(tr("all"));
    m_seed->setRange(0, 1000000000);
    m_maxSteps->setRange(1, 64);
    m_maxSteps->setValue(8);
    m_maxNewTokens->setRange(1, 8192);
    m_maxNewTokens->setValue(512);

    auto* form = new QFormLayout;
    form->addRow(tr("Dataset:"), m_dataset);
    form->addRow(tr("Controller:"), m_controllerKind);
    auto* local = new QHBoxLayout;
    local->addWidget(m_model);
    local->addWidget(m_adapter);
    form->addRow(tr("Model / adapter:"), local);
    auto* endpoint = new QHBoxLayout;
    endpoint->addWidget(m_endpoint);
    endpoint->addWidget(m_endpointModel);
    form->addRow(tr("Endpoint:"), endpoint);
    auto* verifier = new QHBoxLayout;
    verifier->addWidget(m_verifierUrl);
    verifier->addWidget(m_verifierModel);
    form->addRow(tr("Verifier:"), verifier);
    auto* numbers = new QHBoxLayout;
    for (auto [label, box] : {std::pair<QString, QSpinBox*>{tr("K"), m_k}, {tr("Tasks"), m_limit}, {tr("Seed"), m_seed},
                              {tr("Max steps"), m_maxSteps}, {tr("Max new tokens"), m_maxNewTokens}}) {
        numbers->addWidget(new QLabel(label + QStringLiteral(":"), this));
        numbers->addWidget(box);
    }
    numbers->addStretch();
    form->addRow(numbers);

    auto* buttons = new QHBoxLayout;
    m_start->setToolTip(tr("Sample the dataset's tasks step by step: K candidates, each run in its own sandbox fork, "
                           "the verifier's pick continued; pairs go to curation as pending"));
    m_resume->setToolTip(tr("Carry on the run chosen below: finished tasks are kept, unfinished ones continue"));
    m_cancel->setToolTip(tr("Stop at the next step; every stored step and pair is kept and the run can be resumed"));
    m_pause->setToolTip(tr("Stop the sampling process where it is (Pause again continues it)"));
    m_start->setStatusTip(tr("Sampling runs as a job: it keeps running when the window closes"));
    buttons->addWidget(m_start);
    buttons->addWidget(m_resume);
    buttons->addWidget(m_pause);
    buttons->addWidget(m_cancel);
    buttons->addWidget(m_progress, 1);
    buttons->addWidget(m_status);

    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(2000);
    m_log->setPlaceholderText(tr("Stored steps appear here."));

    auto* review = new QGroupBox(tr("Review: the verifier vs you"), this);
    auto* rl = new QVBoxLayout(review);
    auto* runRow = new QHBoxLayout;
    runRow->addWidget(new QLabel(tr("Sampling run:"), review));
    runRow->addWidget(m_reviewRun, 1);
    auto* refresh = new QPushButton(tr("Refresh"), review);
    runRow->addWidget(refresh);
    rl->addLayout(runRow);
    m_countView->setModel(m_counts);
    m_countView->horizontalHeader()->setStretchLastSection(true);
    m_countView->verticalHeader()->hide();
    m_disagreementView->setModel(m_disagreements);
    m_disagreementView->horizontalHeader()->setStretchLastSection(true);
    m_disagreementView->verticalHeader()->hide();
    m_disagreementView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_disagreementView->setToolTip(tr("Pairs you rejected, or whose chosen action you swapped or edited: where your "
                                      "decision disagrees with the verifier. Double-click to open in Pair Curation."));
    auto* tables = new QHBoxLayout;
    tables->addWidget(m_countView, 1);
    tables->addWidget(m_disagreementView, 2);
    rl->addLayout(tables);

    auto* outer = scrolledLayout(this);
    outer->addLayout(form);
    outer->addWidget(m_runAs);
    outer->addLayout(buttons);
    outer->addWidget(m_log, 1);
    outer->addWidget(review, 1);

    connect(m_start, &QPushButton::clicked, this, &SamplePanel::startSampling);
    connect(m_resume, &QPushButton::clicked, this, &SamplePanel::resumeSampling);
    connect(m_cancel, &QPushButton::clicked, this, &SamplePanel::cancelSampling);
    connect(refresh, &QPushButton::clicked, this, &SamplePanel::refreshReview);
    connect(m_controllerKind, &QComboBox::currentIndexChanged, this, &SamplePanel::updateButtons);
    connect(m_reviewRun, &QComboBox::activated, this, [this](int i) {
        m_reviewRunId = m_reviewRun->itemData(i).toLongLong();
        refreshReview();
    });
    connect(m_disagreementView, &QTableView::activated, this, [this](const QModelIndex& index) {
        if (qint64 id = m_disagreements->pairId(index.row())) emit showPairRequested(id);
    });
    connect(m_session, &ProjectSession::dataChanged, this, [this](const QString&) { refreshReview(); });

    connect(m_pause, &QPushButton::clicked, this, &SamplePanel::pauseSampling);
    connect(m_follower, &JobFollower::linesRead, this, &SamplePanel::onLines);
    connect(m_follower, &JobFollower::jobUpdated, this, [this](const jobs::Job& j) {
        m_pause->setText(j.state == "paused" ? tr("Continue") : tr("&Pause"));
        if (j.state == "paused") m_status->setText(tr("Job %1 paused (Continue carries it on)").arg(j.id));
        if (j.state == "queued") m_status->setText(tr("Job %1 queued (%2)").arg(j.id).arg(JobFollower::whereText(j)));
        if (j.run_id && m_runId == 0) m_runId = *j.run_id;
        updateButtons();
    });
    connect(m_follower, &JobFollower::ended, this, &SamplePanel::onJobEnded);
    connect(m_follower, &JobFollower::controlled, this, [this](const QString& action, const QString& error) {
        if (!error.isEmpty()) m_status->setText(action == "cancel" ? tr("Cancel failed: %1").arg(error) : error);
    });
    // Reattach: the first job list after a project opens names an unfinished sampling job started before.
    m_jobs->reattachOnOpen(
        QStringLiteral("sample"), [this] { return m_follower->isActive() || m_starting; },
        [this](const jobs::Job& j) {
            log(tr("Reattached to job %1 (%2), %3.").arg(j.id).arg(JobFollower::whereText(j), QString::fromStdString(j.state)));
            follow(j.id);
        });
    connect(m_session, &ProjectSession::opened, this, [this] {
        m_follower->follow(0);
        updateButtons();
    });
    updateButtons();
}

// The job is a process of its own: the panel going away leaves it running (the close dialog says so).
SamplePanel::~SamplePanel() = default;

void SamplePanel::setProjectPath(const QString& path) {
    m_projectPath = path;
    m_reviewRunId = 0;
    refreshDatasets();
    refreshReview();
    updateButtons();
}

void SamplePanel::setDataset(const QString& name) { m_dataset->setCurrentText(name); }
void SamplePanel::setModelDir(const QString& dir, const QString& adapter) {
    m_controllerKind->setCurrentIndex(0);
    m_model->setText(dir);
    m_adapter->setText(adapter);
}
void SamplePanel::setEndpoint(const QString& url, const QString& model) {
    m_controllerKind->setCurrentIndex(1);
    m_endpoint->setText(url);
    m_endpointModel->setText(model);
}
void SamplePanel::setVerifierEndpoint(const QString& url, const QString& model) {
    m_verifierUrl->setText(url);
    m_verifierModel->setText(model);
}
void SamplePanel::setCandidates(int k) { m_k->setValue(k); }
void SamplePanel::setLimit(int tasks) { m_limit->setValue(tasks); }
void SamplePanel::setMaxNewTokens(int tokens) { m_maxNewTokens->setValue(tokens); }
void SamplePanel::setMaxSteps(int steps) { m_maxSteps->setValue(steps); }
bool SamplePanel::isSampling() const { return m_starting || m_follower->isActive(); }
int SamplePanel::unfinishedJobs() const { return m_jobs->unfinishedCount(QStringLiteral("sample")); }
qint64 SamplePanel::followedJob() const { return m_follower->jobId(); }
QString SamplePanel::progressText() const { return m_status->text(); }

bool SamplePanel::collectSettings(agent::SamplingSettings* out, QString* error) const {
    agent::SamplingSettings s = agent::default_sampling_settings(m_k->value());
    s.dataset = m_dataset->currentText().trimmed().toStdString();
    if (s.dataset.empty()) return *error = tr("Choose a dataset to sample."), false;
    if (m_controllerKind->currentIndex() == 0) {
        if (m_model->text().trimmed().isEmpty()) return *error = tr("Give the model folder."), false;
        s.agent.controller = {{"kind", "local"}, {"model", m_model->text().trimmed().toStdString()},
                              {"adapter", m_adapter->text().trimmed().toStdString()}};
    } else {
        if (m_endpoint->text().trimmed().isEmpty() || m_endpointModel->text().trimmed().isEmpty())
            return *error = tr("Give the endpoint URL and model name."), false;
        s.agent.controller = {{"kind", "endpoint"}, {"url", m_endpoint->text().trimmed().toStdString()},
                              {"model", m_endpointModel->text().trimmed().toStdString()}};
    }
    if (!m_verifierUrl->text().trimmed().isEmpty()) {
        if (m_verifierModel->text().trimmed().isEmpty()) return *error = tr("Give the verifier's model name."), false;
        s.verifier = {{"kind", "endpoint"}, {"url", m_verifierUrl->text().trimmed().toStdString()},
                      {"model", m_verifierModel->text().trimmed().toStdString()}};
    }
    s.agent.name = "sample " + s.dataset;
    for (const auto& spec : agent::matrix_tool_specs()) s.agent.tools.push_back(spec.name);
    s.agent.loop.generation.seed = uint64_t(m_seed->value());
    s.agent.loop.max_steps = m_maxSteps->value();
    s.agent.loop.generation.max_new_tokens = m_maxNewTokens->value();
    *out = s;
    return true;
}

bool SamplePanel::startArguments(QStringList* out, QString* error) const {
    agent::SamplingSettings check;
    if (!collectSettings(&check, error)) return false;
    QStringList a = {QStringLiteral("sample"), QStringLiteral("run"), QStringLiteral("--db"), m_projectPath,
                     QStringLiteral("--dataset"), m_dataset->currentText().trimmed()};
    if (m_controllerKind->currentIndex() == 0) {
        a << QStringLiteral("--model") << m_model->text().trimmed();
        if (!m_adapter->text().trimmed().isEmpty()) a << QStringLiteral("--adapter") << m_adapter->text().trimmed();
    } else {
        a << QStringLiteral("--endpoint") << m_endpoint->text().trimmed() << QStringLiteral("--endpoint-model")
          << m_endpointModel->text().trimmed();
    }
    if (!m_verifierUrl->text().trimmed().isEmpty())
        a << QStringLiteral("--verifier-endpoint") << m_verifierUrl->text().trimmed() << QStringLiteral("--verifier-model")
          << m_verifierModel->text().trimmed();
    a << QStringLiteral("--k") << QString::number(m_k->value());
    if (m_limit->value() > 0) a << QStringLiteral("--limit") << QString::number(m_limit->value());
    a << QStringLiteral("--seed") << QString::number(m_seed->value()) << QStringLiteral("--set")
      << QStringLiteral("max_steps=%1").arg(m_maxSteps->value()) << QStringLiteral("--set")
      << QStringLiteral("max_new_tokens=%1").arg(m_maxNewTokens->value());
    if (!m_workRoot.isEmpty()) a << QStringLiteral("--set") << QStringLiteral("work_dir=%1").arg(m_workRoot);
    *out = a;
    return true;
}

void SamplePanel::startSampling() {
    if (isSampling() || m_projectPath.isEmpty()) return;
    QStringList args;
    QString error;
    if (!startArguments(&args, &error)) {
        m_status->setText(error);
        return;
    }
    launch(args);
}

void SamplePanel::resumeSampling() {
    if (isSampling() || m_projectPath.isEmpty() || m_reviewRunId <= 0) return;
    QStringList args = {QStringLiteral("sample"), QStringLiteral("resume"), QStringLiteral("--db"), m_projectPath,
                        QStringLiteral("--run"), QString::number(m_reviewRunId)};
    launch(args);
}

void SamplePanel::launch(const QStringList& arguments) {
    if (!m_session || !m_session->isOpen()) return;
    if (m_binary.isEmpty()) {
        m_status->setText(tr("The matrix command-line program was not found beside the workbench or on PATH."));
        return;
    }
    const jobs::JobRequest req = m_runAs->request(QStringLiteral("sample"), arguments, m_session->path(), m_binary);
    const bool resuming = arguments.value(1) == QLatin1String("resume");
    m_runId = resuming ? m_reviewRunId : 0;
    m_status->setText(resuming ? tr("Resuming run %1 as a %2...").arg(m_reviewRunId).arg(req.slurm ? tr("Slurm job") : tr("job"))
                               : req.slurm ? tr("Submitting a sampling job to Slurm...") : tr("Starting a sampling job..."));
    log(QStringLiteral("$ matrix %1").arg(arguments.join(QLatin1Char(' '))));
    m_starting = true;
    updateButtons();
    m_jobs->submit(req, [this](const jobs::Job* job, const QString& error) {
        m_starting = false;
        if (!job) {
            m_status->setText(tr("Not started: %1").arg(error));
            updateButtons();
            return;
        }
        follow(job->id);
    });
}

void SamplePanel::follow(qint64 jobId) {
    m_pairs = 0;
    m_tasks = 0;
    if (const jobs::Job* j = m_jobs->jobById(jobId); j && j->run_id) m_runId = *j->run_id;
    m_progress->setRange(0, 0);
    m_status->setText(tr("Job %1: waiting for its first report...").arg(jobId));
    m_follower->follow(jobId);
    updateButtons();
}

void SamplePanel::onLines(const QStringList& lines) {
    // What `matrix sample run|resume` prints: "[run 12, 3 tasks, K 5, ...]", "task 4 step 1: ..., 2 pairs (...)",
    // "[progress 1/3, eta 40 s]", "pairs 7" and "run 12" last.
    static const QRegularExpression runLine(QStringLiteral("^\\[run (\\d+), (\\d+) tasks, K (\\d+)"));
    static const QRegularExpression stepLine(QStringLiteral("^task (\\d+) step (\\d+): .*?, (\\d+) pairs(?: \\((.*)\\))?$"));
    static const QRegularExpression pairsLine(QStringLiteral("^pairs (\\d+)$"));
    bool stored = false;
    for (const QString& line : lines) {
        if (const auto p = JobFollower::parseProgress(line)) {
            m_tasks = p->total;
            m_progress->setRange(0, std::max(1, p->total));
            m_progress->setValue(p->done);
            m_status->setText(tr("Run %1: %2/%3 tasks \u00b7 %4 pairs \u00b7 %5")
                                  .arg(m_runId).arg(p->done).arg(p->total).arg(m_pairs).arg(eta_text(p->eta_s)));
            continue;
        }
        log(line);
        if (const auto m = runLine.match(line); m.hasMatch()) {
            m_runId = m.captured(1).toLongLong();
            m_tasks = m.captured(2).toInt();
            m_progress->setRange(0, std::max(1, m_tasks));
            m_progress->setValue(0);
            m_status->setText(tr("Run %1: 0/%2 tasks").arg(m_runId).arg(m_tasks));
        } else if (const auto m = stepLine.match(line); m.hasMatch()) {
            const int pairs = m.captured(3).toInt();
            m_pairs += pairs;
            stored = stored || pairs > 0;
        } else if (const auto m = pairsLine.match(line); m.hasMatch()) {
            m_pairs = m.captured(1).toLongLong();
        }
    }
    if (stored) emit pairsChanged();
}

void SamplePanel::onJobEnded(const jobs::Job& job) {
    m_jobs->refresh();  // the job list (unfinishedJobs, the close dialog) catches up now, not at its next poll
    SamplingOutcome o;
    o.runId = job.run_id.value_or(m_runId);
    o.pairs = m_pairs;
    o.tasks = m_tasks;
    o.status = QString::fromStdString(job.state);
    if (job.state == "failed") {
        o.error = JobFollower::failureText(job);
        m_status->setText(tr("Failed: %1").arg(o.error));
    } else {
        m_status->setText(tr("Run %1 %2: %3 pairs").arg(o.runId).arg(o.status).arg(o.pairs));
    }
    m_progress->setRange(0, 1);
    m_progress->setValue(job.state == "finished" ? 1 : 0);
    m_pause->setText(tr("&Pause"));
    if (o.runId > 0) m_reviewRunId = o.runId;
    updateButtons();
    emit pairsChanged();
    refreshReview();
    emit samplingFinished(o);
}

void SamplePanel::cancelSampling() {
    if (m_follower->cancel()) m_status->setText(tr("Cancelling at the next step..."));
}

void SamplePanel::pauseSampling() { m_follower->togglePause(); }

void SamplePanel::updateButtons() {
    const bool open = !m_projectPath.isEmpty();
    const bool busy = isSampling();
    const bool local = m_controllerKind->currentIndex() == 0;
    m_model->setEnabled(local);
    m_adapter->setEnabled(local);
    m_endpoint->setEnabled(!local);
    m_endpointModel->setEnabled(!local);
    m_start->setEnabled(open && !busy);
    m_resume->setEnabled(open && !busy && m_reviewRunId > 0);
    m_cancel->setEnabled(busy && !m_starting);
    m_pause->setEnabled(busy && !m_starting);
    m_runAs->setEnabled(!busy);
}

void SamplePanel::log(const QString& line) { m_log->appendPlainText(line); }

void SamplePanel::refreshDatasets() {
    if (!m_session || !m_session->isOpen()) return;
    m_session->post(
        this,
        [](store::Project& p) {
            QStringList names;
            if (auto list = store::DatasetRepo(p.db()).list(); list.ok())
                for (const store::Dataset& d : *list)
                    if (d.kind != "prefx") names << QString::fromStdString(d.name);
            return names;
        },
        [this](QStringList names) {
            const QString current = m_dataset->currentText();
            m_dataset->clear();
            m_dataset->addItems(names);
            if (!current.isEmpty()) m_dataset->setCurrentText(current);
        });
}

void SamplePanel::refreshReview() {
    if (!m_session || !m_session->isOpen()) return;
    const int gen = ++m_reviewGeneration;
    const qint64 runId = m_reviewRunId;
    m_session->post(
        this, [runId](store::Project& p) { return loadSampleReview(p, runId); },
        [this, gen](SampleReview r) {
            if (gen != m_reviewGeneration) return;
            m_reviewRunId = r.runId;
            m_reviewRun->clear();
            for (qint64 id : r.runs) m_reviewRun->addItem(tr("Run %1").arg(id), id);
            m_reviewRun->setCurrentIndex(int(r.runs.indexOf(r.runId)));
            m_counts->setRows(r.counts);
            m_disagreements->setRows(r.disagreements);
            updateButtons();
        });
}

}  // namespace matrix::ui
