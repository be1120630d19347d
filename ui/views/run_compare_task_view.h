// RunCompareTaskView: one task of the compared runs: question, gold answer and every run's answer (and
// error), the task's images (or a "missing" box naming the path looked for), and the trajectories aligned
// step by step with the gold one, tool calls diffed (RunStepAlignmentModel). Plain data in
// (core eval::TaskAcrossRuns); UI thread only. Esc closes it.
#pragma once

#include <QDialog>

#include "core/eval/bench_store.h"
#include "core/eval/compare_multi.h"

class QLabel;
class QTableView;

namespace matrix::ui {

class RunStepAlignmentModel;

class RunCompareTaskView : public QDialog {
    Q_OBJECT
public:
    // `baseline` indexes task.runs; `outcome` is the comparison's outcome label for the task ("" when none);
    // `scores` (optional) holds the comparison's per-run scores and not-scored reasons, in task.runs' order.
    RunCompareTaskView(const eval::TaskAcrossRuns& task, int baseline, const QString& outcome,
                       const eval::MultiTask* scores = nullptr, QWidget* parent = nullptr);
    RunStepAlignmentModel* alignmentModel() const { return m_model; }
    int imageCount() const { return m_nImages; }
    int missingImageCount() const { return m_nMissing; }

private:
    RunStepAlignmentModel* m_model = nullptr;
    QTableView* m_table = nullptr;
    int m_nImages = 0, m_nMissing = 0;
};

}  // namespace matrix::ui
