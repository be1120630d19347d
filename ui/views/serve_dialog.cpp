// The "Start Local Server" form (see serve_dialog.h).
#include "ui/views/serve_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "ui/settings.h"

namespace matrix::ui {

ServeDialog::ServeDialog(QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Start Local Server"));
    auto* form = new QFormLayout;
    m_model = new QLineEdit(Settings().agentModelDir());
    m_model->setPlaceholderText(tr("Qwen2-VL checkpoint folder"));
    auto* browse = new QPushButton(tr("Browse..."));
    auto* row = new QHBoxLayout;
    row->addWidget(m_model, 1);
    row->addWidget(browse);
    form->addRow(tr("&Model folder:"), row);
    m_adapters = new QPlainTextEdit;
    m_adapters->setPlaceholderText(tr("one adapter per line: NAME=/path/to/peft-adapter"));
    m_adapters->setFixedHeight(60);
    form->addRow(tr("&Adapters:"), m_adapters);
    m_host = new QLineEdit(QStringLiteral("127.0.0.1"));
    m_host->setToolTip(tr("127.0.0.1 serves this machine only; 0.0.0.0 every network interface"));
    form->addRow(tr("&Host:"), m_host);
    m_port = new QSpinBox;
    m_port->setRange(0, 65535);
    m_port->setValue(8000);
    m_port->setSpecialValueText(tr("any free port"));
    form->addRow(tr("&Port:"), m_port);
    m_device = new QComboBox;
    m_device->addItems({QStringLiteral("cpu"), QStringLiteral("cuda")});
    form->addRow(tr("&Device:"), m_device);
    m_maxBatch = new QSpinBox;
    m_maxBatch->setRange(1, 512);
    m_maxBatch->setValue(32);
    m_maxBatch->setToolTip(tr("Sequences decoded together (a request with n candidates takes n)"));
    form->addRow(tr("Max &batch:"), m_maxBatch);
    m_why = new QLabel;
    m_why->setObjectName("serve_why");
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
    m_start = buttons->addButton(tr("&Start"), QDialogButtonBox::AcceptRole);
    m_start->setDefault(true);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_why);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString d = QFileDialog::getExistingDirectory(this, tr("Model folder"), m_model->text());
        if (!d.isEmpty()) m_model->setText(d);
    });
    connect(m_model, &QLineEdit::textChanged, this, &ServeDialog::revalidate);
    connect(m_adapters, &QPlainTextEdit::textChanged, this, &ServeDialog::revalidate);
    connect(m_host, &QLineEdit::textChanged, this, &ServeDialog::revalidate);
    revalidate();
}

LocalServerOptions ServeDialog::options() const {
    LocalServerOptions o;
    o.modelDir = m_model->text().trimmed();
    for (const QString& line : m_adapters->toPlainText().split('\n', Qt::SkipEmptyParts))
        if (!line.trimmed().isEmpty()) o.adapters << line.trimmed();
    o.host = m_host->text().trimmed();
    o.port = m_port->value();
    o.device = m_device->currentText();
    o.maxBatch = m_maxBatch->value();
    return o;
}

QString ServeDialog::validationMessage() const {
    const LocalServerOptions o = options();
    if (o.modelDir.isEmpty()) return tr("Choose the model folder.");
    if (!QFileInfo(o.modelDir + "/config.json").isFile()) return tr("The model folder has no config.json.");
    for (const QString& a : o.adapters) {
        const int eq = a.indexOf('=');
        if (eq <= 0 || eq == a.size() - 1) return tr("Adapters are NAME=DIR: %1").arg(a);
    }
    if (o.host.isEmpty()) return tr("Enter the host to listen on.");
    return {};
}

void ServeDialog::revalidate() {
    const QString why = validationMessage();
    m_why->setText(why);
    m_start->setEnabled(why.isEmpty());
}

}  // namespace matrix::ui
