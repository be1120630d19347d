// AgentRunBar: the live agent run above the trajectory stepper: "Agent run 3 · step 2/8 · 0:14", the controller
// (loading / loaded), the sandbox's isolation (bubblewrap in green, the reduced-isolation warning in orange), the latest note, and Cancel; when the
// run ends, its result (answered / forced / invalid with the reason / cancelled, with Resume). Hidden until a run
// starts. Fed by the main window from AgentWorker's signals; UI thread only.
#pragma once

#include <QElapsedTimer>
#include <QWidget>

#include "ui/workers/agent_worker.h"

class QLabel;
class QPushButton;
class QTimer;

namespace matrix::ui {

class AgentRunBar : public QWidget {
    Q_OBJECT
public:
    explicit AgentRunBar(QWidget* parent = nullptr);

    void runStarted(const AgentRunStart& start);
    void stepStored(int stepsSoFar);
    void setIsolation(const QString& text, bool reduced);
    void controllerLoading(const QString& description);
    void controllerReady(double seconds, bool reused);
    void setNote(const QString& text);
    void runFinished(const AgentRunOutcome& outcome);

    bool isRunning() const { return m_running; }
    qint64 runId() const { return m_runId; }
    QString statusText() const;  // the first line as shown (tests)
    QString isolationText() const;
    QString controllerText() const;
    QString resultText() const;
    QLabel* isolationLabel() const { return m_isolation; }
    QPushButton* cancelButton() const { return m_cancel; }
    QPushButton* resumeButton() const { return m_resume; }

signals:
    void cancelRequested();
    void resumeRequested(qint64 runId);
    void showTrajectoryRequested(qint64 taskId, qint64 trajectoryId);

private:
    void updateStatus();

    bool m_running = false;
    qint64 m_runId = 0, m_taskId = 0, m_trajectoryId = 0;
    int m_steps = 0, m_maxSteps = 0;
    QString m_controller;
    QElapsedTimer m_clock;
    qint64 m_elapsedMs = 0;
    QTimer* m_tick;
    QLabel* m_status;
    QLabel* m_controllerLine;
    QLabel* m_isolation;
    QLabel* m_note;
    QLabel* m_result;
    QPushButton* m_cancel;
    QPushButton* m_resume;
    QPushButton* m_close;
};

// "1:05" / "1:02:03".
QString formatElapsed(qint64 ms);

}  // namespace matrix::ui
