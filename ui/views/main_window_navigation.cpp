// MainWindow, navigation between the panes (see main_window.h): a task shown with its images and trajectory
// (loaded on the session's worker), the curation pane's pair followed to its task and step, the step's images
// and boxes, and the chosen action edited. Moved out of main_window.cpp unchanged.
#include "ui/models/pair_curation_model.h"
#include "ui/models/project_session.h"
#include "ui/models/task_data_loader.h"
#include "ui/settings.h"
#include "ui/views/main_window.h"
#include "ui/views/trajectory_view.h"
#include "ui/widgets/action_editor.h"
#include "ui/widgets/image_viewer.h"

namespace matrix::ui {

void MainWindow::showTask(qint64 taskId) { showTaskAtStep(taskId, -1, 0); }

void MainWindow::showTaskAtStep(qint64 taskId, int step) { showTaskAtStep(taskId, step, 0); }

void MainWindow::showTaskTrajectory(qint64 taskId, qint64 trajectoryId) { showTaskAtStep(taskId, -1, trajectoryId); }

void MainWindow::showTaskAtStep(qint64 taskId, int step, qint64 trajectoryId) {
    if (taskId <= 0) return;
    const int gen = ++m_taskGeneration;
    m_session->post(this, [taskId, trajectoryId, roots = Settings().imageRoots()](store::Project& p) {
                        return loadTaskData(p, taskId, roots, std::max<qint64>(0, trajectoryId));
                    },
                    [this, gen, taskId, step, trajectoryId](TaskData d) {
                        if (gen != m_taskGeneration) return;
                        applyLiveRun(d, trajectoryId);
                        m_task = d;
                        m_images->setImages(d.images);
                        if (step >= 0) {
                            // For a pair: keep the pair the user is on, show its step.
                            m_showingPairTask = true;
                            m_trajectory->setTask(d);
                            m_trajectory->setCurrentStep(step);
                            m_showingPairTask = false;
                        } else {
                            m_trajectory->setTask(d);
                            if (d.live && !d.steps.isEmpty()) m_trajectory->setCurrentStep(int(d.steps.size()) - 1);
                            for (qint64 id : d.pairTaskIds)
                                if (m_curation->showFirstPairOfTask(id)) break;
                        }
                        updateAgentActions();
                        emit taskShown(taskId);
                    });
}

void MainWindow::followPair(const PairData& pair) {
    if (!pair.valid() || pair.taskId <= 0) return;
    if (m_task.valid() && (pair.taskId == m_task.id || m_task.pairTaskIds.contains(pair.taskId))) {
        m_showingPairTask = true;
        m_trajectory->setCurrentStep(pair.stepIndex);
        m_showingPairTask = false;
        return;
    }
    showTaskAtStep(pair.taskId, pair.stepIndex);
}

void MainWindow::onStepChanged(int step) {
    // A step with preference pairs brings its first pair into the curation pane (unless the step is being shown
    // for the pair the user moved to).
    if (!m_showingPairTask && step >= 0 && step < m_task.steps.size() && m_task.steps[step].pairCount > 0)
        for (qint64 id : m_task.pairTaskIds)
            if (m_curation->showPairOfStep(id, step)) break;
    // Boxes returned by this step's tool calls are the ones drawn (all of an image's boxes on other steps).
    m_images->setStep(step);
    // Show the image a step produced (image_edit, segmentation, image_generator) while on that step, else the image
    // its boxes (objectlocation, facedetection) are about.
    for (int i = 0; i < m_images->count(); ++i) {
        if (m_images->image(i).step == step && step >= 0) {
            m_images->setCurrentIndex(i);
            return;
        }
    }
    if (const int withBoxes = m_images->indexWithBoxesOfStep(step); withBoxes >= 0 && withBoxes != m_images->currentIndex())
        m_images->setCurrentIndex(withBoxes);
}

void MainWindow::editChosen() {
    if (!m_curation->current().valid()) return;
    ActionEditor editor(this);
    editor.setAction(m_curation->current().chosenAction);
    if (editor.exec() == QDialog::Accepted) m_curation->editChosen(editor.action());
}

}  // namespace matrix::ui
