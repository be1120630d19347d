// AgentRunBar implementation (see agent_run_bar.h).
#include "ui/views/agent_run_bar.h"

#include <QColor>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTimer>
#include <QPalette>
#include <QVBoxLayout>

#include <algorithm>

namespace matrix::ui {

QString formatElapsed(qint64 ms) {
    const qint64 s = ms / 1000;
    if (s >= 3600) return QStringLiteral("%1:%2:%3").arg(s / 3600).arg((s / 60) % 60, 2, 10, QChar('0')).arg(s % 60, 2, 10, QChar('0'));
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}

AgentRunBar::AgentRunBar(QWidget* parent)
    : QWidget(parent),
      m_tick(new QTimer(this)),
      m_status(new QLabel(this)),
      m_isolation(new QLabel(this)),
      m_note(new QLabel(this)),
      m_result(new QLabel(this)),
      m_cancel(new QPushButton(tr("&Cancel Run"), this)),
      m_resume(new QPushButton(tr("Resu&me"), this)),
      m_close(new QPushButton(tr("Hide"), this)) {
    setObjectName("AgentRunBar");
    setAutoFillBackground(true);
    QPalette p = palette();
    p.setColor(QPalette::Window, QColor(0xee, 0xf3, 0xfb));
    setPalette(p);
    auto* v = new QVBoxLayout(this);
    v->setContentsMargins(8, 4, 8, 4);
    v->setSpacing(2);
    auto* top = new QHBoxLayout;
    top->addWidget(m_status, 1);
    top->addWidget(m_cancel);
    top->addWidget(m_resume);
    top->addWidget(m_close);
    v->addLayout(top);
    for (QLabel* l : {m_isolation, m_note, m_result}) {
        l->setWordWrap(true);
        l->setTextInteractionFlags(Qt::TextSelectableByMouse);
        v->addWidget(l);
    }
    m_status->setTextFormat(Qt::RichText);
    m_result->setTextFormat(Qt::RichText);
    m_note->setStyleSheet(QStringLiteral("color:#555"));
    m_cancel->setToolTip(tr("Stop the run at the next token or step; its steps are kept and it can be resumed"));
    m_resume->setToolTip(tr("Carry on the cancelled run from its stored steps"));
    m_resume->hide();
    m_tick->setInterval(1000);
    connect(m_tick, &QTimer::timeout, this, &AgentRunBar::updateStatus);
    connect(m_cancel, &QPushButton::clicked, this, [this] {
        m_cancel->setEnabled(false);
        setNote(tr("Cancelling: the run stops at the next token or step ..."));
        emit cancelRequested();
    });
    connect(m_resume, &QPushButton::clicked, this, [this] { emit resumeRequested(m_runId); });
    connect(m_close, &QPushButton::clicked, this, &QWidget::hide);
    hide();
}

void AgentRunBar::runStarted(const AgentRunStart& start) {
    m_running = true;
    m_runId = start.runId;
    m_taskId = start.taskId;
    m_trajectoryId = start.trajectoryId;
    m_steps = int(start.storedSteps.size());
    m_maxSteps = start.maxSteps;
    m_controller = start.controller;
    m_elapsedMs = 0;
    m_clock.start();
    m_tick->start();
    m_isolation->clear();
    m_isolation->hide();
    m_result->clear();
    m_result->hide();
    setNote(m_steps > 0 ? tr("Resuming after %n stored step(s)", "", m_steps) : QString());
    m_cancel->setEnabled(true);
    m_cancel->show();
    m_resume->hide();
    m_close->hide();
    updateStatus();
    show();
}

void AgentRunBar::stepStored(int stepsSoFar) {
    m_steps = stepsSoFar;
    updateStatus();
}

void AgentRunBar::setIsolation(const QString& text, bool reduced) {
    m_isolation->setText(reduced ? tr("\u26a0 %1").arg(text) : tr("Sandbox: %1").arg(text));
    m_isolation->setStyleSheet(reduced ? QStringLiteral("color:#b35900; font-weight:bold") : QStringLiteral("color:#1b7a33"));
    m_isolation->setToolTip(reduced ? tr("bubblewrap could not isolate the agent's code here: only resource limits apply, "
                                         "the code can read what this user can read")
                                    : tr("The agent's code runs in bubblewrap: no network, read-only system, only its work folder writable"));
    m_isolation->show();
}

void AgentRunBar::setNote(const QString& text) {
    m_note->setText(text);
    m_note->setVisible(!text.isEmpty());
}

void AgentRunBar::runFinished(const AgentRunOutcome& o) {
    m_running = false;
    m_tick->stop();
    m_elapsedMs = m_clock.isValid() ? m_clock.elapsed() : 0;
    if (o.runId > 0) m_runId = o.runId;
    if (o.trajectoryId > 0) m_trajectoryId = o.trajectoryId;
    m_steps = std::max(m_steps, o.steps);
    QString text;
    const QString answer = o.answer.left(300).toHtmlEscaped();
    if (o.status == QLatin1String("answered"))
        text = tr("<span style='color:#1b7a33; font-weight:bold'>Answered</span> after %n step(s): %1", "", o.steps).arg(answer);
    else if (o.status == QLatin1String("forced"))
        text = tr("<span style='color:#8a5a00; font-weight:bold'>Forced answer</span> after %1 (%n step(s), %2 errors): %3", "", o.steps)
                   .arg(o.stopReason == QLatin1String("max_errors") ? tr("the error limit") : tr("the step limit"))
                   .arg(o.errors)
                   .arg(answer);
    else if (o.status == QLatin1String("no_answer"))
        text = tr("<span style='color:#8a5a00; font-weight:bold'>No answer</span> (stopped at %1)").arg(o.stopReason.toHtmlEscaped());
    else if (o.status == QLatin1String("invalid"))
        text = tr("<span style='color:#b3261e; font-weight:bold'>Invalid</span>: %1").arg(o.reason.toHtmlEscaped());
    else if (o.status == QLatin1String("cancelled"))
        text = tr("<span style='color:#555; font-weight:bold'>Cancelled</span> after %n step(s): the steps are stored; "
                  "Resume carries the run on", "", m_steps);
    else
        text = tr("<span style='color:#b3261e; font-weight:bold'>Failed</span>: %1").arg(o.reason.toHtmlEscaped());
    m_result->setText(text);
    m_result->show();
    setNote(QString());
    m_cancel->hide();
    m_resume->setVisible(o.status == QLatin1String("cancelled") && m_runId > 0);
    m_close->show();
    updateStatus();
}

QString AgentRunBar::statusText() const { return m_status->text(); }
QString AgentRunBar::isolationText() const { return m_isolation->text(); }
QString AgentRunBar::resultText() const { return m_result->text(); }

void AgentRunBar::updateStatus() {
    const qint64 ms = m_running && m_clock.isValid() ? m_clock.elapsed() : m_elapsedMs;
    m_status->setText(tr("<b>Agent run %1</b> \u00b7 step %2/%3 \u00b7 %4 %5 \u00b7 <span style='color:#666'>%6</span>")
                          .arg(m_runId)
                          .arg(m_steps)
                          .arg(m_maxSteps)
                          .arg(formatElapsed(ms))
                          .arg(m_running ? tr("elapsed") : tr("in all"))
                          .arg(m_controller.toHtmlEscaped()));
}

}  // namespace matrix::ui
