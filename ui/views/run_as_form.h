// RunAsForm: the "Run as" box every dock that launches a job shows (Training, Sample, Synthesis): where the work runs
// (a job on this machine, a Slurm job, and for the Training dock also "in this window") and, for Slurm, the sbatch
// resources (nodes, GPUs per node, CPUs per task, time limit, partition, account; shown only when Slurm is chosen).
// It makes the launcher's request (core/jobs JobRequest: the command, the project, the program, and slurm /
// slurm_options from the form), so every dock submits through the same launcher. The Slurm fields are kept per dock
// in the settings (Settings::slurmOptions) when a Slurm request is made and read back when the form is made. Every field has a mnemonic and is
// reachable by Tab. UI thread only.
#pragma once

#include <QGroupBox>
#include <QString>
#include <QStringList>

#include "core/jobs/job_control.h"

class QComboBox;
class QLineEdit;
class QSpinBox;
class QWidget;

namespace matrix::ui {

class RunAsForm : public QGroupBox {
    Q_OBJECT
public:
    // `dock`: the settings group of this dock's Slurm fields ("training", "sample", "synthesis").
    // `withThread`: also offer "In this window (ends with it)" (mode "thread"; the Training dock).
    // `columns`: the Slurm fields side by side in this many columns (1 for a narrow form column).
    RunAsForm(const QString& dock, bool withThread, QWidget* parent = nullptr, int columns = 3);

    // "local" (a job on this machine), "slurm" or "thread".
    QString mode() const;
    void setMode(const QString& mode);
    bool isSlurm() const { return mode() == QLatin1String("slurm"); }
    QComboBox* modeBox() const { return m_mode; }
    QWidget* slurmFields() const { return m_slurmForm; }

    jobs::SlurmOptions slurmOptions() const;
    void setSlurmOptions(const jobs::SlurmOptions& options);
    // The launcher's request for `matrix <arguments>` as a job of `kind` (train | eval | sample | synth) writing to
    // the project `dbPath`, run by `binary`, where the form says (slurm, slurm_options). A Slurm request also keeps
    // the Slurm fields for this dock (remember()).
    jobs::JobRequest request(const QString& kind, const QStringList& arguments, const QString& dbPath,
                             const QString& binary) const;
    // Keeps the Slurm fields in the settings for this dock.
    void remember() const;

signals:
    void modeChanged(const QString& mode);

private:
    QString m_dock;
    QComboBox* m_mode;
    QWidget* m_slurmForm;
    QSpinBox *m_nodes, *m_gpus, *m_cpus;
    QLineEdit *m_time, *m_partition, *m_account;
};

}  // namespace matrix::ui
