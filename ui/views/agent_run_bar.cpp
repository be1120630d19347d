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

namespace {
QString stepsText(int n) { return n == 1 ? QObject::tr("1 step") : QObject::tr("%1 steps").arg(n); }
}  // namespace

AgentRunBar::AgentRunBar(QWidget* parent)
    : QWidget(parent),
      m_tick(new QTimer(this)),
      m_status(new QLabel(this)),
      m_controllerLine(new QLabel(this)),
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
    for (QLabel* l : {m_controllerLine, m_isolation, m_note, m_result}) {
        l->setWordWrap(true);
        l->setTextInteractionFlags(Qt::TextSelectableByMouse);
        v->addWidget(l);
    }
    m_status->setTextFormat(Qt::RichText);
    m_result->setTextFormat(Qt::RichText);
    m_note->setStyleSheet(QStringLiteral("color:#555"));
    m_controllerLine->setStyleSheet(QStringLiteral("color:#333"));
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
    m_controllerLine->setText(tr("Controller: %1").arg(m_controller));
    m_controllerLine->setToolTip(start.controllerDetail);
    m_controllerLine->show();
    m_result->clear();
    m_result->hide();
    setNote(m_steps > 0 ? tr("Resuming after %1 stored").arg(stepsText(m_steps)) : QString());
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
    // The first clause says what protects the host; the limits that follow are in the tooltip.
    const QString head = text.section(QLatin1Char(';'), 0, 0);
    m_isolation->setText(reduced ? tr("\u26a0 %1").arg(head) : tr("Sandbox: %1").arg(head));
    m_isolation->setStyleSheet(reduced ? QStringLiteral("color:#b35900; font-weight:bold") : QStringLiteral("color:#1b7a33"));
    m_isolation->setToolTip(text + QStringLiteral("\n\n") +
                            (reduced ? tr("bubblewrap could not isolate the agent's code here: only resource limits apply, "
                                          "and the code can read what this user can read")
                                     : tr("The agent's code runs in bubblewrap: no network, read-only system, only its work folder writable")));
    m_isolation->show();
}

void AgentRunBar::controllerLoading(const QString& description) {
    m_controllerLine->setText(tr("Controller: %1 \u00b7 loading ...").arg(description));
    m_controllerLine->show();
}

void AgentRunBar::controllerReady(double seconds, bool reused) {
    m_controllerLine->setText(reused ? tr("Controller: %1 \u00b7 already loaded").arg(m_controller)
                                     : tr("Controller: %1 \u00b7 loaded in %2 s").arg(m_controller).arg(seconds, 0, 'f', 1));
    m_controllerLine->show();
}

QString AgentRunBar::controllerText() const { return m_controllerLine->text(); }

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
        text = tr("<span style='color:#1b7a33; font-weight:bold'>Answered</span> after %1: %2").arg(stepsText(o.steps), answer);
    else if (o.status == QLatin1String("forced"))
        text = tr("<span style='color:#8a5a00; font-weight:bold'>Forced answer</span> after %1 (%2, %3 errors): %4")
                   .arg(o.stopReason == QLatin1String("max_errors") ? tr("the error limit") : tr("the step limit"))
                   .arg(stepsText(o.steps))
                   .arg(o.errors)
                   .arg(answer);
    else if (o.status == QLatin1String("no_answer"))
        text = tr("<span style='color:#8a5a00; font-weight:bold'>No answer</span> (stopped at %1)").arg(o.stopReason.toHtmlEscaped());
    else if (o.status == QLatin1String("invalid"))
        text = tr("<span style='color:#b3261e; font-weight:bold'>Invalid</span>: %1").arg(o.reason.toHtmlEscaped());
    else if (o.status == QLatin1String("cancelled"))
        text = tr("<span style='color:#555; font-weight:bold'>Cancelled</span> after %1: the steps are stored; "
                  "Resume carries the run on").arg(stepsText(m_steps));
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
QString AgentRunBar::isolationText() const { return m_isolation->toolTip().section(QLatin1Char('\n'), 0, 0); }
QString AgentRunBar::resultText() const { return m_result->text(); }

void AgentRunBar::updateStatus() {
    const qint64 ms = m_running && m_clock.isValid() ? m_clock.elapsed() : m_elapsedMs;
    m_status->setText(tr("<b>Agent run %1</b> \u00b7 step %2/%3 \u00b7 %4 %5%6")
                          .arg(m_runId)
                          .arg(m_steps)
                          .arg(m_maxSteps)
                          .arg(formatElapsed(ms))
                          .arg(m_running ? tr("elapsed") : tr("in all"))
                          .arg(m_running ? tr(" \u00b7 <span style='color:#1a5fb4'>running</span>") : QString()));
}

}  // namespace matrix::ui
