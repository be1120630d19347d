// RunCompareTaskView (see run_compare_task_view.h).
#include "ui/views/run_compare_task_view.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImageReader>
#include <QLabel>
#include <QPixmap>
#include <QTableView>
#include <QVBoxLayout>

#include "ui/models/run_step_alignment_model.h"

namespace matrix::ui {

namespace {
QLabel* wrapped(const QString& html, QWidget* parent) {
    auto* l = new QLabel(html, parent);
    l->setWordWrap(true);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return l;
}
QString answerText(const std::optional<std::string>& a) {
    return a ? QString::fromStdString(*a).toHtmlEscaped() : QObject::tr("<i>(no answer)</i>");
}
}  // namespace

RunCompareTaskView::RunCompareTaskView(const bench::TaskSideBySide& task, const QString& nameA,
                                       const QString& nameB, QWidget* parent)
    : QDialog(parent) {
    setWindowTitle(tr("Task %1: %2 vs %3").arg(QString::fromStdString(task.task_key), nameA, nameB));
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(wrapped(tr("<b>Task %1.</b> %2")
                                  .arg(QString::fromStdString(task.task_key).toHtmlEscaped(),
                                       QString::fromStdString(task.question).toHtmlEscaped()),
                              this));
    layout->addWidget(wrapped(tr("<b>Gold:</b> %1<br><b>A (%2):</b> %3<br><b>B (%4):</b> %5")
                                  .arg(QString::fromStdString(task.gold_answer).toHtmlEscaped(), nameA.toHtmlEscaped(),
                                       answerText(task.answer_a), nameB.toHtmlEscaped(), answerText(task.answer_b)),
                              this));
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
            if (!pm.isNull()) {
                l->setPixmap(pm.scaled(160, 120, Qt::KeepAspectRatio, Qt::SmoothTransformation));
                l->setToolTip(path);
            } else {
                l->setText(tr("missing image:\n%1").arg(QString::fromStdString(task.image_labels[i])));
                l->setFixedSize(160, 120);
                l->setAlignment(Qt::AlignCenter);
                l->setStyleSheet("QLabel { border: 1px dashed #999; color: #777; }");
            }
            strip->addWidget(l);
        }
        strip->addStretch(1);
        layout->addLayout(strip);
    }
    m_model = new RunStepAlignmentModel(this);
    m_model->setTask(task);
    m_table = new QTableView(this);
    m_table->setModel(m_model);
    m_table->setWordWrap(true);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(RunStepAlignmentModel::StepColumn, QHeaderView::ResizeToContents);
    for (int c = RunStepAlignmentModel::GoldColumn; c <= RunStepAlignmentModel::BColumn; ++c) {
        m_table->horizontalHeader()->setSectionResizeMode(c, QHeaderView::Stretch);
    }
    if (task.gold.empty()) m_table->hideColumn(RunStepAlignmentModel::GoldColumn);
    // Rows follow their wrapped text as the columns change width (a handful of steps: cheap).
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    layout->addWidget(m_table, 1);
    layout->addWidget(wrapped(tr("<small>Highlighted: the step's tool calls differ from the gold step's "
                                 "(without gold: from the other run's). Red text: the step failed.</small>"),
                              this));
    resize(1100, 700);
}

}  // namespace matrix::ui
