// Plain value types the panes display: one task with its trajectory and images, and one preference pair.
// Filled from the store by ProjectSession (ui/models/project_session.h) off the UI thread; the views take
// them as data and never touch SQL.
#pragma once

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

#include "ui/widgets/image_viewer.h"
#include "ui/widgets/tool_badges.h"

namespace matrix::ui {

struct StepData {
    int index = 0;
    QString action;       // assistant turn verbatim
    QString thought;
    QString code;
    QString observation;  // printed output or error message (no header)
    bool isError = false;
    bool isFinal = false;
    bool hasObservation = false;
    int pairCount = 0;  // preference pairs whose candidates are for this step
    QVector<ToolBadge> tools;
};

// One trajectory of a task, for the stepper's trajectory chooser.
struct TrajectoryEntry {
    qint64 id = 0;
    QString source;  // mtrace | gold | prefx | beam | run
    qint64 runId = 0;
    QString status;  // a run's: running | answered | forced | no_answer | invalid | cancelled
    int steps = 0;
    QString label() const;  // "M-TRACE · 3 steps", "Run 4 · forced · 2 steps"
};

struct TaskData {
    qint64 id = 0;
    QString externalId;
    QString dataset;
    QString query;
    QString answer;
    QString groundTruth;
    QString verdict;
    QString verifierText;
    QVector<ViewerImage> images;  // task images, then tool outputs (step >= 0)
    QVector<StepData> steps;
    // Every trajectory of the task (the primary one first) and which one `steps` are; live: an agent run is
    // adding steps to it now.
    QVector<TrajectoryEntry> trajectories;
    qint64 trajectoryId = 0;
    bool live = false;
    int pairCount = 0;
    // Tasks holding this task's pairs: itself, and tasks of Pref-X datasets with the same task text (the Pref-X
    // importer creates its own task per distinct prompt).
    QVector<qint64> pairTaskIds;
    bool valid() const { return id > 0; }
};

struct PairData {
    qint64 id = 0;
    qint64 datasetId = 0;
    qint64 taskId = 0;
    int stepIndex = 0;
    QString taskQuery;
    QStringList history;  // the shared prefix: alternating actions and observation turns
    QString chosenAction, chosenObservation;
    QString rejectedAction, rejectedObservation;
    QString status;  // pending / approved / rejected
    QString rejectionReason;
    QString note;
    QString verifierReason;  // a sampled pair: why the verifier picked the chosen action
    bool valid() const { return id > 0; }
};

struct PairProgress {
    qint64 approved = 0, rejected = 0, pending = 0;
    qint64 total() const { return approved + rejected + pending; }
};

}  // namespace matrix::ui

Q_DECLARE_METATYPE(matrix::ui::StepData)
Q_DECLARE_METATYPE(matrix::ui::TaskData)
Q_DECLARE_METATYPE(matrix::ui::PairData)
