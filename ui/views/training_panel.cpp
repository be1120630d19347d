// See training_panel.h. The hyperparameter form is generated from matrix::train::config_fields() so it always
// has the CLI's keys and defaults; charts are QtCharts line series fed by the worker's queued step reports.
#include "ui/views/training_panel.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleValidator>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QThread>
#include <QVBoxLayout>

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/training/trainer.h"
#include "ui/models/job_follower.h"
#include "ui/models/job_list_model.h"
#include "ui/models/project_session.h"
#include "ui/models/run_rank_model.h"
#include "ui/models/training_runs_model.h"
#include "ui/views/training_charts.h"
#include "ui/workers/training_worker.h"

namespace matrix::ui {

using matrix::train::ConfigKind;
using matrix::train::TrainingConfig;

namespace {

// Binds a shortcut to a button while focus is inside `scope` (so keys typed in other panes never start or stop a
// run) and shows it in the button's tooltip, as the menus do.
void bindShortcut(QWidget* scope, QPushButton* button, const QKeySequence& key, const QString& tip) {
    auto* action = new QAction(button->text(), scope);
    action->setShortcut(key);
    action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    QObject::connect(action, &QAction::triggered, button, [button] {
        if (button->isEnabled() && button->isVisible()) button->click();
    });
    scope->addAction(action);
    button->setToolTip(QStringLiteral("%1 (%2)").arg(tip, key.toString(QKeySequence::NativeText)));
}

}  // namespace

QString formatTrainingDuration(double s) {
    if (!std::isfinite(s) || s < 0) return "?";
    const qint64 t = qint64(s + 0.5);
    return t >= 3600 ? QString("%1h%2m").arg(t / 3600).arg(t / 60 % 60, 2, 10, QChar('0'))
                     : QString("%1m%2s").arg(t / 60).arg(t % 60, 2, 10, QChar('0'));
}

TrainingPanel::TrainingPanel(QWidget* parent) : QWidget(parent) {
    m_runs = new TrainingRunsModel(this);
    connect(m_runs, &TrainingRunsModel::refreshed, this, &TrainingPanel::onRunsRefreshed);
    connect(m_runs, &TrainingRunsModel::failed, this, [this](const QString& e) {
        m_formError->setText(tr("cannot read the runs: %1").arg(e));
    });
    auto* split = new QSplitter(Qt::Horizontal, this);
    auto* scroll = new QScrollArea(split);
    scroll->setWidgetResizable(true);
    scroll->setWidget(buildForm());
    scroll->setMinimumWidth(340);
    split->addWidget(scroll);
    split->addWidget(buildCharts());
    split->setStretchFactor(1, 1);
    auto* lay = new QVBoxLayout(this);
    lay->setContentsMargins(0, 0, 0, 0);
    lay->addWidget(split);

    m_thread = new QThread(this);
    m_thread->setObjectName("training");
    m_worker = new TrainingWorker();
    m_worker->moveToThread(m_thread);
    connect(m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &TrainingWorker::stepReported, this, &TrainingPanel::onStep);
    connect(m_worker, &TrainingWorker::logLine, this, &TrainingPanel::onLog);
    connect(m_worker, &TrainingWorker::finished, this, &TrainingPanel::onFinished);
    m_thread->start();

    applyConfig(TrainingConfig{});
    onStageChanged();
    setBusy(false);
}

TrainingPanel::~TrainingPanel() {
    if (m_worker) m_worker->cancel();
    m_thread->quit();
    m_thread->wait();
}

QWidget* TrainingPanel::buildForm() {
    auto* w = new QWidget();
    auto* v = new QVBoxLayout(w);

    auto* run = new QGroupBox(tr("Run"), w);
    auto* f = new QFormLayout(run);
    m_stage = new QComboBox(run);
    m_stage->addItem(tr("SFT (trajectories)"), "sft");
    m_stage->addItem(tr("Step-wise DPO (pairs)"), "dpo");
    connect(m_stage, qOverload<int>(&QComboBox::currentIndexChanged), this, &TrainingPanel::onStageChanged);
    f->addRow(tr("Stage"), m_stage);

    auto dirRow = [&](QLineEdit*& edit, const QString& placeholder, bool checkModel) {
        auto* row = new QWidget(run);
        auto* h = new QHBoxLayout(row);
        h->setContentsMargins(0, 0, 0, 0);
        edit = new QLineEdit(row);
        edit->setPlaceholderText(placeholder);
        auto* browse = new QPushButton(tr("..."), row);
        browse->setMaximumWidth(32);
        h->addWidget(edit);
        h->addWidget(browse);
        QLineEdit* e = edit;
        connect(browse, &QPushButton::clicked, this, [this, e] {
            QString d = QFileDialog::getExistingDirectory(this, tr("Choose a directory"), e->text());
            if (!d.isEmpty()) e->setText(d);
        });
        if (checkModel) connect(edit, &QLineEdit::editingFinished, this, &TrainingPanel::checkModelDir);
        return row;
    };
    f->addRow(tr("Base model"), dirRow(m_modelDir, tr("Qwen2-VL checkpoint directory"), true));
    m_modelInfo = new QLabel(tr("no model chosen"), run);
    m_modelInfo->setWordWrap(true);
    m_modelInfo->setStyleSheet("color: gray");
    f->addRow(QString(), m_modelInfo);
    f->addRow(tr("Start adapter"), dirRow(m_adapterDir, tr("optional PEFT adapter (SFT result for DPO)"), false));
    m_dataset = new QComboBox(run);
    m_dataset->setEditable(true);
    f->addRow(tr("Dataset"), m_dataset);
    f->addRow(tr("Output"), dirRow(m_outDir, tr("adapter + checkpoints directory"), false));
    v->addWidget(run);
    v->addWidget(buildRunAs(w));

    // Hyperparameters, generated from the shared key table, grouped as there.
    QMap<QString, QFormLayout*> groups;
    const auto devices = matrix::train::available_devices();
    for (const auto& field : matrix::train::config_fields()) {
        const QString key = QString::fromStdString(field.key);
        const QString group = QString::fromStdString(field.group);
        if (!groups.contains(group)) {
            auto* box = new QGroupBox(group, w);
            groups[group] = new QFormLayout(box);
            v->addWidget(box);
        }
        QWidget* editor = nullptr;
        switch (field.kind) {
        case ConfigKind::Int: {
            auto* sb = new QSpinBox();
            sb->setRange(key == "max_steps" || key == "save_every" || key == "eval_every" ? 0 : 1, 1000000000);
            if (key == "seed") sb->setRange(0, 2147483647);
            editor = sb;
            break;
        }
        case ConfigKind::Float: {
            auto* le = new QLineEdit();
            auto* val = new QDoubleValidator(le);
            val->setNotation(QDoubleValidator::ScientificNotation);
            le->setValidator(val);
            editor = le;
            break;
        }
        case ConfigKind::Bool: editor = new QCheckBox(); break;
        case ConfigKind::Choice: {
            auto* cb = new QComboBox();
            for (const auto& c : field.choices) cb->addItem(QString::fromStdString(c));
            editor = cb;
            break;
        }
        case ConfigKind::String: {
            auto* cb = new QComboBox();
            cb->setEditable(true);
            if (key == "device")
                for (const auto& d : devices) cb->addItem(QString::fromStdString(d));
            editor = cb;
            break;
        }
        case ConfigKind::List: editor = new QLineEdit(); break;
        }
        editor->setToolTip(QString::fromStdString(field.help));
        editor->setObjectName(key);
        auto* label = new QLabel(key);
        label->setToolTip(QString::fromStdString(field.help));
        groups[group]->addRow(label, editor);
        m_fields[key] = editor;
        m_fieldLabels[key] = label;
    }

    m_formError = new QLabel(w);
    m_formError->setStyleSheet("color: #b00020");
    m_formError->setWordWrap(true);
    v->addWidget(m_formError);

    auto* buttons = new QGridLayout();
    m_train = new QPushButton(tr("Train"), w);
    m_train->setDefault(true);
    m_train->setStatusTip(tr("Start a new run with these settings"));
    m_pause = new QPushButton(tr("Pause"), w);
    m_pause->setStatusTip(tr("Checkpoint and stop; resume later"));
    m_cancel = new QPushButton(tr("Cancel"), w);
    m_resume = new QPushButton(tr("Resume selected"), w);
    m_resume->setStatusTip(tr("Continue a paused or interrupted run from its last checkpoint"));
    m_continue = new QPushButton(tr("Continue +N epochs"), w);
    m_moreEpochs = new QSpinBox(w);
    m_moreEpochs->setRange(1, 100);
    m_moreEpochs->setValue(1);
    buttons->addWidget(m_train, 0, 0);
    buttons->addWidget(m_pause, 0, 1);
    buttons->addWidget(m_cancel, 0, 2);
    buttons->addWidget(m_resume, 1, 0);
    buttons->addWidget(m_continue, 1, 1);
    buttons->addWidget(m_moreEpochs, 1, 2);
    v->addLayout(buttons);
    v->addStretch(1);
    bindShortcut(this, m_train, QKeySequence(QStringLiteral("Ctrl+Return")), tr("Start a new run with these settings"));
    bindShortcut(this, m_pause, QKeySequence(QStringLiteral("Ctrl+Shift+P")), tr("Checkpoint and stop; resume later"));
    bindShortcut(this, m_cancel, QKeySequence(QStringLiteral("Ctrl+Shift+X")),
                 tr("Stop the run now; checkpoints written so far stay"));
    bindShortcut(this, m_resume, QKeySequence(QStringLiteral("Ctrl+Shift+R")),
                 tr("Continue the selected paused or interrupted run from its last checkpoint"));
    bindShortcut(this, m_continue, QKeySequence(QStringLiteral("Ctrl+Shift+N")),
                 tr("Train the selected finished run for N more epochs"));
    connect(m_train, &QPushButton::clicked, this, &TrainingPanel::startTraining);
    connect(m_pause, &QPushButton::clicked, this, &TrainingPanel::pauseTraining);
    connect(m_cancel, &QPushButton::clicked, this, &TrainingPanel::cancelTraining);
    connect(m_resume, &QPushButton::clicked, this, &TrainingPanel::resumeSelected);
    connect(m_continue, &QPushButton::clicked, this, &TrainingPanel::continueSelected);
    return w;
}

QWidget* TrainingPanel::buildCharts() {
    auto* w = new QWidget();
    auto* v = new QVBoxLayout(w);
    m_charts = new TrainingCharts(w);
    v->addWidget(m_charts, 3);
    buildRanks(w, v);  // the ranks of the shown run (training_panel_ranks.cpp)

    auto* prog = new QHBoxLayout();
    m_progress = new QProgressBar(w);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progressText = new QLabel(tr("idle"), w);
    prog->addWidget(m_progress, 1);
    prog->addWidget(m_progressText);
    v->addLayout(prog);

    auto* bottom = new QSplitter(Qt::Horizontal, w);
    m_log = new QPlainTextEdit(bottom);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(5000);
    m_log->setFont(QFont("monospace", 8));
    m_log->setPlaceholderText(tr("No run in this session yet.\n\nChoose a base model directory (a Qwen2-VL checkpoint), a "
                                 "dataset and an output directory, then press Train (Ctrl+Return).\nThe run's log "
                                 "appears here; its curves appear in the charts above. Past runs are listed on the "
                                 "right: select one to see its curves, two to overlay them."));
    m_history = new QTableView(bottom);
    m_history->setObjectName("run_history");
    m_history->setModel(m_runs);
    m_history->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_history->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_history->horizontalHeader()->setStretchLastSection(true);
    m_history->verticalHeader()->hide();
    m_history->setToolTip(tr("Select a run to show its curves; select two to overlay them"));
    connect(m_history->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &TrainingPanel::showSelectedRuns);
    bottom->addWidget(m_log);
    m_lists = new QTabWidget(bottom);
    m_lists->addTab(m_history, tr("Runs"));  // setSession() adds the Jobs tab
    bottom->addWidget(m_lists);
    v->addWidget(bottom, 2);
    return w;
}

ProjectSession* TrainingPanel::storeSession() const { return m_session ? m_session : m_ownSession; }

void TrainingPanel::setProjectPath(const QString& path) {
    m_projectPath = path;
    showRanks(0);
    if (m_session) {  // the main window's session, already open on `path`
        m_runs->setSession(m_session);
        m_runs->refresh();
        return;
    }
    if (!m_ownSession) {
        m_ownSession = new ProjectSession(this);
        connect(m_ownSession, &ProjectSession::opened, m_runs, &TrainingRunsModel::refresh);
        connect(m_ownSession, &ProjectSession::failed, this, [this](const QString& e) {
            m_formError->setText(tr("cannot open project: %1").arg(e));
        });
    }
    m_runs->setSession(m_ownSession);
    m_ownSession->open(path);
}

void TrainingPanel::onRunsRefreshed() {
    const QString current = m_dataset->currentText();
    m_dataset->clear();
    m_dataset->addItems(m_runs->datasetNames());
    if (!current.isEmpty()) m_dataset->setCurrentText(current);
    m_history->resizeColumnsToContents();
    if (m_rankRun > 0) m_ranks->load(storeSession(), m_rankRun);
}


void TrainingPanel::applyConfig(const TrainingConfig& config) {
    const auto j = config.to_json();
    for (const auto& field : matrix::train::config_fields()) {
        const QString key = QString::fromStdString(field.key);
        QWidget* e = m_fields.value(key);
        const auto& val = j.at(field.key);
        switch (field.kind) {
        case ConfigKind::Int: static_cast<QSpinBox*>(e)->setValue(int(val.get<int64_t>())); break;
        case ConfigKind::Float: static_cast<QLineEdit*>(e)->setText(QString::number(val.get<double>(), 'g', 6)); break;
        case ConfigKind::Bool: static_cast<QCheckBox*>(e)->setChecked(val.get<bool>()); break;
        case ConfigKind::Choice:
        case ConfigKind::String: static_cast<QComboBox*>(e)->setCurrentText(QString::fromStdString(val.get<std::string>())); break;
        case ConfigKind::List: {
            QStringList items;
            for (const auto& s : val) items << QString::fromStdString(s.get<std::string>());
            static_cast<QLineEdit*>(e)->setText(items.join(","));
            break;
        }
        }
    }
}

bool TrainingPanel::collectConfig(TrainingConfig* out, QString* error) const {
    TrainingConfig c;
    for (const auto& field : matrix::train::config_fields()) {
        const QString key = QString::fromStdString(field.key);
        QWidget* e = m_fields.value(key);
        QString value;
        switch (field.kind) {
        case ConfigKind::Int: value = QString::number(static_cast<QSpinBox*>(e)->value()); break;
        case ConfigKind::Float:
        case ConfigKind::List: value = static_cast<QLineEdit*>(e)->text().trimmed(); break;
        case ConfigKind::Bool: value = static_cast<QCheckBox*>(e)->isChecked() ? "true" : "false"; break;
        case ConfigKind::Choice:
        case ConfigKind::String: value = static_cast<QComboBox*>(e)->currentText().trimmed(); break;
        }
        auto st = c.set(field.key, value.toStdString());
        if (!st.ok()) {
            if (error) *error = QString::fromStdString(st.error().to_string());
            return false;
        }
    }
    *out = c;
    return true;
}

void TrainingPanel::setModelDir(const QString& dir) {
    m_modelDir->setText(dir);
    checkModelDir();
}
void TrainingPanel::setAdapterDir(const QString& dir) { m_adapterDir->setText(dir); }
void TrainingPanel::setOutputDir(const QString& dir) { m_outDir->setText(dir); }
void TrainingPanel::setStage(matrix::train::Stage stage) {
    m_stage->setCurrentIndex(stage == matrix::train::Stage::Sft ? 0 : 1);
}
void TrainingPanel::setDataset(const QString& name) { m_dataset->setCurrentText(name); }
QString TrainingPanel::modelInfoText() const { return m_modelInfo->text(); }
bool TrainingPanel::isTraining() const {
    return (m_worker && m_worker->isRunning()) || (m_followed != 0 && m_followedState != "finished" &&
                                                   m_followedState != "failed" && m_followedState != "cancelled");
}
int TrainingPanel::chartPointCount() const { return m_charts->livePointCount(); }

void TrainingPanel::checkModelDir() {
    const QString dir = m_modelDir->text().trimmed();
    if (dir.isEmpty()) {
        m_modelInfo->setText(tr("no model chosen"));
        m_modelInfo->setStyleSheet("color: gray");
        return;
    }
    auto info = matrix::train::inspect_model_dir(dir.toStdString());
    if (!info.ok()) {
        m_modelInfo->setText(QString::fromStdString(info.error().to_string()));
        m_modelInfo->setStyleSheet("color: #b00020");
        return;
    }
    m_modelInfo->setText(QString::fromStdString(info->summary()));
    m_modelInfo->setStyleSheet(info->has_tokenizer ? "color: #006400" : "color: #b00020");
}

void TrainingPanel::onStageChanged() {
    const bool dpo = m_stage->currentData().toString() == "dpo";
    for (const auto& field : matrix::train::config_fields()) {
        const QString key = QString::fromStdString(field.key);
        const bool show = !field.dpo_only || dpo;
        const bool hideForDpo = dpo && key == "verdict_filter";
        m_fields[key]->setVisible(show && !hideForDpo);
        m_fieldLabels[key]->setVisible(show && !hideForDpo);
    }
    if (m_charts && !isTraining()) m_charts->setDpoVisible(dpo);
}

void TrainingPanel::setBusy(bool busy) {
    m_train->setEnabled(!busy);
    m_resume->setEnabled(!busy);
    m_continue->setEnabled(!busy);
    m_pause->setEnabled(busy);
    m_cancel->setEnabled(busy);
}

void TrainingPanel::launch(const matrix::train::TrainRequest& request) {
    if (isTraining()) return;
    if (runMode() != "thread") {
        launchJob(request);
        return;
    }
    m_log->clear();
    m_charts->resetLive(request.stage == matrix::train::Stage::Dpo || request.resume_run.has_value());
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progressText->setText(tr("starting..."));
    m_worker->setRequest(request);
    setBusy(true);
    QMetaObject::invokeMethod(m_worker, &TrainingWorker::start, Qt::QueuedConnection);
}

void TrainingPanel::startTraining() {
    m_formError->clear();
    TrainingConfig config;
    QString error;
    if (!collectConfig(&config, &error)) {
        m_formError->setText(error);
        return;
    }
    matrix::train::TrainRequest req;
    req.stage = m_stage->currentData().toString() == "dpo" ? matrix::train::Stage::Dpo : matrix::train::Stage::Sft;
    req.db_path = m_projectPath.toStdString();
    req.dataset = m_dataset->currentText().toStdString();
    req.model_dir = m_modelDir->text().trimmed().toStdString();
    req.adapter_dir = m_adapterDir->text().trimmed().toStdString();
    req.out_dir = m_outDir->text().trimmed().toStdString();
    req.config = config;
    if (m_projectPath.isEmpty()) error = tr("no project open");
    else if (req.model_dir.empty()) error = tr("choose a base model directory");
    else if (req.dataset.empty()) error = tr("choose a dataset");
    else if (req.out_dir.empty()) error = tr("choose an output directory");
    if (!error.isEmpty()) {
        m_formError->setText(error);
        return;
    }
    launch(req);
}

void TrainingPanel::pauseTraining() {
    if (m_followed != 0 && isTraining()) {
        const QString action = m_follower->togglePause();
        if (!action.isEmpty()) m_progressText->setText(action == "resume" ? tr("continuing...") : tr("pausing..."));
        return;
    }
    if (m_worker) m_worker->pause();
    m_progressText->setText(tr("pausing after this step..."));
}

void TrainingPanel::cancelTraining() {
    if (m_followed != 0 && isTraining()) {
        if (m_follower->cancel()) m_progressText->setText(tr("cancelling (the run checkpoints and stays resumable)..."));
        return;
    }
    if (m_worker) m_worker->cancel();
    m_progressText->setText(tr("cancelling..."));
}

void TrainingPanel::resumeSelected() {
    const auto rows = m_history->selectionModel()->selectedRows();
    if (rows.isEmpty()) {
        m_formError->setText(tr("select a run in the history to resume"));
        return;
    }
    matrix::train::TrainRequest req;
    req.db_path = m_projectPath.toStdString();
    req.resume_run = m_runs->runId(rows.first().row());
    launch(req);
}

void TrainingPanel::continueSelected() {
    const auto rows = m_history->selectionModel()->selectedRows();
    if (rows.isEmpty()) {
        m_formError->setText(tr("select a finished run to continue"));
        return;
    }
    matrix::train::TrainRequest req;
    req.db_path = m_projectPath.toStdString();
    req.resume_run = m_runs->runId(rows.first().row());
    req.extra_epochs = m_moreEpochs->value();
    launch(req);
}

void TrainingPanel::onStep(const QVariantMap& r) {
    if (!m_charts->hasLive()) m_charts->resetLive(r.contains("rewards/margin"));
    if (const qint64 run = r.value("run_id").toLongLong(); run > 0 && run != m_rankRun) showRanks(run);
    const double step = r.value("step").toDouble();
    if (r.value("eval").toBool()) {
        m_charts->appendEval(step, r.value("loss").toDouble());
    } else {
        m_charts->appendStep(step, r.value("loss").toDouble(), r.value("lr").toDouble());
        if (r.contains("rewards/margin"))
            m_charts->appendDpo(step, r.value("rewards/margin").toDouble(), r.value("rewards/accuracy").toDouble());
    }
    const int total = r.value("total_steps").toInt();
    m_progress->setRange(0, std::max(1, total));
    m_progress->setValue(int(step));
    m_progressText->setText(tr("step %1/%2 · epoch %3 · %4 tok/s · ETA %5")
                                .arg(int(step))
                                .arg(total)
                                .arg(r.value("epoch").toInt() + 1)
                                .arg(r.value("tokens_per_s").toDouble(), 0, 'f', 0)
                                .arg(formatTrainingDuration(r.value("eta_s").toDouble())));
}

void TrainingPanel::onLog(const QString& line) { m_log->appendPlainText(line); }

void TrainingPanel::onFinished(const QString& status, qint64 runId, const QString& message) {
    setBusy(false);
    if (status == "failed") {
        m_progressText->setText(tr("failed"));
        m_formError->setText(message);
        m_log->appendPlainText("error: " + message);
    } else {
        m_progressText->setText(status == "finished" ? tr("finished: adapter in %1").arg(message) : status);
        if (status == "finished") m_progress->setValue(m_progress->maximum());
    }
    m_runs->refresh();
    if (runId > 0) showRanks(runId);
    emit trainingFinished(status, runId, message);
}

void TrainingPanel::showSelectedRuns() {
    if (isTraining()) return;
    const auto rows = m_history->selectionModel()->selectedRows();
    if (rows.isEmpty()) return;
    QVector<qint64> ids;
    for (const auto& idx : rows.mid(0, 2)) ids << m_runs->runId(idx.row());  // at most two runs overlaid
    showRanks(ids.front());
    const QStringList metrics{"loss", "eval_loss", "lr", "rewards/margin", "rewards/accuracy"};
    m_runs->loadCurves(ids, metrics, this, [this, ids](const TrainingRunsModel::Curves& loaded) {
        if (isTraining()) return;
        QVector<TrainingCharts::RunCurves> curves;
        for (qint64 id : ids) {
            TrainingCharts::RunCurves c;
            c.runId = id;
            c.series = loaded.value(id);
            curves.push_back(c);
        }
        m_charts->showRuns(curves);
        emit curvesShown();
    });
    // Show the first selected run's settings in the form.
    if (const auto* run = m_runs->run(rows.first().row())) {
        auto j = nlohmann::json::parse(run->config, nullptr, false);
        if (j.is_object() && j.contains("training")) {
            auto cfg = TrainingConfig::from_json(j["training"]);
            if (cfg.ok()) applyConfig(*cfg);
        }
    }
}

}  // namespace matrix::ui
