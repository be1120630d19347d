// EvaluatePanel implementation (see evaluate_panel.h). The `matrix eval` process is started detached (its output
// goes to a log file beside the project's runs), so closing the window leaves it running; the panel follows it by
// polling the store (live/done, live/accuracy) and the log file, and by checking that the process still lives.
#include "ui/views/evaluate_panel.h"

#include <QCheckBox>
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QProgressBar>
#include <QRegularExpression>
#include <QStandardItemModel>
#include <QPushButton>
#include <QCheckBox>
#include <QComboBox>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTimer>
#include <QVBoxLayout>

#include <csignal>
#include <signal.h>

#include "core/agent/agent_job.h"
#include "core/eval/eval_run.h"
#include "core/store/dataset_repo.h"
#include "core/store/run_repo.h"
#include "ui/models/project_session.h"

namespace matrix::ui {

namespace {

struct PanelInfo {
    QVector<QPair<QString, QString>> datasets;  // name, kind
    QVector<QPair<QString, QString>> adapters;  // label, folder
    std::vector<eval::EvalRunStatus> statuses;
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

}  // namespace

EvaluatePanel::EvaluatePanel(ProjectSession* session, QWidget* parent) : QWidget(parent), m_session(session) {
    const QString beside = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("matrix"));
    m_binary = QFileInfo::exists(beside) ? beside : QStandardPaths::findExecutable(QStringLiteral("matrix"));

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
    form->addRow(tr("Benchmark"), m_benchmark);
    form->addRow(tr("Dataset"), m_dataset);
    form->addRow(tr("Mode"), m_mode);
    form->addRow(tr("Controller"), m_controller);
    form->addRow(tr("Model"), m_model);
    form->addRow(tr("Adapter"), m_adapter);
    form->addRow(tr("Endpoint"), m_endpoint);
    form->addRow(tr("Endpoint model"), m_endpointModel);
    form->addRow(tr("Tools"), m_tools);
    form->addRow(tr("Limit"), m_limit);
    form->addRow(tr("Workers"), m_workers);
    form->addRow(tr("Seed"), m_seed);
    form->addRow(tr("Name"), m_name);
    form->addRow(tr("Judge"), m_judgeUrl);
    form->addRow(tr("Judge model"), m_judgeModel);
    auto* settings = new QGroupBox(tr("Evaluation run"));
    settings->setLayout(form);

    m_start = new QPushButton(tr("Start"));
    m_start->setToolTip(tr("Run the evaluation as a separate matrix eval process (it goes on if the window closes)"));
    m_pause = new QPushButton(tr("Pause"));
    m_cancel = new QPushButton(tr("Cancel"));
    m_resume = new QPushButton(tr("Resume"));
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

    auto* layout = new QHBoxLayout(this);
    layout->addWidget(settings, 2);
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
    updateControllerFields();
    updateControls();
}

EvaluatePanel::~EvaluatePanel() = default;  // a running `matrix eval` is detached: it goes on

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
        while (m_adapter->count() > 1) m_adapter->removeItem(1);
        for (const auto& [label, dir] : info.adapters) m_adapter->addItem(label, dir);
        // A run still going on in another process (this window was closed meanwhile): follow it.
        m_resumable = 0;
        if (m_attachedPid == 0) {
            m_buffer.clear();
            for (const auto& s : info.statuses) {
                if (s.process_alive) {
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
        if (m_attachedPid == 0) {
            for (const auto& s : info.statuses) {
                if (s.status == "running" || s.status == "paused" || s.status == "cancelled" || s.status == "created") {
                    m_resumable = s.run_id;
                    m_resume->setText(tr("Resume #%1 (%2/%3)").arg(s.run_id).arg(s.done).arg(s.total));
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
void EvaluatePanel::setWorkers(int n) { m_workers->setValue(n); }
bool EvaluatePanel::isRunning() const { return m_attachedPid != 0; }
QString EvaluatePanel::progressText() const { return m_status->text(); }

void EvaluatePanel::start() {
    if (isRunning() || !m_session || !m_session->isOpen()) return;
    launch(startArguments());
}

void EvaluatePanel::resumeUnfinished() {
    if (isRunning() || m_resumable == 0 || !m_session) return;
    launch({QStringLiteral("eval"), QStringLiteral("resume"), QStringLiteral("--db"), m_session->path(),
            QStringLiteral("--run"), QString::number(m_resumable)});
}

void EvaluatePanel::launch(const QStringList& args) {
    if (m_binary.isEmpty()) {
        m_status->setText(tr("The matrix command-line program was not found beside the workbench."));
        return;
    }
    const QString runs = QString::fromStdString(agent::default_runs_folder(m_session->path().toStdString()));
    QDir().mkpath(runs);
    const QString logPath =
        QDir(runs).filePath(QStringLiteral("eval-%1.log").arg(QDateTime::currentDateTimeUtc().toString("yyyyMMdd-HHmmsszzz")));
    QProcess p;
    p.setProgram(m_binary);
    p.setArguments(args);
    p.setStandardOutputFile(logPath);
    p.setStandardErrorFile(logPath, QIODevice::Append);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    if (!env.contains(QStringLiteral("OPENBLAS_NUM_THREADS"))) env.insert(QStringLiteral("OPENBLAS_NUM_THREADS"), QStringLiteral("1"));
    p.setProcessEnvironment(env);
    qint64 pid = 0;
    if (!p.startDetached(&pid)) {
        m_status->setText(tr("Could not start %1").arg(m_binary));
        return;
    }
    m_attachedPid = pid;
    m_attachedDone = -1;
    m_runId = 0;
    m_buffer = logPath;  // the log file followed; its read position is m_log's text length (see onOutput)
    m_log->clear();
    m_log->appendPlainText(QStringLiteral("$ matrix %1").arg(args.join(QLatin1Char(' '))));
    m_logOffset = 0;
    m_status->setText(tr("Starting..."));
    m_poll->start();
    updateControls();
}

void EvaluatePanel::onOutput() {
    if (m_buffer.isEmpty()) return;
    QFile f(m_buffer);
    if (!f.open(QIODevice::ReadOnly)) return;
    f.seek(m_logOffset);
    const QByteArray chunk = f.readAll();
    const int lastNl = chunk.lastIndexOf('\n');
    if (lastNl < 0) return;
    m_logOffset += lastNl + 1;
    for (const QByteArray& raw : chunk.left(lastNl).split('\n')) {
        const QString line = QString::fromUtf8(raw);
        m_log->appendPlainText(line);
        if (line.startsWith(QLatin1String("[run ")) || line.startsWith(QLatin1String("[resuming run "))) {
            const QString digits = line.section(QLatin1Char(' '), line.startsWith(QLatin1String("[run ")) ? 1 : 2, -1)
                                       .section(QRegularExpression(QStringLiteral("[^0-9]")), 0, 0);
            if (!digits.isEmpty()) m_runId = digits.toLongLong();
        }
    }
}

void EvaluatePanel::pollAttached() {
    onOutput();
    const bool alive = processAlive(m_attachedPid);
    if (!m_session || !m_session->isOpen()) return;
    const qint64 runId = m_runId;
    m_session->post(this, [](store::Project& p) { return eval::eval_run_statuses(p.db()); },
                    [this, runId, alive](Result<std::vector<eval::EvalRunStatus>> list) {
                        if (!list) return;
                        const eval::EvalRunStatus* s = nullptr;
                        for (const auto& x : *list) {
                            if (runId ? x.run_id == runId : (x.pid == m_attachedPid)) {
                                s = &x;
                                break;
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
                            setProgress(s->done, s->total, s->accuracy, eta, QString());
                            if (m_follow->isChecked() && s->current_trajectory_id > 0 &&
                                (s->current_trajectory_id != m_followedTrajectory || s->current_steps != m_followedSteps)) {
                                m_followedTrajectory = s->current_trajectory_id;
                                m_followedSteps = s->current_steps;
                                emit followItem(s->current_task_id, s->current_trajectory_id, s->current_steps);
                            }
                        }
                        if (!alive && m_attachedPid != 0) {
                            onOutput();
                            m_poll->stop();
                            m_attachedPid = 0;
                            const QString status = s ? QString::fromStdString(s->status) : QStringLiteral("failed");
                            m_status->setText(m_status->text() + QStringLiteral(" \u2014 ") + status);
                            emit runFinished(m_runId, status);
                            refresh();
                        }
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
    if (processAlive(m_attachedPid)) ::kill(pid_t(m_attachedPid), SIGUSR1);
}

void EvaluatePanel::cancel() {
    if (processAlive(m_attachedPid)) ::kill(pid_t(m_attachedPid), SIGTERM);
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
    m_pause->setEnabled(running);
    m_cancel->setEnabled(running);
    m_resume->setEnabled(open && !running && m_resumable != 0);
    if (m_resumable == 0) m_resume->setText(tr("Resume"));
}

}  // namespace matrix::ui
