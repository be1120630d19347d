// RunStepAlignmentModel: one task's trajectories aligned step by step: gold (when the benchmark has it),
// run A, run B. Each cell shows the step's tool calls, thought and observation; a run's cell is tinted when
// its tool calls differ from the gold step's (or, without gold, from the other run's); errors are red.
// Reads a core bench::TaskSideBySide; UI thread only.
#pragma once

#include <QAbstractTableModel>

#include "core/bench/bench_store.h"

namespace matrix::ui {

class RunStepAlignmentModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { StepColumn, GoldColumn, AColumn, BColumn, ColumnCount };
    enum Roles { ToolsDifferRole = Qt::UserRole + 1 };
    using QAbstractTableModel::QAbstractTableModel;

    void setTask(const bench::TaskSideBySide& task);
    const bench::TaskSideBySide& task() const { return m_task; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    // "ocr(image_path='a.jpg')" lines of a step; used for display and the tool-call diff.
    static QString toolCallsText(const bench::RunStep& s);
    // The tool names of a step in order (what the diff compares).
    static QStringList toolNames(const bench::RunStep& s);

private:
    const bench::RunStep* stepAt(int column, int row) const;
    bool differs(int column, int row) const;
    bench::TaskSideBySide m_task;
};

}  // namespace matrix::ui
