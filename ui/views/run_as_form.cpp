// The "Run as" box (see run_as_form.h).
#include "ui/views/run_as_form.h"

#include <QComboBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>

#include <algorithm>

#include "ui/settings.h"

namespace matrix::ui {

RunAsForm::RunAsForm(const QString& dock, bool withThread, QWidget* parent, int columns)
    : QGroupBox(tr("Run as"), parent), m_dock(dock) {
    setObjectName(QStringLiteral("run_as_form"));
    auto* f = new QFormLayout(this);
    m_mode = new QComboBox(this);
    m_mode->setObjectName(QStringLiteral("run_as"));
    m_mode->addItem(tr("Job on this machine (keeps running when the window closes)"), QStringLiteral("local"));
    m_mode->addItem(tr("Slurm job"), QStringLiteral("slurm"));
    if (withThread) m_mode->addItem(tr("In this window (ends with it)"), QStringLiteral("thread"));
    m_mode->setToolTip(tr("A job is a `matrix` process of its own (here, or on a Slurm node through sbatch); the dock "
                          "follows it from the project"));
    f->addRow(tr("&Where"), m_mode);

    m_slurmForm = new QWidget(this);
    m_slurmForm->setObjectName(QStringLiteral("slurm_form"));
    // Compact rows of `columns` label / field pairs: the resources, then the limits and where they are billed.
    auto* grid = new QGridLayout(m_slurmForm);
    grid->setContentsMargins(0, 0, 0, 0);
    auto spin = [this](QSpinBox*& sb, const char* name, int lo, const QString& tip) {
        sb = new QSpinBox(m_slurmForm);
        sb->setObjectName(QLatin1String(name));
        sb->setRange(lo, 4096);
        sb->setToolTip(tip);
        return sb;
    };
    auto line = [this](QLineEdit*& le, const char* name, const QString& placeholder) {
        le = new QLineEdit(m_slurmForm);
        le->setObjectName(QLatin1String(name));
        le->setPlaceholderText(placeholder);
        return le;
    };
    columns = std::max(1, columns);
    int cell = 0;
    auto add = [&](const QString& text, QWidget* field) {
        auto* label = new QLabel(text, m_slurmForm);
        label->setBuddy(field);
        grid->addWidget(label, cell / columns, (cell % columns) * 2);
        grid->addWidget(field, cell / columns, (cell % columns) * 2 + 1);
        ++cell;
    };
    // Mnemonics chosen apart from the docks' own (Sample: S R P C; Synthesis: R P D T E I L S C B);
    // W (Where) is the form's own.
    add(tr("&Nodes"), spin(m_nodes, "slurm_nodes", 1, tr("sbatch --nodes")));
    add(tr("&GPUs per node"), spin(m_gpus, "slurm_gpus", 0, tr("sbatch --gpus-per-node (0: none)")));
    add(tr("CPUs per tas&k"), spin(m_cpus, "slurm_cpus", 0, tr("sbatch --cpus-per-task (0: the partition's default)")));
    add(tr("Time li&mit"), line(m_time, "slurm_time", tr("04:00:00 (partition default)")));
    add(tr("Partiti&on"), line(m_partition, "slurm_partition", tr("cluster default")));
    add(tr("Acco&unt"), line(m_account, "slurm_account", tr("your default")));
    for (int c = 0; c < columns; ++c) grid->setColumnStretch(2 * c + 1, 1);
    f->addRow(m_slurmForm);
    setSlurmOptions(Settings().slurmOptions(m_dock));

    auto update = [this] {
        m_slurmForm->setVisible(isSlurm());
        emit modeChanged(mode());
    };
    connect(m_mode, qOverload<int>(&QComboBox::currentIndexChanged), this, update);
    m_slurmForm->setVisible(isSlurm());
}

QString RunAsForm::mode() const { return m_mode->currentData().toString(); }

void RunAsForm::setMode(const QString& mode) {
    const int i = m_mode->findData(mode);
    if (i >= 0) m_mode->setCurrentIndex(i);
}

jobs::SlurmOptions RunAsForm::slurmOptions() const {
    jobs::SlurmOptions o;
    o.nodes = m_nodes->value();
    o.gpus_per_node = m_gpus->value();
    o.cpus_per_task = m_cpus->value();
    o.time = m_time->text().trimmed().toStdString();
    o.partition = m_partition->text().trimmed().toStdString();
    o.account = m_account->text().trimmed().toStdString();
    return o;
}

void RunAsForm::setSlurmOptions(const jobs::SlurmOptions& o) {
    m_nodes->setValue(o.nodes);
    m_gpus->setValue(o.gpus_per_node);
    m_cpus->setValue(o.cpus_per_task);
    m_time->setText(QString::fromStdString(o.time));
    m_partition->setText(QString::fromStdString(o.partition));
    m_account->setText(QString::fromStdString(o.account));
}

jobs::JobRequest RunAsForm::request(const QString& kind, const QStringList& arguments, const QString& dbPath,
                                    const QString& binary) const {
    jobs::JobRequest req;
    req.kind = kind.toStdString();
    for (const QString& a : arguments) req.argv.push_back(a.toStdString());
    req.db_path = dbPath.toStdString();
    req.binary = binary.toStdString();
    req.slurm = isSlurm();
    req.slurm_options = slurmOptions();
    if (req.slurm) remember();
    return req;
}

void RunAsForm::remember() const { Settings().setSlurmOptions(m_dock, slurmOptions()); }

}  // namespace matrix::ui
