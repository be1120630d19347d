// ImportDialog / ExportDialog: pick a file, format and dataset, run the core import/export as a BackgroundJob
// (the UI stays responsive), show a progress bar with ETA and a Cancel button, then a report of the rejected
// records that can be saved to a text file. UI thread only.
#pragma once

#include <QDialog>

#include "ui/workers/import_export_jobs.h"

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QCheckBox;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace matrix::ui {

class BackgroundJob;

class JobDialog : public QDialog {
    Q_OBJECT
public:
    bool isRunning() const;
    const JobOutcome& outcome() const;
    QString reportText() const;
    bool saveReport(const QString& path) const;
    QString statusText() const;
    QProgressBar* progressBar() const { return m_bar; }

public slots:
    void start();
    void cancel();

signals:
    void jobFinished(const JobOutcome& outcome);

protected:
    explicit JobDialog(const QString& projectPath, QWidget* parent);
    virtual BackgroundJob::Function makeJob() = 0;
    virtual bool validateInputs(QString& why) const = 0;
    // Last word before the job starts (e.g. "replace the existing file?"); false leaves the dialog as it is.
    virtual bool confirmStart() { return true; }
    void addFormRow(const QString& label, QWidget* field);
    void finishLayout();

    QString m_projectPath;
    QWidget* m_form;
    QProgressBar* m_bar;
    QLabel* m_status;
    QPlainTextEdit* m_report;
    QPushButton* m_startButton;
    QPushButton* m_cancelButton;
    QPushButton* m_saveButton;
    QDialogButtonBox* m_buttons;
    BackgroundJob* m_job;
};

class ImportDialog : public JobDialog {
    Q_OBJECT
public:
    ImportDialog(const QString& projectPath, DataFormat format, QWidget* parent = nullptr);
    void setFile(const QString& path);
    void setDataset(const QString& name);
    void setImageRoots(const QStringList& roots);
    ImportRequest request() const;

protected:
    BackgroundJob::Function makeJob() override;
    bool validateInputs(QString& why) const override;

private:
    QLineEdit* m_file;
    QComboBox* m_format;
    QLineEdit* m_dataset;
    QLineEdit* m_roots;
};

class ExportDialog : public JobDialog {
    Q_OBJECT
public:
    ExportDialog(const QString& projectPath, const QStringList& datasets, QWidget* parent = nullptr);
    void setFile(const QString& path);
    void setDataset(const QString& name);
    void setFormat(DataFormat f);
    ExportRequest request() const;

protected:
    BackgroundJob::Function makeJob() override;
    bool validateInputs(QString& why) const override;
    bool confirmStart() override;

private:
    bool m_overwrite = false;
    QLineEdit* m_file;
    QComboBox* m_format;
    QComboBox* m_dataset;
    QCheckBox* m_approvedOnly;
};

}  // namespace matrix::ui
