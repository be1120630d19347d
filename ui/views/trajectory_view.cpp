// TrajectoryView implementation (see trajectory_view.h).
#include "ui/views/trajectory_view.h"

#include <QComboBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QListView>
#include <QPlainTextEdit>
#include <QRegularExpression>
#include <QScrollArea>
#include <QSplitter>
#include <QVBoxLayout>

#include "ui/models/step_list_model.h"
#include "ui/widgets/collapsible_text.h"
#include "ui/widgets/python_highlighter.h"
#include "ui/widgets/tool_badges.h"

namespace matrix::ui {

namespace {
QLabel* wrapLabel(QWidget* parent) {
    auto* l = new QLabel(parent);
    l->setWordWrap(true);
    l->setTextInteractionFlags(Qt::TextSelectableByMouse);
    l->setTextFormat(Qt::RichText);
    return l;
}
QString verdictHtml(const QString& v) {
    const QString color = v == "yes" ? "#1b7a33" : v == "no" ? "#b3261e" : "#777";
    return QStringLiteral("<span style='color:%1; font-weight:bold'>%2</span>").arg(color, v.toHtmlEscaped());
}
}  // namespace

TrajectoryView::TrajectoryView(QWidget* parent)
    : QWidget(parent),
      m_model(new StepListModel(this)),
      m_list(new QListView(this)),
      m_header(wrapLabel(this)),
      m_trajectoryBox(new QComboBox(this)),
      m_stepTitle(wrapLabel(this)),
      m_thought(wrapLabel(this)),
      m_code(new QPlainTextEdit(this)),
      m_badges(new ToolBadges(this)),
      m_observation(new CollapsibleText(this, 12)),
      m_answer(wrapLabel(this)) {
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(4, 4, 4, 4);
    outer->addWidget(m_header);
    auto* chooser = new QHBoxLayout;
    auto* chooserLabel = new QLabel(tr("&Trajectory:"), this);
    chooserLabel->setBuddy(m_trajectoryBox);
    m_trajectoryBox->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_trajectoryBox->setToolTip(tr("The task's trajectories: the dataset's, and each agent run's"));
    m_trajectoryBox->setAccessibleName(tr("Trajectory"));
    chooser->addWidget(chooserLabel);
    chooser->addWidget(m_trajectoryBox);
    chooser->addStretch(1);
    outer->addLayout(chooser);
    connect(m_trajectoryBox, &QComboBox::activated, this, [this](int i) {
        const qint64 id = m_trajectoryBox->itemData(i).toLongLong();
        if (m_task.valid() && id != m_task.trajectoryId) emit trajectoryChosen(m_task.id, id);
    });
    auto* split = new QSplitter(Qt::Horizontal, this);
    m_list->setModel(m_model);
    m_list->setMinimumWidth(150);
    m_list->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_list->setTextElideMode(Qt::ElideRight);
    m_list->setAccessibleName(tr("Steps"));
    split->addWidget(m_list);

    auto* detail = new QWidget;
    auto* dl = new QVBoxLayout(detail);
    dl->setContentsMargins(6, 0, 0, 0);
    dl->addWidget(m_stepTitle);
    dl->addWidget(m_thought);
    m_code->setReadOnly(true);
    m_code->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_code->setLineWrapMode(QPlainTextEdit::WidgetWidth);
    m_code->setMinimumHeight(90);
    new PythonHighlighter(m_code->document());
    dl->addWidget(m_code, 2);
    dl->addWidget(m_badges);
    m_observation->setTitle(tr("Observation"));
    dl->addWidget(m_observation, 2);
    dl->addWidget(m_answer);
    split->addWidget(detail);
    split->setStretchFactor(1, 1);
    split->setSizes({190, 600});
    outer->addWidget(split, 1);

    connect(m_list->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& cur) {
                if (cur.isValid() && cur.row() != m_current) showStep(cur.row());
            });
    setTask({});
}

void TrajectoryView::setTask(const TaskData& task) {
    m_task = task;
    m_model->setSteps(task.steps);
    fillTrajectoryBox();
    updateHeader();
    if (!task.valid()) {
        m_answer->clear();
    } else {
        QString ans = tr("<b>Final answer:</b> %1").arg(task.answer.isEmpty() ? (task.live ? tr("<i>the run is going on</i>") : tr("<i>none</i>"))
                                                                               : task.answer.toHtmlEscaped());
        if (!task.groundTruth.isEmpty()) ans += tr("<br><b>Ground truth:</b> %1").arg(task.groundTruth.toHtmlEscaped());
        if (!task.verifierText.isEmpty()) {
            QString v = task.verifierText;
            // The verifier answers with a JSON block {"thought": ..., "correct": ...}: show its thought.
            static const QRegularExpression thought(QStringLiteral(R"re("thought"\s*:\s*"((?:[^"\\]|\\.)*)")re"));
            if (const auto m = thought.match(v); m.hasMatch()) v = m.captured(1).replace(QStringLiteral("\\\""), QStringLiteral("\""));
            v.remove(QStringLiteral("```json")).remove(QStringLiteral("```"));
            ans += tr("<br><b>Verifier (%1):</b> <span style='color:#555'>%2</span>")
                       .arg(verdictHtml(task.verdict), v.simplified().left(400).toHtmlEscaped());
        }
        m_answer->setText(ans);
    }
    m_current = -1;
    showStep(task.steps.isEmpty() ? -1 : 0);
}

void TrajectoryView::updateHeader() {
    if (!m_task.valid()) {
        m_header->setText(tr("<i>Select a task in the task browser.</i>"));
        return;
    }
    const QString live = m_task.live ? tr(" \u00b7 <span style='color:#1a5fb4; font-weight:bold'>agent running</span>") : QString();
    m_header->setText(tr("<b>%1</b> &nbsp;<span style='color:#666'>%2 \u00b7 %3 \u00b7 %n step(s)</span>%5<br>%4", "",
                         int(m_task.steps.size()))
                          .arg(m_task.externalId.toHtmlEscaped(), m_task.dataset.toHtmlEscaped(),
                               tr("verdict %1").arg(verdictHtml(m_task.verdict)), m_task.query.toHtmlEscaped(), live));
}

void TrajectoryView::fillTrajectoryBox() {
    QSignalBlocker block(m_trajectoryBox);
    m_trajectoryBox->clear();
    for (const TrajectoryEntry& e : m_task.trajectories) {
        TrajectoryEntry shown = e;
        if (e.id == m_task.trajectoryId) shown.steps = int(m_task.steps.size());
        m_trajectoryBox->addItem(shown.label(), e.id);
        if (e.id == m_task.trajectoryId) m_trajectoryBox->setCurrentIndex(m_trajectoryBox->count() - 1);
    }
    m_trajectoryBox->setEnabled(m_trajectoryBox->count() > 1);
    if (m_trajectoryBox->count() == 0) m_trajectoryBox->addItem(m_task.valid() ? tr("(no trajectory)") : QString(), qint64(0));
}

void TrajectoryView::appendStep(const StepData& step) {
    if (!m_task.valid() || !m_task.live) return;
    const bool follow = m_current < 0 || m_current == m_task.steps.size() - 1;
    m_task.steps.push_back(step);
    m_model->appendStep(step);
    for (TrajectoryEntry& e : m_task.trajectories)
        if (e.id == m_task.trajectoryId) e.steps = int(m_task.steps.size());
    const int i = m_trajectoryBox->findData(m_task.trajectoryId);
    for (const TrajectoryEntry& e : m_task.trajectories)
        if (e.id == m_task.trajectoryId && i >= 0) m_trajectoryBox->setItemText(i, e.label());
    updateHeader();
    if (follow)
        showStep(int(m_task.steps.size()) - 1);
    else
        showStep(m_current);  // "Step k of n" counts the new step
}

void TrajectoryView::setCurrentStep(int index) {
    if (index < 0 || index >= m_task.steps.size() || index == m_current) return;
    showStep(index);
}

void TrajectoryView::nextStep() { setCurrentStep(m_current + 1); }
void TrajectoryView::previousStep() { setCurrentStep(m_current - 1); }

QString TrajectoryView::thoughtText() const { return m_current >= 0 ? m_task.steps[m_current].thought : QString(); }
QString TrajectoryView::codeText() const { return m_code->toPlainText(); }

void TrajectoryView::showStep(int index) {
    m_current = index;
    if (index < 0) {
        m_stepTitle->setText(!m_task.valid() ? QString()
                             : m_task.live ? tr("<i>Waiting for the agent's first step ...</i>")
                                           : tr("<i>This task has no steps.</i>"));
        m_thought->clear();
        m_code->clear();
        m_badges->setBadges({});
        m_observation->setText({});
        emit currentStepChanged(-1);
        return;
    }
    const StepData& s = m_task.steps[index];
    {
        QSignalBlocker block(m_list->selectionModel());
        m_list->setCurrentIndex(m_model->index(index));
    }
    m_stepTitle->setText(tr("<b>Step %1 of %2</b>%3")
                             .arg(index + 1)
                             .arg(m_task.steps.size())
                             .arg(s.isFinal ? tr(" \u00b7 <span style='color:#1b7a33'>final answer</span>") : QString()));
    m_thought->setText(s.thought.isEmpty() && s.code.isEmpty()
                           ? tr("<b>Action (unstructured):</b> %1").arg(s.action.toHtmlEscaped())
                           : tr("<b>Thought:</b> %1").arg(s.thought.toHtmlEscaped()));
    m_code->setPlainText(s.code);
    m_badges->setBadges(s.tools);
    if (s.hasObservation) {
        m_observation->setTitle(s.isError ? tr("Error") : tr("Observation"));
        m_observation->setText(s.observation, s.isError);
    } else {
        m_observation->setTitle(tr("Observation"));
        m_observation->setText(s.isFinal ? tr("(final answer: no observation)") : tr("(none)"));
    }
    emit currentStepChanged(index);
}

}  // namespace matrix::ui
