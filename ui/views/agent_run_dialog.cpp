// AgentRunDialog implementation (see agent_run_dialog.h).
#include "ui/views/agent_run_dialog.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QHash>
#include <QSignalBlocker>
#include <QTimer>
#include <QUrl>
#include <QColor>

#include <limits>
#include <QVBoxLayout>

#include "core/agent/agent_job.h"
#include "ui/settings.h"

namespace matrix::ui {

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }

// A line edit with a "Browse..." button on its right.
QWidget* withButton(QLineEdit* edit, QPushButton* button) {
    auto* w = new QWidget;
    auto* h = new QHBoxLayout(w);
    h->setContentsMargins(0, 0, 0, 0);
    h->addWidget(edit, 1);
    h->addWidget(button);
    return w;
}
}  // namespace

bool AgentRunDialog::localControllerAvailable(QString* why) {
#ifdef MATRIX_HAVE_TORCH
    (void)why;
    return true;
#else
    if (why) *why = tr("This build has no LibTorch engine (configured with MATRIX_WITH_TORCH=OFF), so it cannot run a local model.");
    return false;
#endif
}

bool AgentRunDialog::endpointControllerAvailable(QString* why) {
    (void)why;  // core/agent/endpoint_controller.h is part of matrix_core: every build has it
    return true;
}

AgentRunDialog::AgentRunDialog(qint64 taskId, const QString& taskTitle, QWidget* parent)
    : QDialog(parent), m_taskId(taskId) {
    setWindowTitle(tr("Run Agent on Task"));
    setObjectName("AgentRunDialog");
    auto* outer = new QVBoxLayout(this);
    auto* title = new QLabel(tr("<b>Task:</b> %1").arg(taskTitle.toHtmlEscaped()), this);
    title->setWordWrap(true);
    outer->addWidget(title);

    auto* columns = new QHBoxLayout;
    auto* left = new QVBoxLayout;
    left->addWidget(buildController());
    left->addWidget(buildPrompt());
    left->addWidget(buildLimits());
    left->addStretch(1);
    auto* right = new QVBoxLayout;
    right->addWidget(buildTools(), 1);
    right->addWidget(buildSampling());
    columns->addLayout(left, 1);
    columns->addLayout(right, 1);
    outer->addLayout(columns, 1);

    m_validation = new QLabel(this);
    m_validation->setWordWrap(true);
    m_validation->setStyleSheet(QStringLiteral("color:#b3261e"));
    outer->addWidget(m_validation);

    auto* buttons = new QDialogButtonBox(this);
    m_run = buttons->addButton(tr("&Run"), QDialogButtonBox::AcceptRole);
    m_run->setDefault(true);
    m_run->setAutoDefault(true);
    QPushButton* cancel = buttons->addButton(QDialogButtonBox::Cancel);
    cancel->setAutoDefault(false);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    outer->addWidget(buttons);

    Settings s;
    m_modelDir->setText(s.agentModelDir());
    m_adapterDir->setText(s.agentAdapterDir());
    m_endpointUrl->setText(s.agentEndpointUrl());
    m_endpointModel->setText(s.agentEndpointModel());
    for (QLineEdit* e : {m_modelDir, m_adapterDir, m_endpointUrl, m_endpointModel, m_promptFile})
        connect(e, &QLineEdit::textChanged, this, &AgentRunDialog::validate);
    connect(m_tools, &QListWidget::itemChanged, this, &AgentRunDialog::validate);
    validate();
    m_modelDir->setFocus();
}

QWidget* AgentRunDialog::buildController() {
    auto* box = new QGroupBox(tr("Controller"), this);
    auto* f = new QFormLayout(box);
    m_local = new QRadioButton(tr("&Local model"), box);
    m_endpoint = new QRadioButton(tr("E&ndpoint"), box);
    auto* group = new QButtonGroup(box);
    group->addButton(m_local);
    group->addButton(m_endpoint);
    m_modelDir = new QLineEdit(box);
    m_modelDir->setPlaceholderText(tr("Qwen2-VL checkpoint folder (config.json, *.safetensors)"));
    m_modelBrowse = new QPushButton(tr("&Browse..."), box);
    m_adapterDir = new QLineEdit(box);
    m_adapterDir->setPlaceholderText(tr("optional: a PEFT LoRA adapter folder (SFT / DPO output)"));
    m_adapterBrowse = new QPushButton(tr("Br&owse..."), box);
    m_endpointUrl = new QLineEdit(box);
    m_endpointUrl->setPlaceholderText(tr("http://host:8000/v1 (OpenAI-compatible)"));
    m_endpointModel = new QLineEdit(box);
    m_endpointModel->setPlaceholderText(tr("model name the server knows"));
    f->addRow(m_local);
    auto* modelLabel = new QLabel(tr("&Model folder:"), box);
    modelLabel->setBuddy(m_modelDir);
    f->addRow(modelLabel, withButton(m_modelDir, m_modelBrowse));
    auto* adapterLabel = new QLabel(tr("&Adapter folder:"), box);
    adapterLabel->setBuddy(m_adapterDir);
    f->addRow(adapterLabel, withButton(m_adapterDir, m_adapterBrowse));
    f->addRow(m_endpoint);
    f->addRow(tr("URL:"), m_endpointUrl);
    f->addRow(tr("Model name:"), m_endpointModel);

    QString why;
    const bool local = localControllerAvailable(&why);
    for (QWidget* w : std::initializer_list<QWidget*>{m_local, m_modelDir, m_modelBrowse, m_adapterDir, m_adapterBrowse}) {
        w->setEnabled(local);
        if (!local) w->setToolTip(why);
    }
    const bool endpoint = endpointControllerAvailable(&why);
    if (!endpoint) m_endpoint->setText(tr("E&ndpoint (not in this build yet)"));
    if (!local) m_local->setText(tr("&Local model (this build has no LibTorch)"));
    for (QWidget* w : std::initializer_list<QWidget*>{m_endpoint, m_endpointUrl, m_endpointModel}) {
        w->setEnabled(endpoint);
        if (!endpoint) w->setToolTip(why);
    }
    (local || !endpoint ? m_local : m_endpoint)->setChecked(true);
    auto toggle = [this] {
        const bool isLocal = m_local->isChecked();
        QString unused;
        const bool canLocal = localControllerAvailable(&unused), canEndpoint = endpointControllerAvailable(&unused);
        for (QWidget* w : std::initializer_list<QWidget*>{m_modelDir, m_modelBrowse, m_adapterDir, m_adapterBrowse})
            w->setEnabled(isLocal && canLocal);
        for (QWidget* w : std::initializer_list<QWidget*>{m_endpointUrl, m_endpointModel}) w->setEnabled(!isLocal && canEndpoint);
        validate();
    };
    connect(m_local, &QRadioButton::toggled, this, toggle);
    toggle();
    connect(m_modelBrowse, &QPushButton::clicked, this, [this] { browseDir(m_modelDir, tr("Model folder")); });
    connect(m_adapterBrowse, &QPushButton::clicked, this, [this] { browseDir(m_adapterDir, tr("Adapter folder")); });
    return box;
}

QWidget* AgentRunDialog::buildTools() {
    auto* box = new QGroupBox(tr("Tools"), this);
    auto* v = new QVBoxLayout(box);
    m_tools = new QListWidget(box);
    m_tools->setAccessibleName(tr("Tools offered to the agent"));
    v->addWidget(m_tools, 1);
    m_toolsNote = new QLabel(box);
    m_toolsNote->setWordWrap(true);
    m_toolsNote->setStyleSheet(QStringLiteral("color:#8a5a00"));
    v->addWidget(m_toolsNote);
    m_toolsTimer = new QTimer(this);
    m_toolsTimer->setSingleShot(true);
    m_toolsTimer->setInterval(300);
    connect(m_toolsTimer, &QTimer::timeout, this, &AgentRunDialog::refreshTools);
    for (QLineEdit* e : {m_modelDir, m_endpointUrl, m_endpointModel})
        connect(e, &QLineEdit::textChanged, m_toolsTimer, qOverload<>(&QTimer::start));
    connect(m_local, &QRadioButton::toggled, m_toolsTimer, qOverload<>(&QTimer::start));
    refreshTools();
    return box;
}

void AgentRunDialog::refreshTools() {
    QHash<QString, Qt::CheckState> checked;
    for (int i = 0; i < m_tools->count(); ++i) checked[m_tools->item(i)->data(Qt::UserRole).toString()] = m_tools->item(i)->checkState();
    QSignalBlocker block(m_tools);
    m_tools->clear();
    nlohmann::json controller;
    if (m_local->isChecked())
        controller = {{"kind", "local"}, {"model", m_modelDir->text().trimmed().toStdString()}};
    else
        controller = {{"kind", "endpoint"}, {"url", m_endpointUrl->text().trimmed().toStdString()},
                      {"model", m_endpointModel->text().trimmed().toStdString()}};
    QStringList problems;
    auto host = agent::tool_host_described(controller);
    if (!host.ok()) problems << tr("Tool settings: %1").arg(qs(host.error().to_string()));
    agent::PluginLoadReport report;
    auto registry = agent::agent_tool_registry({}, host.ok() ? *host : agent::ToolHost{}, &report);
    for (const std::string& e : report.errors()) problems << tr("Tool plugin not loaded: %1").arg(qs(e));
    int unavailable = 0, total = 0;
    if (registry.ok()) {
        for (const auto& tool : registry->tools()) {
            const agent::ToolSpec spec = tool->spec();
            const agent::ToolStatus st = tool->status();
            ++total;
            if (!st.available) ++unavailable;
            auto* item = new QListWidgetItem(
                st.available ? tr("%1 \u00b7 %2").arg(qs(spec.name), qs(st.backend)) : tr("%1 \u00b7 unavailable").arg(qs(spec.name)), m_tools);
            item->setData(Qt::UserRole, qs(spec.name));
            item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
            item->setCheckState(checked.value(qs(spec.name), Qt::Checked));
            item->setToolTip(qs(spec.description) + QStringLiteral("\n\n") +
                             (st.available ? tr("Backend: %1").arg(qs(st.backend)) : tr("Unavailable: %1").arg(qs(st.reason))));
            if (!st.available) item->setForeground(QColor(0x77, 0x77, 0x77));
        }
    }
    QString note;
    if (unavailable == total && total > 0)
        note = tr("No tool has a backend in this installation (no tool plugins found): the agent is told about the "
                  "checked ones, and a call to one fails with that reason.");
    else
        note = tr("%1 of %2 tools have a backend here; hover over a tool for its backend or why it is unavailable.")
                   .arg(total - unavailable).arg(total);
    if (!problems.isEmpty()) note += QStringLiteral("\n") + problems.join(QStringLiteral("\n"));
    m_toolsNote->setText(note);
}

QWidget* AgentRunDialog::buildLimits() {
    auto* box = new QGroupBox(tr("Limits"), this);
    auto* f = new QFormLayout(box);
    const agent::LoopSettings loop;
    const agent::SandboxOptions sandbox;
    m_maxSteps = new QSpinBox(box);
    m_maxSteps->setRange(1, 100);
    m_maxSteps->setValue(loop.max_steps);
    m_maxErrors = new QSpinBox(box);
    m_maxErrors->setRange(1, 100);
    m_maxErrors->setValue(loop.max_errors);
    m_stepTimeout = new QDoubleSpinBox(box);
    m_stepTimeout->setRange(1, 3600);
    m_stepTimeout->setDecimals(0);
    m_stepTimeout->setSuffix(tr(" s"));
    m_stepTimeout->setValue(sandbox.step_timeout_s);
    m_stepTimeout->setToolTip(tr("Wall clock per step of the agent's code, not counting time spent in tools"));
    f->addRow(tr("Max &steps:"), m_maxSteps);
    f->addRow(tr("Max &errors:"), m_maxErrors);
    f->addRow(tr("Step &timeout:"), m_stepTimeout);
    return box;
}

QWidget* AgentRunDialog::buildSampling() {
    auto* box = new QGroupBox(tr("Sampling"), this);
    auto* f = new QFormLayout(box);
    const agent::GenerationSettings gen;
    const agent::SamplingGroup g;
    m_greedy = new QCheckBox(tr("&Greedy (no sampling)"), box);
    m_greedy->setChecked(!g.do_sample);
    m_temperature = new QDoubleSpinBox(box);
    m_temperature->setRange(0.01, 2.0);
    m_temperature->setSingleStep(0.05);
    m_temperature->setValue(g.temperature);
    m_topP = new QDoubleSpinBox(box);
    m_topP->setRange(0.01, 1.0);
    m_topP->setSingleStep(0.05);
    m_topP->setValue(g.top_p);
    m_topK = new QSpinBox(box);
    m_topK->setRange(0, 100000);
    m_topK->setValue(g.top_k);
    m_topK->setToolTip(tr("0: no top-k cut"));
    m_repetitionPenalty = new QDoubleSpinBox(box);
    m_repetitionPenalty->setRange(1.0, 2.0);
    m_repetitionPenalty->setSingleStep(0.01);
    m_repetitionPenalty->setValue(g.repetition_penalty);
    m_maxNewTokens = new QSpinBox(box);
    m_maxNewTokens->setRange(1, 32768);
    m_maxNewTokens->setValue(gen.max_new_tokens);
    m_seed = new QSpinBox(box);
    m_seed->setRange(0, std::numeric_limits<int>::max());
    m_seed->setValue(int(gen.seed));
    m_seed->setToolTip(tr("Call k of the run samples with seed + k: a run is reproducible"));
    f->addRow(m_greedy);
    f->addRow(tr("Temperat&ure:"), m_temperature);
    f->addRow(tr("Top-p:"), m_topP);
    f->addRow(tr("Top-k:"), m_topK);
    f->addRow(tr("Repetition penalty:"), m_repetitionPenalty);
    f->addRow(tr("Max new to&kens:"), m_maxNewTokens);
    f->addRow(tr("See&d:"), m_seed);
    connect(m_greedy, &QCheckBox::toggled, this, [this](bool greedy) {
        for (QWidget* w : std::initializer_list<QWidget*>{m_temperature, m_topP, m_topK}) w->setEnabled(!greedy);
    });
    return box;
}

QWidget* AgentRunDialog::buildPrompt() {
    auto* box = new QGroupBox(tr("System prompt"), this);
    auto* f = new QFormLayout(box);
    m_systemPrompt = new QComboBox(box);
    m_systemPrompt->addItem(tr("Auto (the task dataset's prompt, else the bundled one)"), QStringLiteral("auto"));
    m_systemPrompt->addItem(tr("The task dataset's prompt"), QStringLiteral("dataset"));
    m_systemPrompt->addItem(tr("The bundled MATRIX prompt"), QStringLiteral("bundled"));
    m_systemPrompt->addItem(tr("From a file..."), QStringLiteral("file"));
    m_systemPrompt->setToolTip(tr("A checkpoint tuned on a dataset expects that dataset's prompt, byte for byte"));
    m_promptFile = new QLineEdit(box);
    m_promptFile->setPlaceholderText(tr("a text file with the system prompt"));
    m_promptBrowse = new QPushButton(tr("Bro&wse..."), box);
    f->addRow(tr("&Prompt:"), m_systemPrompt);
    f->addRow(tr("File:"), withButton(m_promptFile, m_promptBrowse));
    auto update = [this] {
        const bool file = m_systemPrompt->currentData().toString() == QLatin1String("file");
        m_promptFile->setEnabled(file);
        m_promptBrowse->setEnabled(file);
        validate();
    };
    connect(m_systemPrompt, &QComboBox::currentIndexChanged, this, update);
    connect(m_promptBrowse, &QPushButton::clicked, this, [this] {
        const QString f = QFileDialog::getOpenFileName(this, tr("System prompt file"), m_promptFile->text(),
                                                       tr("Text files (*.txt *.md);;All files (*)"));
        if (!f.isEmpty()) m_promptFile->setText(f);
    });
    m_promptFile->setEnabled(false);
    m_promptBrowse->setEnabled(false);
    return box;
}

void AgentRunDialog::browseDir(QLineEdit* edit, const QString& title) {
    const QString d = QFileDialog::getExistingDirectory(this, title, edit->text());
    if (!d.isEmpty()) edit->setText(d);
}

QString AgentRunDialog::validationMessage() const {
    if (!m_modelDir) return {};  // still building
    QString why;
    if (m_local->isChecked()) {
        if (!localControllerAvailable(&why)) return why;
        const QString model = m_modelDir->text().trimmed();
        if (model.isEmpty()) return tr("Choose the model folder: a Qwen2-VL checkpoint with config.json.");
        if (!QFileInfo(model).isDir()) return tr("The model folder %1 does not exist.").arg(model);
        if (!QFileInfo::exists(QDir(model).filePath(QStringLiteral("config.json"))))
            return tr("%1 has no config.json: not a model checkpoint folder.").arg(model);
        const QString adapter = m_adapterDir->text().trimmed();
        if (!adapter.isEmpty()) {
            if (!QFileInfo(adapter).isDir()) return tr("The adapter folder %1 does not exist.").arg(adapter);
            if (!QFileInfo::exists(QDir(adapter).filePath(QStringLiteral("adapter_config.json"))))
                return tr("%1 has no adapter_config.json: not a PEFT adapter folder.").arg(adapter);
        }
    } else {
        if (!endpointControllerAvailable(&why)) return why;
        const QUrl url(m_endpointUrl->text().trimmed());
        if (m_endpointUrl->text().trimmed().isEmpty()) return tr("Give the endpoint URL.");
        if (!url.isValid() || (url.scheme() != QLatin1String("http") && url.scheme() != QLatin1String("https")))
            return tr("The endpoint URL must start with http:// or https://.");
        if (m_endpointModel->text().trimmed().isEmpty()) return tr("Give the model name the endpoint serves.");
    }
    if (m_systemPrompt->currentData().toString() == QLatin1String("file")) {
        const QString f = m_promptFile->text().trimmed();
        if (f.isEmpty()) return tr("Choose the system prompt file.");
        if (!QFileInfo(f).isFile()) return tr("The system prompt file %1 does not exist.").arg(f);
    }
    return {};  // no tool checked is allowed: the agent then has Python and final_answer only
}

void AgentRunDialog::validate() {
    if (!m_run) return;
    const QString why = validationMessage();
    m_validation->setText(why);
    m_run->setEnabled(why.isEmpty());
    m_run->setToolTip(why.isEmpty() ? tr("Run the agent on this task (Return)") : why);
}

agent::AgentRunSettings AgentRunDialog::settings() const {
    agent::AgentRunSettings s;
    s.name = QStringLiteral("agent on task %1").arg(m_taskId).toStdString();
    if (m_local->isChecked()) {
        s.controller = {{"kind", "local"},
                        {"model", m_modelDir->text().trimmed().toStdString()},
                        {"adapter", m_adapterDir->text().trimmed().toStdString()}};
    } else {
        s.controller = {{"kind", "endpoint"},
                        {"url", m_endpointUrl->text().trimmed().toStdString()},
                        {"model", m_endpointModel->text().trimmed().toStdString()}};
    }
    for (int i = 0; i < m_tools->count(); ++i)
        if (m_tools->item(i)->checkState() == Qt::Checked) s.tools.push_back(m_tools->item(i)->data(Qt::UserRole).toString().toStdString());
    const QString prompt = m_systemPrompt->currentData().toString();
    s.system_prompt = prompt == QLatin1String("file") ? "file:" + m_promptFile->text().trimmed().toStdString() : prompt.toStdString();
    s.loop.max_steps = m_maxSteps->value();
    s.loop.max_errors = m_maxErrors->value();
    s.sandbox.step_timeout_s = m_stepTimeout->value();
    s.loop.generation.max_new_tokens = m_maxNewTokens->value();
    s.loop.generation.seed = uint64_t(m_seed->value());
    agent::SamplingGroup& g = s.loop.generation.groups.front();
    g.do_sample = !m_greedy->isChecked();
    g.temperature = m_temperature->value();
    g.top_p = m_topP->value();
    g.top_k = m_topK->value();
    g.repetition_penalty = m_repetitionPenalty->value();
    s.task_ids = {m_taskId};
    return s;
}

void AgentRunDialog::accept() {
    if (!validationMessage().isEmpty()) return;
    Settings st;
    st.setAgentModelDir(m_modelDir->text().trimmed());
    st.setAgentAdapterDir(m_adapterDir->text().trimmed());
    st.setAgentEndpointUrl(m_endpointUrl->text().trimmed());
    st.setAgentEndpointModel(m_endpointModel->text().trimmed());
    QDialog::accept();
}

}  // namespace matrix::ui
