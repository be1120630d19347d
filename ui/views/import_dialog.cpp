// JobDialog, ImportDialog and ExportDialog (see import_dialog.h).
#include "ui/views/import_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QTextStream>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/workers/background_job.h"

namespace matrix::ui {

namespace {
QString formatEta(double s) {
    if (s < 0) return QObject::tr("estimating...");
    if (s < 60) return QObject::tr("%1 s left").arg(qRound(s));
    return QObject::tr("%1 min %2 s left").arg(int(s) / 60).arg(int(s) % 60);
}

QWidget* fileField(QLineEdit* edit, QWidget* parent, std::function<QString()> browse) {
    auto* w = new QWidget(parent);
    auto* l = new QHBoxLayout(w);
    l->setContentsMargins(0, 0, 0, 0);
    l->addWidget(edit, 1);
    auto* b = new QToolButton(w);
    b->setText(QStringLiteral("..."));
    b->setToolTip(QObject::tr("Browse"));
    QObject::connect(b, &QToolButton::clicked, edit, [edit, browse] {
        const QString p = browse();
        if (!p.isEmpty()) edit->setText(p);
    });
    l->addWidget(b);
    return w;
}
}  // namespace

JobDialog::JobDialog(const QString& projectPath, QWidget* parent)
    : QDialog(parent),
      m_projectPath(projectPath),
      m_form(new QWidget(this)),
      m_bar(new QProgressBar(this)),
      m_status(new QLabel(this)),
      m_report(new QPlainTextEdit(this)),
      m_startButton(new QPushButton(tr("Start"), this)),
      m_cancelButton(new QPushButton(tr("Cancel"), this)),
      m_saveButton(new QPushButton(tr("Save Report..."), this)),
      m_buttons(new QDialogButtonBox(QDialogButtonBox::Close, this)),
      m_job(new BackgroundJob(this)) {
    new QFormLayout(m_form);
    resize(640, 460);
    connect(m_startButton, &QPushButton::clicked, this, &JobDialog::start);
    connect(m_cancelButton, &QPushButton::clicked, this, &JobDialog::cancel);
    connect(m_saveButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save report"), QStringLiteral("report.txt"));
        if (!path.isEmpty()) saveReport(path);
    });
    connect(m_buttons, &QDialogButtonBox::rejected, this, [this] {
        if (isRunning()) cancel();
        reject();
    });
    connect(m_job, &BackgroundJob::progress, this, [this](qint64 done, qint64 total, const QString& what, double eta) {
        if (total > 0) {
            m_bar->setRange(0, 1000);
            m_bar->setValue(int(1000.0 * double(done) / double(total)));
            m_bar->setFormat(QStringLiteral("%1 / %2").arg(done).arg(total));
        } else {
            m_bar->setRange(0, 0);
        }
        m_status->setText(QStringLiteral("%1 \u00b7 %2").arg(what.isEmpty() ? tr("working") : what, formatEta(eta)));
    });
    connect(m_job, &BackgroundJob::finished, this, [this](const JobOutcome& o) {
        m_bar->setRange(0, 1000);
        m_bar->setValue(o.ok || o.cancelled ? 1000 : m_bar->value());
        m_status->setText(o.cancelled ? tr("Cancelled. %1").arg(o.summary)
                          : o.ok      ? o.summary
                                      : tr("Failed: %1").arg(o.error));
        m_report->setPlainText(reportText());
        m_saveButton->setEnabled(!o.rejected.isEmpty() || !o.error.isEmpty());
        m_startButton->setEnabled(true);
        m_cancelButton->setEnabled(false);
        m_form->setEnabled(true);
        emit jobFinished(o);
    });
}

void JobDialog::addFormRow(const QString& label, QWidget* field) {
    static_cast<QFormLayout*>(m_form->layout())->addRow(label, field);
}

void JobDialog::finishLayout() {
    auto* l = new QVBoxLayout(this);
    l->addWidget(m_form);
    l->addWidget(m_bar);
    l->addWidget(m_status);
    l->addWidget(new QLabel(tr("Rejected records:"), this));
    m_report->setReadOnly(true);
    m_report->setPlaceholderText(tr("Records that could not be imported are listed here."));
    l->addWidget(m_report, 1);
    auto* row = new QHBoxLayout;
    row->addWidget(m_startButton);
    row->addWidget(m_cancelButton);
    row->addWidget(m_saveButton);
    row->addStretch(1);
    row->addWidget(m_buttons);
    l->addLayout(row);
    m_bar->setRange(0, 1000);
    m_bar->setValue(0);
    m_cancelButton->setEnabled(false);
    m_saveButton->setEnabled(false);
    m_startButton->setDefault(true);
}

bool JobDialog::isRunning() const { return m_job->isRunning(); }
const JobOutcome& JobDialog::outcome() const { return m_job->outcome(); }
QString JobDialog::statusText() const { return m_status->text(); }

QString JobDialog::reportText() const {
    const JobOutcome& o = m_job->outcome();
    QString text = o.summary + '\n';
    if (!o.error.isEmpty()) text += tr("Error: %1\n").arg(o.error);
    if (o.rejected.isEmpty())
        text += tr("No rejected records.\n");
    else
        text += tr("%n rejected record(s):\n", "", int(o.rejected.size())) + o.rejected.join('\n') + '\n';
    return text;
}

bool JobDialog::saveReport(const QString& path) const {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) return false;
    QTextStream(&f) << reportText();
    return true;
}

void JobDialog::start() {
    if (isRunning()) return;
    QString why;
    if (!validateInputs(why)) {
        m_status->setText(why);
        return;
    }
    if (!confirmStart()) return;
    m_report->clear();
    m_bar->setRange(0, 0);  // busy until the first progress report
    m_status->setText(tr("Starting..."));
    m_startButton->setEnabled(false);
    m_cancelButton->setEnabled(true);
    m_saveButton->setEnabled(false);
    m_form->setEnabled(false);
    m_job->start(makeJob());
}

void JobDialog::cancel() {
    m_job->cancel();
    m_status->setText(tr("Cancelling..."));
}

// ---------------------------------------------------------------- import

ImportDialog::ImportDialog(const QString& projectPath, DataFormat format, QWidget* parent)
    : JobDialog(projectPath, parent),
      m_file(new QLineEdit(this)),
      m_format(new QComboBox(this)),
      m_dataset(new QLineEdit(this)),
      m_roots(new QLineEdit(this)) {
    setWindowTitle(tr("Import into %1").arg(QFileInfo(projectPath).fileName()));
    for (DataFormat f : {DataFormat::Mtrace, DataFormat::Prefx, DataFormat::Beam}) m_format->addItem(formatName(f), int(f));
    m_format->setCurrentIndex(m_format->findData(int(format)));
    addFormRow(tr("File:"), fileField(m_file, this, [this] {
                   return QFileDialog::getOpenFileName(this, tr("Choose a file to import"), {}, tr("JSON (*.json);;All files (*)"));
               }));
    addFormRow(tr("Format:"), m_format);
    m_dataset->setPlaceholderText(tr("default: the file name"));
    addFormRow(tr("Dataset:"), m_dataset);
    m_roots->setPlaceholderText(tr("folders searched for images, separated by ';'"));
    addFormRow(tr("Image roots:"), m_roots);
    finishLayout();
}

void ImportDialog::setFile(const QString& path) { m_file->setText(path); }
void ImportDialog::setDataset(const QString& name) { m_dataset->setText(name); }
void ImportDialog::setImageRoots(const QStringList& roots) { m_roots->setText(roots.join(';')); }

ImportRequest ImportDialog::request() const {
    ImportRequest r;
    r.projectPath = m_projectPath;
    r.file = m_file->text().trimmed();
    r.format = DataFormat(m_format->currentData().toInt());
    r.dataset = m_dataset->text().trimmed();
    if (r.dataset.isEmpty()) r.dataset = QFileInfo(r.file).completeBaseName();
    for (const QString& s : m_roots->text().split(';', Qt::SkipEmptyParts)) r.imageRoots << s.trimmed();
    return r;
}

bool ImportDialog::validateInputs(QString& why) const {
    const QString f = m_file->text().trimmed();
    if (f.isEmpty() || !QFileInfo::exists(f)) {
        why = tr("Choose an existing file to import.");
        return false;
    }
    return true;
}

BackgroundJob::Function ImportDialog::makeJob() {
    return [req = request()](const Progress& p) { return runImport(req, p); };
}

// ---------------------------------------------------------------- export

ExportDialog::ExportDialog(const QString& projectPath, const QStringList& datasets, QWidget* parent)
    : JobDialog(projectPath, parent),
      m_file(new QLineEdit(this)),
      m_format(new QComboBox(this)),
      m_dataset(new QComboBox(this)),
      m_approvedOnly(new QCheckBox(tr("Only approved pairs"), this)) {
    setWindowTitle(tr("Export from %1").arg(QFileInfo(projectPath).fileName()));
    m_dataset->addItems(datasets);
    addFormRow(tr("Dataset:"), m_dataset);
    for (DataFormat f : {DataFormat::Mtrace, DataFormat::Prefx}) m_format->addItem(formatName(f), int(f));
    addFormRow(tr("Format:"), m_format);
    addFormRow(tr("File:"), fileField(m_file, this, [this] {
                   return QFileDialog::getSaveFileName(this, tr("Export to"), QStringLiteral("export.json"), tr("JSON (*.json)"));
               }));
    m_approvedOnly->setChecked(true);
    addFormRow(QString(), m_approvedOnly);
    connect(m_format, qOverload<int>(&QComboBox::currentIndexChanged), this,
            [this] { m_approvedOnly->setEnabled(DataFormat(m_format->currentData().toInt()) == DataFormat::Prefx); });
    m_approvedOnly->setEnabled(false);
    finishLayout();
    m_report->setPlaceholderText(tr("Records that could not be exported are listed here."));
}

void ExportDialog::setFile(const QString& path) { m_file->setText(path); }
void ExportDialog::setDataset(const QString& name) { m_dataset->setCurrentText(name); }
void ExportDialog::setFormat(DataFormat f) { m_format->setCurrentIndex(m_format->findData(int(f))); }

ExportRequest ExportDialog::request() const {
    ExportRequest r;
    r.projectPath = m_projectPath;
    r.file = m_file->text().trimmed();
    r.format = DataFormat(m_format->currentData().toInt());
    r.dataset = m_dataset->currentText();
    r.approvedOnly = m_approvedOnly->isChecked();
    return r;
}

bool ExportDialog::validateInputs(QString& why) const {
    if (m_file->text().trimmed().isEmpty()) {
        why = tr("Choose a file to export to.");
        return false;
    }
    if (m_dataset->currentText().isEmpty()) {
        why = tr("The project has no dataset to export.");
        return false;
    }
    return true;
}

bool ExportDialog::confirmStart() {
    // An existing file is replaced only when the user says so (the file chooser asks too; a typed name does not).
    m_overwrite = false;
    const QString file = m_file->text().trimmed();
    if (!QFileInfo::exists(file)) return true;
    m_overwrite = QMessageBox::question(this, tr("Replace file?"), tr("%1 exists. Replace it with the export?").arg(file),
                                        QMessageBox::Yes | QMessageBox::No, QMessageBox::No) == QMessageBox::Yes;
    return m_overwrite;
}

BackgroundJob::Function ExportDialog::makeJob() {
    ExportRequest req = request();
    req.overwrite = m_overwrite;
    return [req](const Progress& p) { return runExport(req, p); };
}

}  // namespace matrix::ui
