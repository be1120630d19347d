// RunCompareTaskView (see run_compare_task_view.h).
#include "ui/views/run_compare_task_view.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImageReader>
#include <QLabel>
#include <QPixmap>
#include <QScrollArea>
#include <QTableView>
#include <QVBoxLayout>

#include "ui/models/run_step_alignment_model.h"
#include "ui/views/run_compare_chart.h"

namespace matrix::ui {

namespace {
QLabel* wrapped(const QString& html, QWidget* parent) {
    auto* l = new QLabel(html, parent);
    l->setWordWrap(true);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return l;
}
}  // namespace

RunCompareTaskView::RunCompareTaskView(const eval::TaskAcrossRuns& task, int baseline, const QString& outcome,
                                       const eval::MultiTask* scores, QWidget* parent)
    : QDialog(parent) {
    setWindowTitle(tr("Task %1 in %2 runs").arg(QString::fromStdString(task.task_key)).arg(task.runs.size()));
    auto* layout = new QVBoxLayout(this);
    QString head = tr("<b>Task %1.</b> %2").arg(QString::fromStdString(task.task_key).toHtmlEscaped(),
                                               QString::fromStdString(task.question).toHtmlEscaped());
    if (!outcome.isEmpty()) head += tr(" &nbsp;<i>(%1)</i>").arg(outcome.toHtmlEscaped());
    layout->addWidget(wrapped(head, this));
    QString answers = tr("<b>Gold:</b> %1").arg(task.gold_answer.empty() ? tr("<i>(none recorded)</i>")
                                                                         : QString::fromStdString(task.gold_answer).toHtmlEscaped());
    for (size_t i = 0; i < task.runs.size(); ++i) {
        const eval::TaskRunSide& r = task.runs[i];
        QString a = !r.present ? tr("<i>(task not in this run)</i>")
                    : r.answer ? QString::fromStdString(*r.answer).toHtmlEscaped()
                               : tr("<i>(no answer)</i>");
        if (!r.error.empty()) a += tr(" <span style='color:#a00'>error: %1</span>").arg(QString::fromStdString(r.error).toHtmlEscaped());
        if (scores && i < scores->scores.size()) {
            if (const auto& sc = scores->scores[i]) {
                a += *sc >= 0.5 ? tr(" <span style='color:#080'>&#10003; solved (%1)</span>").arg(*sc)
                                : tr(" <span style='color:#a00'>&#10007; not solved (%1)</span>").arg(*sc);
            } else if (r.present) {
                a += tr(" <span style='color:#777'>not scored (%1)</span>")
                         .arg(QString::fromStdString(scores->not_scored[i]).toHtmlEscaped());
            }
        }
        answers += tr("<br><b><span style='color:%1'>&#9632;</span> %2%3:</b> %4")
                       .arg(runColor(int(i)).name(), QString::fromStdString(r.label).toHtmlEscaped(),
                            int(i) == baseline ? tr(" (baseline)") : QString(), a);
    }
    layout->addWidget(wrapped(answers, this));
    if (!task.image_labels.empty()) {
        auto* strip = new QHBoxLayout;
        for (size_t i = 0; i < task.image_labels.size(); ++i) {
            auto* l = new QLabel(this);
            const QString path = QString::fromStdString(task.image_paths[i]);
            QPixmap pm;
            if (!path.isEmpty()) {
                QImageReader reader(path);
                reader.setAutoTransform(true);
                pm = QPixmap::fromImage(reader.read());
            }
            ++m_nImages;
            if (!pm.isNull()) {
                l->setPixmap(pm.scaled(160, 120, Qt::KeepAspectRatio, Qt::SmoothTransformation));
                l->setToolTip(tr("%1 (%2 x %3)").arg(path).arg(pm.width()).arg(pm.height()));
            } else {
                ++m_nMissing;
                l->setText(tr("missing image:\n%1").arg(QString::fromStdString(task.image_labels[i])));
                l->setToolTip(path.isEmpty() ? tr("Not found under the benchmark folder or the image roots")
                                             : tr("Cannot read %1").arg(path));
                l->setFixedSize(160, 120);
                l->setWordWrap(true);
                l->setAlignment(Qt::AlignCenter);
                l->setStyleSheet("QLabel { border: 1px dashed #999; color: #777; }");
            }
            strip->addWidget(l);
        }
        strip->addStretch(1);
        layout->addLayout(strip);
    }
    m_model = new RunStepAlignmentModel(this);
    m_model->setTask(task, baseline);
    m_table = new QTableView(this);
    m_table->setModel(m_model);
    m_table->setWordWrap(true);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(RunStepAlignmentModel::StepColumn, QHeaderView::ResizeToContents);
    for (int c = RunStepAlignmentModel::GoldColumn; c < m_model->columnCount(); ++c) {
        m_table->horizontalHeader()->setSectionResizeMode(c, QHeaderView::Stretch);
    }
    if (task.gold.empty()) m_table->hideColumn(RunStepAlignmentModel::GoldColumn);
    // Rows follow their wrapped text as the columns change width (a handful of steps: cheap).
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    layout->addWidget(m_table, 1);
    layout->addWidget(wrapped(task.gold.empty()
                                  ? tr("<small>No gold trajectory: steps are diffed against the baseline run. "
                                       "<span style='background:#ffd699'>&nbsp;Other tools&nbsp;</span> "
                                       "<span style='background:#fff6bf'>&nbsp;Same tools, other arguments&nbsp;</span> "
                                       "<span style='color:#a00'>Red text: the step failed.</span> Hover a cell for "
                                       "the difference. Esc closes.</small>")
                                  : tr("<small>Each run's tool calls are diffed against the gold step: "
                                       "<span style='background:#ffd699'>&nbsp;Other tools&nbsp;</span> "
                                       "<span style='background:#fff6bf'>&nbsp;Same tools, other arguments&nbsp;</span> "
                                       "<span style='color:#a00'>Red text: the step failed.</span> Hover a cell for "
                                       "the difference. Esc closes.</small>"),
                              this));
    resize(std::min(1600, 420 + 300 * int(task.runs.size())), 720);
}

}  // namespace matrix::ui
