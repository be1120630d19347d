// Renders every main view of a MainWindow to PNG files (QWidget::grab; works on the offscreen platform), for
// `matrix-workbench --screenshot DIR` and its test. Picks a task with images, boxes and pairs to show, and a
// task with a missing image for the missing state.
#pragma once

#include <QString>
#include <QStringList>

namespace matrix::ui {

class MainWindow;

// Returns the files written (absolute paths); an entry starting with "error:" when something failed.
QStringList takeScreenshots(MainWindow& window, const QString& dir);

// The "Run agent" dialog for the current task (agent_run_dialog.png) and, when an agent run was started in this
// window, the stepper with the run bar (agent_run.png). Part of takeScreenshots; the agent test calls it during
// and after a real run.
QStringList takeAgentScreenshots(MainWindow& window, const QString& dir, const QString& suffix = {});

}  // namespace matrix::ui
