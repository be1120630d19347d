// RunStepAlignmentModel: one task's trajectories aligned step by step: gold (when the benchmark has it) and
// one column per compared run. Each cell shows the step's tool calls, thought and observation. The tool
// calls of a run's step are diffed against the gold step's (without gold: against the baseline run's): a
// different tool sequence tints the cell amber, the same tools with different argument values tint it
// light yellow, and the tooltip says what differs. Errors are red. Reads a core eval::TaskAcrossRuns;
// UI thread only.
#pragma once

#include <QAbstractTableModel>

#include "core/eval/bench_store.h"

namespace matrix::ui {

class RunStepAlignmentModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum { StepColumn = 0, GoldColumn = 1 };
    enum class Diff { same, arguments, tools };
    enum Roles {
        ToolsDifferRole = Qt::UserRole + 1,  // bool: the tool sequence differs from the reference step
        DiffRole,                            // int(Diff)
    };
    using QAbstractTableModel::QAbstractTableModel;

    // `baseline` indexes task.runs: the reference when the task has no gold trajectory.
    void setTask(const eval::TaskAcrossRuns& task, int baseline = 0);
    const eval::TaskAcrossRuns& task() const { return m_task; }
    int runColumn(int run) const { return 2 + run; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    // "ocr(image_path='a.jpg')" lines of a step; used for display and the tool-call diff.
    static QString toolCallsText(const eval::RunStep& s);
    // The tool names of a step in order, in GTA's vocabulary where a mapping exists (what the diff compares).
    static QStringList toolNames(const eval::RunStep& s);
    // The argument values of a step's calls, in order ("a.jpg", "3"), ignoring argument names (gold and agent
    // tools name them differently).
    static QStringList argumentValues(const eval::RunStep& s);

private:
    const eval::RunStep* stepAt(int column, int row) const;
    const eval::RunStep* referenceFor(int column, int row, bool* beyond) const;
    Diff diff(int column, int row) const;
    QString diffText(int column, int row) const;
    eval::TaskAcrossRuns m_task;
    int m_baseline = 0;
};

}  // namespace matrix::ui
