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
#include <QTableView>
#include <QThread>
#include <QVBoxLayout>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/training/trainer.h"
#include "ui/models/training_runs_model.h"
#include "ui/workers/training_worker.h"

namespace matrix::ui {

using matrix::train::ConfigKind;
using matrix::train::TrainingConfig;

namespace {

QChart* makeChart(const QString& title) {
    auto* c = new QChart();
    c->setTitle(title);
    c->legend()->setAlignment(Qt::AlignBottom);
    c->setMargins(QMargins(4, 4, 4, 4));
    auto* x = new QValueAxis();
    x->setTitleText("step");
    x->setLabelFormat("%d");
    // Until a run reports, whole steps 0..10 rather than 0..1 (which "%d" would label 0 0 0 0 1).
    x->setRange(0, 10);
    x->setTickCount(6);
    auto* y = new QValueAxis();
    c->addAxis(x, Qt::AlignBottom);
    c->addAxis(y, Qt::AlignLeft);
    return c;
}

QLineSeries* addSeries(QChart* chart, const QString& name, QColor color = QColor()) {
    auto* s = new QLineSeries();
    s->setName(name);
    if (color.isValid()) s->setColor(color);
    chart->addSeries(s);
    for (auto* a : chart->axes()) s->attachAxis(a);
    return s;
}

// Fits both axes of a chart to its series.
void fitChart(QChart* chart) {
    double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    bool any = false;
    for (auto* as : chart->series()) {
        auto* s = qobject_cast<QLineSeries*>(as);
        if (!s) continue;
        for (const QPointF& p : s->points()) {
            if (!std::isfinite(p.y())) continue;
            if (!any) {
                x0 = x1 = p.x();
                y0 = y1 = p.y();
                any = true;
            }
            x0 = std::min(x0, p.x());
            x1 = std::max(x1, p.x());
            y0 = std::min(y0, p.y());
            y1 = std::max(y1, p.y());
        }
    }
    if (!any) return;
    if (x1 <= x0) x1 = x0 + 1;
    const double pad = (y1 - y0) * 0.05 + 1e-12;
    auto h = chart->axes(Qt::Horizontal), v = chart->axes(Qt::Vertical);
    if (!h.isEmpty()) {
        h.first()->setRange(x0, x1);
        // Integer step labels need integer tick spacing: nice numbers give 0, 20, 40 ... instead of 0, 12.5 ...
        if (auto* axis = qobject_cast<QValueAxis*>(h.first())) axis->applyNiceNumbers();
    }
    if (!v.isEmpty()) v.first()->setRange(y0 - pad, y1 + pad);
}

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

QString formatDuration(double s) {
    if (!std::isfinite(s) || s < 0) return "?";
    const qint64 t = qint64(s + 0.5);
    return t >= 3600 ? QString("%1h%2m").arg(t / 3600).arg(t / 60 % 60, 2, 10, QChar('0'))
                     : QString("%1m%2s").arg(t / 60).arg(t % 60, 2, 10, QChar('0'));
}

}  // namespace

TrainingPanel::TrainingPanel(QWidget* parent) : QWidget(parent) {
    m_runs = new TrainingRunsModel(this);
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
    auto* grid = new QGridLayout();
    m_lossChart = makeChart(tr("Loss"));
    m_lrChart = makeChart(tr("Learning rate"));
    m_dpoChart = makeChart(tr("DPO reward margin / accuracy"));
    auto view = [&](QChart* c) {
        auto* cv = new QChartView(c, w);
        cv->setRenderHint(QPainter::Antialiasing);
        cv->setMinimumSize(260, 200);
        return cv;
    };
    grid->addWidget(view(m_lossChart), 0, 0);
    grid->addWidget(view(m_lrChart), 0, 1);
    m_dpoView = view(m_dpoChart);
    grid->addWidget(m_dpoView, 1, 0, 1, 2);
    v->addLayout(grid, 3);
    resetLiveCharts(false);

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
    m_history->setModel(m_runs);
    m_history->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_history->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_history->horizontalHeader()->setStretchLastSection(true);
    m_history->verticalHeader()->hide();
    m_history->setToolTip(tr("Select a run to show its curves; select two to overlay them"));
    connect(m_history->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &TrainingPanel::showSelectedRuns);
    bottom->addWidget(m_log);
    bottom->addWidget(m_history);
    v->addWidget(bottom, 2);
    return w;
}

void TrainingPanel::resetLiveCharts(bool dpo) {
    for (QChart* c : {m_lossChart, m_lrChart, m_dpoChart}) c->removeAllSeries();
    m_loss = addSeries(m_lossChart, tr("train loss"), QColor(31, 119, 180));
    m_evalLoss = addSeries(m_lossChart, tr("eval loss"), QColor(255, 127, 14));
    m_lr = addSeries(m_lrChart, tr("lr"), QColor(44, 160, 44));
    m_margin = addSeries(m_dpoChart, tr("margin"), QColor(148, 103, 189));
    m_accuracy = addSeries(m_dpoChart, tr("accuracy"), QColor(214, 39, 40));
    m_dpoView->setVisible(dpo);
}

void TrainingPanel::setProjectPath(const QString& path) {
    m_projectPath = path;
    QString error;
    if (!m_runs->setProjectPath(path, &error)) {
        m_formError->setText(tr("cannot open project: %1").arg(error));
        return;
    }
    const QString current = m_dataset->currentText();
    m_dataset->clear();
    m_dataset->addItems(m_runs->datasetNames());
    if (!current.isEmpty()) m_dataset->setCurrentText(current);
    m_history->resizeColumnsToContents();
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
bool TrainingPanel::isTraining() const { return m_worker && m_worker->isRunning(); }
int TrainingPanel::chartPointCount() const { return m_loss ? int(m_loss->count()) : 0; }

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
    if (m_dpoView && !isTraining()) m_dpoView->setVisible(dpo);
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
    m_log->clear();
    resetLiveCharts(request.stage == matrix::train::Stage::Dpo || request.resume_run.has_value());
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
    if (m_worker) m_worker->pause();
    m_progressText->setText(tr("pausing after this step..."));
}

void TrainingPanel::cancelTraining() {
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
    if (!m_loss) resetLiveCharts(r.contains("rewards/margin"));
    const double step = r.value("step").toDouble();
    if (r.value("eval").toBool()) {
        m_evalLoss->append(step, r.value("loss").toDouble());
    } else {
        m_loss->append(step, r.value("loss").toDouble());
        m_lr->append(step, r.value("lr").toDouble());
        if (r.contains("rewards/margin")) {
            m_dpoView->setVisible(true);
            m_margin->append(step, r.value("rewards/margin").toDouble());
            m_accuracy->append(step, r.value("rewards/accuracy").toDouble());
        }
    }
    fitAxes();
    const int total = r.value("total_steps").toInt();
    m_progress->setRange(0, std::max(1, total));
    m_progress->setValue(int(step));
    m_progressText->setText(tr("step %1/%2 · epoch %3 · %4 tok/s · ETA %5")
                                .arg(int(step))
                                .arg(total)
                                .arg(r.value("epoch").toInt() + 1)
                                .arg(r.value("tokens_per_s").toDouble(), 0, 'f', 0)
                                .arg(formatDuration(r.value("eta_s").toDouble())));
}

void TrainingPanel::fitAxes() {
    for (QChart* c : {m_lossChart, m_lrChart, m_dpoChart}) fitChart(c);
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
    m_history->resizeColumnsToContents();
    emit trainingFinished(status, runId, message);
}

void TrainingPanel::showSelectedRuns() {
    if (isTraining()) return;
    const auto rows = m_history->selectionModel()->selectedRows();
    if (rows.isEmpty()) return;
    for (QChart* c : {m_lossChart, m_lrChart, m_dpoChart}) c->removeAllSeries();
    static const QColor colors[] = {QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44), QColor(214, 39, 40)};
    bool dpo = false;
    int k = 0;
    for (const auto& idx : rows.mid(0, 2)) {  // at most two runs overlaid
        const qint64 id = m_runs->runId(idx.row());
        const QColor col = colors[k % 4];
        const QString tag = tr("run %1").arg(id);
        auto fill = [&](QChart* chart, const QString& metric, const QString& name, QColor color) {
            auto pts = m_runs->series(id, metric);
            if (pts.isEmpty()) return (QLineSeries*)nullptr;
            auto* s = addSeries(chart, name, color);
            s->replace(pts);
            return s;
        };
        m_loss = fill(m_lossChart, "loss", tag + " loss", col);
        fill(m_lossChart, "eval_loss", tag + " eval", col.lighter(140));
        m_lr = fill(m_lrChart, "lr", tag, col);
        if (fill(m_dpoChart, "rewards/margin", tag + " margin", col)) dpo = true;
        fill(m_dpoChart, "rewards/accuracy", tag + " acc", col.darker(140));
        ++k;
    }
    m_dpoView->setVisible(dpo);
    fitAxes();
    // Show the first selected run's settings in the form.
    if (const auto* run = m_runs->run(rows.first().row())) {
        auto j = nlohmann::json::parse(run->config, nullptr, false);
        if (j.is_object() && j.contains("training")) {
            auto cfg = TrainingConfig::from_json(j["training"]);
            if (cfg.ok()) applyConfig(*cfg);
        }
    }
    // The live series are rebuilt by the next launch(); until then nothing appends to these charts.
    m_evalLoss = m_margin = m_accuracy = m_loss = m_lr = nullptr;
}

}  // namespace matrix::ui
