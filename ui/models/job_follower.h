// JobFollower: follows one job (core/jobs: a `matrix` process outliving the window) from the project, for every dock
// that launches its work as a job (Training, Sample, Synthesis): every half second, on the ProjectSession's worker,
// the job's row after a liveness check (refresh_job: a process that died without recording its end is marked
// failed) and the complete lines its log gained. The dock reads its own progress from those lines (the shared
// "[progress done/total, eta N s]" form: parseProgress) and its results from the store once the job ends.
// Pause / continue / cancel of the followed job live here too, so the docks share one implementation (local:
// SIGSTOP / SIGCONT / SIGTERM to the job's processes; Slurm: scontrol suspend|resume, scancel).
// Also the `matrix` program the docks launch, found the same way for all of them.
// Thread safety: UI thread only.
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>
#include <optional>

#include "core/jobs/job_repo.h"

class QTimer;

namespace matrix::ui {

class ProjectSession;

class JobFollower : public QObject {
    Q_OBJECT
public:
    explicit JobFollower(ProjectSession* session, QObject* parent = nullptr);

    // Starts following a job from the beginning of its log (a dock that reattaches sees the whole log).
    void follow(qint64 jobId);
    void stop();
    qint64 jobId() const { return m_jobId; }
    // The job as last read (empty until the first poll answers).
    const std::optional<jobs::Job>& job() const { return m_job; }
    // Following a job that has not ended (as far as the last poll knows).
    bool isActive() const { return m_jobId > 0 && (!m_job || !m_job->is_final()); }
    void setInterval(int ms);

    struct Progress {
        int done = 0, total = 0;
        double eta_s = -1;  // -1: not given
    };
    // "[progress 3/10, eta 42 s]" (what `matrix sample|synth|eval run` print on stderr, which the job's log holds).
    static std::optional<Progress> parseProgress(const QString& line);
    // Where a job runs, for the docks' messages: "Slurm job 123" or "process 4567 on host".
    static QString whereText(const jobs::Job& job);
    // Why a failed job failed, in one line for the docks: the reason's first line without its "; log tail:" and the
    // command's own last word from the log tail ("the command ended with exit code 1: matrix: DIR: cannot open
    // tokenizer file"); the supervisor's "[job ...]" lines are skipped. The first line alone when the tail has none.
    static QString failureText(const jobs::Job& job);
    // The `matrix` program: beside the workbench's executable, else on PATH (empty when neither).
    static QString matrixBinary();

    // Pauses the followed job, or continues it when it is paused; returns "pause" or "resume" (what was asked),
    // or an empty string when no unfinished job is followed. The job's row is read again once the action ran.
    QString togglePause();
    // Cancels the followed job (false when none is followed or it has ended).
    bool cancel();

public slots:
    void poll();

signals:
    void linesRead(const QStringList& lines);       // the log's new complete lines, in order
    void jobUpdated(const matrix::jobs::Job& job);  // every answered poll, after linesRead
    void ended(const matrix::jobs::Job& job);       // once, when the job is in a final state (after its last lines)
    // A pause / resume / cancel ran: `error` is empty when it succeeded, else the reason (e.g. scontrol's message).
    void controlled(const QString& action, const QString& error);

private:
    void control(const QString& action);

    ProjectSession* m_session;
    QTimer* m_timer;
    qint64 m_jobId = 0;
    qint64 m_logOffset = 0;
    int m_generation = 0;
    bool m_inFlight = false;
    std::optional<jobs::Job> m_job;
};

}  // namespace matrix::ui
