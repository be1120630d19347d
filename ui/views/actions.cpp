// Actions::create: the one place where the main window's actions, shortcuts and tips are defined.
#include "ui/views/actions.h"

#include <QAction>
#include <QApplication>
#include <QMainWindow>
#include <QStyle>
#include <QUndoStack>

namespace matrix::ui {

void decorateTooltip(QAction* a) {
    QString tip = a->text();
    tip.remove('&');
    if (tip.endsWith(QStringLiteral("..."))) tip.chop(3);
    if (!a->shortcut().isEmpty()) tip += QStringLiteral(" (%1)").arg(a->shortcut().toString(QKeySequence::NativeText));
    a->setToolTip(tip);
}

Actions Actions::create(QMainWindow* w, QUndoStack* undoStack) {
    QStyle* style = QApplication::style();
    auto make = [w](const QString& text, const QKeySequence& key, const QString& tip, QIcon icon = {}) {
        auto* a = new QAction(icon, text, w);
        a->setShortcut(key);
        a->setStatusTip(tip);
        a->setShortcutContext(Qt::WindowShortcut);
        decorateTooltip(a);
        w->addAction(a);
        return a;
    };
    Actions a{};
    a.openProject = make(QObject::tr("&Open Project..."), QKeySequence::Open, QObject::tr("Open a project file (.matrix)"),
                         style->standardIcon(QStyle::SP_DialogOpenButton));
    a.newProject = make(QObject::tr("&New Project..."), QKeySequence::New, QObject::tr("Create an empty project file"),
                        style->standardIcon(QStyle::SP_FileIcon));
    a.openDemo = make(QObject::tr("Open &Demo Project"), QKeySequence(), QObject::tr("Open the bundled demo project"));
    a.importMtrace = make(QObject::tr("Import &M-TRACE..."), QKeySequence(QStringLiteral("Ctrl+I")),
                          QObject::tr("Import M-TRACE trajectories (JSON) into the project"),
                          style->standardIcon(QStyle::SP_ArrowDown));
    a.importPrefx = make(QObject::tr("Import &Pref-X..."), QKeySequence(QStringLiteral("Ctrl+Shift+I")),
                         QObject::tr("Import Pref-X preference pairs (JSON) into the project"));
    a.exportData = make(QObject::tr("&Export..."), QKeySequence(QStringLiteral("Ctrl+E")),
                        QObject::tr("Export a dataset as M-TRACE or Pref-X (approved pairs only, optionally)"),
                        style->standardIcon(QStyle::SP_ArrowUp));
    a.imageRoots = make(QObject::tr("Image &Roots..."), QKeySequence(), QObject::tr("Folders searched for images referenced by relative paths"));
    a.clearRecent = make(QObject::tr("Clear Recent Projects"), QKeySequence(), QObject::tr("Forget the recent projects list"));
    a.quit = make(QObject::tr("&Quit"), QKeySequence::Quit, QObject::tr("Quit the workbench"));

    a.undo = undoStack->createUndoAction(w, QObject::tr("&Undo"));
    a.undo->setShortcut(QKeySequence(QStringLiteral("Ctrl+Z")));
    a.undo->setStatusTip(QObject::tr("Undo the last curation change (reverted in the project file)"));
    a.undo->setIcon(style->standardIcon(QStyle::SP_ArrowBack));
    w->addAction(a.undo);
    a.redo = undoStack->createRedoAction(w, QObject::tr("&Redo"));
    a.redo->setShortcuts({QKeySequence(QStringLiteral("Ctrl+Shift+Z")), QKeySequence(QStringLiteral("Ctrl+Y"))});
    a.redo->setStatusTip(QObject::tr("Redo the last undone curation change"));
    a.redo->setIcon(style->standardIcon(QStyle::SP_ArrowForward));
    w->addAction(a.redo);
    for (QAction* u : {a.undo, a.redo}) {
        decorateTooltip(u);
        QObject::connect(u, &QAction::changed, u, [u] {
            const QString tip = u->text().remove('&') + QStringLiteral(" (%1)").arg(u->shortcut().toString(QKeySequence::NativeText));
            if (u->toolTip() != tip) u->setToolTip(tip);
        });
    }
    a.find = make(QObject::tr("&Find Tasks"), QKeySequence::Find, QObject::tr("Full-text search over tasks, thoughts, code and observations"));

    a.nextStep = make(QObject::tr("Next Step"), QKeySequence(Qt::Key_J), QObject::tr("Next step of the trajectory (J or Down in the step list)"));
    a.previousStep = make(QObject::tr("Previous Step"), QKeySequence(Qt::Key_K), QObject::tr("Previous step of the trajectory (K or Up in the step list)"));
    a.nextTask = make(QObject::tr("Next Task"), QKeySequence(QStringLiteral("Ctrl+Down")), QObject::tr("Select the next task in the browser"));
    a.previousTask = make(QObject::tr("Previous Task"), QKeySequence(QStringLiteral("Ctrl+Up")), QObject::tr("Select the previous task in the browser"));

    a.pickChosen = make(QObject::tr("Chosen Is Better"), QKeySequence(Qt::Key_1), QObject::tr("Side 1 (chosen) is the better action: approve the pair"));
    a.pickRejected = make(QObject::tr("Rejected Is Better"), QKeySequence(Qt::Key_2), QObject::tr("Side 2 is the better action: swap the sides and approve"));
    a.approve = make(QObject::tr("&Approve Pair"), QKeySequence(Qt::Key_A), QObject::tr("Keep this pair for DPO training"),
                     style->standardIcon(QStyle::SP_DialogApplyButton));
    a.reject = make(QObject::tr("&Reject Pair"), QKeySequence(Qt::Key_R), QObject::tr("Discard this pair (with the chosen reason)"),
                    style->standardIcon(QStyle::SP_DialogDiscardButton));
    a.swap = make(QObject::tr("&Swap Chosen/Rejected"), QKeySequence(QStringLiteral("Ctrl+Shift+S")), QObject::tr("Exchange the chosen and rejected actions"));
    a.editChosen = make(QObject::tr("&Edit Chosen Action..."), QKeySequence(Qt::Key_E), QObject::tr("Edit the chosen action (Thought/Code)"));
    a.nextPending = make(QObject::tr("Next &Pending Pair"), QKeySequence(Qt::Key_Space), QObject::tr("Go to the next pair waiting for review"),
                         style->standardIcon(QStyle::SP_MediaSkipForward));
    a.nextPair = make(QObject::tr("Next Pair"), QKeySequence(QStringLiteral("Ctrl+Right")), QObject::tr("Go to the next pair"));
    a.previousPair = make(QObject::tr("Previous Pair"), QKeySequence(QStringLiteral("Ctrl+Left")), QObject::tr("Go to the previous pair"));

    a.runAgent = make(QObject::tr("Run &Agent on This Task..."), QKeySequence(QStringLiteral("Ctrl+Shift+A")),
                      QObject::tr("Run the agent (a local model or an endpoint, with tools, in the sandbox) on the selected "
                                  "task; its steps appear live in the trajectory stepper"),
                      style->standardIcon(QStyle::SP_MediaPlay));
    a.cancelAgent = make(QObject::tr("&Cancel Agent Run"), QKeySequence(QStringLiteral("Ctrl+Shift+X")),
                         QObject::tr("Stop the running agent at the next token or step; its steps are kept and it can be resumed"),
                         style->standardIcon(QStyle::SP_MediaStop));
    a.resumeAgent = make(QObject::tr("Res&ume Agent Run"), QKeySequence(QStringLiteral("Ctrl+Shift+R")),
                         QObject::tr("Carry on the cancelled agent run from its stored steps"));
    a.startServer = make(QObject::tr("Start Local &Server..."), QKeySequence(),
                         QObject::tr("Serve a model over the OpenAI API from this machine (matrix serve); its address and "
                                     "load show in the status bar"));
    a.stopServer = make(QObject::tr("Stop Local Ser&ver"), QKeySequence(), QObject::tr("Stop the local matrix serve process"));
    a.toggleBoxes = make(QObject::tr("Show Tool &Boxes"), QKeySequence(Qt::Key_B), QObject::tr("Draw the boxes returned by tools over the image"));
    a.toggleBoxes->setCheckable(true);
    a.toggleBoxes->setChecked(true);
    a.fitImage = make(QObject::tr("&Fit Image"), QKeySequence(Qt::Key_F), QObject::tr("Fit the image to its pane"));
    a.refresh = make(QObject::tr("Re&fresh"), QKeySequence::Refresh, QObject::tr("Reload the task list and charts from the project"),
                     style->standardIcon(QStyle::SP_BrowserReload));
    a.resetLayout = make(QObject::tr("Reset &Layout"), QKeySequence(), QObject::tr("Restore the default pane layout"));
    a.about = make(QObject::tr("&About"), QKeySequence(), QObject::tr("About MATRIX Workbench"));
    return a;
}

QList<QAction*> Actions::curationActions() const {
    return {pickChosen, pickRejected, approve, reject, swap, editChosen, nextPending, nextPair, previousPair};
}

}  // namespace matrix::ui
