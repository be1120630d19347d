// Actions: every action of the main window, created in one place with its standard shortcut, status tip and a
// tooltip that shows the shortcut, so none is defined twice or drifts from its menu entry. Menus and the toolbar are filled from these.
#pragma once

#include <QList>

class QAction;
class QMainWindow;
class QMenu;
class QUndoStack;

namespace matrix::ui {

struct Actions {
    // File
    QAction* openProject;
    QAction* newProject;
    QAction* openDemo;
    QAction* importMtrace;
    QAction* importPrefx;
    QAction* exportData;
    QAction* imageRoots;
    QAction* clearRecent;
    QAction* quit;
    // Edit
    QAction* undo;
    QAction* redo;
    QAction* find;
    // Navigate (trajectory stepper)
    QAction* nextStep;
    QAction* previousStep;
    QAction* nextTask;
    QAction* previousTask;
    // Curation
    QAction* pickChosen;
    QAction* pickRejected;
    QAction* approve;
    QAction* reject;
    QAction* swap;
    QAction* editChosen;
    QAction* nextPending;
    QAction* nextPair;
    QAction* previousPair;
    // Agent
    QAction* runAgent;
    QAction* cancelAgent;
    QAction* resumeAgent;
    QAction* startServer;  // a local `matrix serve` (ui/workers/local_server.h)
    QAction* stopServer;
    // View
    QAction* toggleBoxes;
    QAction* fitImage;
    QAction* refresh;
    QAction* resetLayout;
    // Help
    QAction* about;

    // Creates all actions owned by `window`; undo/redo come from `undoStack`.
    static Actions create(QMainWindow* window, QUndoStack* undoStack);
    QList<QAction*> curationActions() const;
};

// Adds the shortcut to the action's tooltip ("Approve pair (A)").
void decorateTooltip(QAction* action);

}  // namespace matrix::ui
