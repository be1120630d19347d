// RunCompareTaskView: one task of two compared runs: question, gold answer and both answers, the task's
// images (or a "missing" note with the path looked for), and the trajectories aligned step by step with the
// gold one, tool calls that differ highlighted. Plain data in (core bench::TaskSideBySide); UI thread only.
#pragma once

#include <QDialog>

#include "core/bench/bench_store.h"

class QLabel;
class QTableView;

namespace matrix::ui {

class RunStepAlignmentModel;

class RunCompareTaskView : public QDialog {
    Q_OBJECT
public:
    RunCompareTaskView(const bench::TaskSideBySide& task, const QString& nameA, const QString& nameB,
                       QWidget* parent = nullptr);
    RunStepAlignmentModel* alignmentModel() const { return m_model; }

private:
    RunStepAlignmentModel* m_model = nullptr;
    QTableView* m_table = nullptr;
};

}  // namespace matrix::ui
