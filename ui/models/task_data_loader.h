// Builds the TaskData a task's panes show (trajectory steps with tool badges, images with resolution state and
// the boxes tools returned, tool-produced images from observations) from the store. Runs on the session's
// worker thread (it only reads); the result is plain data handed to the UI thread.
#pragma once

#include <QStringList>

#include "core/store/project.h"
#include "core/store/trajectory_repo.h"
#include "ui/models/view_data.h"

namespace matrix::ui {

// `extraRoots`: image roots from the user's settings, searched after the project's own roots. `trajectoryId`:
// which of the task's trajectories to show (0: the primary one, or the newest when the task has only runs').
TaskData loadTaskData(store::Project& project, qint64 taskId, const QStringList& extraRoots, qint64 trajectoryId = 0);

// A stored step as the stepper shows it (tool calls as badges).
StepData stepData(const store::Step& step);
// The chooser's entry for a trajectory (a run's status read from its extra JSON).
TrajectoryEntry trajectoryEntry(const store::Trajectory& t);

// Where a path as written in a record is looked for, in core's order (formats::MediaResolver, the importers'
// resolver): an absolute path as it is, then each root joined with the path, then with the path minus its
// leading directories ("data/x/images/a.png" under root R: R/data/x/images/a.png, R/x/images/a.png, ...).
QStringList candidatePaths(const QString& path, const QStringList& roots);
// The first candidate that exists inside a root (real path), or an empty string.
QString resolveImagePath(const QString& path, const QStringList& roots);

// "object=\"apple\", image_path=\"a.png\"" from a JSON arguments object text.
QString formatArguments(const std::string& argumentsJson);

}  // namespace matrix::ui
