// TrajectoryView: the trajectory stepper. Steps as a list; for the current step the thought, the code with
// Python highlighting, the parsed tool calls as badges, the observation (monospace, collapsible, errors in
// red); below, the task's final answer, ground truth and verifier verdict. Above, a chooser of the task's
// trajectories (the dataset's, and each agent run's); a live agent run's steps are appended as they come
// (appendStep). nextStep()/previousStep() are bound to J/K by the main window; arrow keys work in the list.
// Plain TaskData in; UI thread only.
#pragma once

#include <QWidget>

#include "ui/models/view_data.h"

class QComboBox;
class QLabel;
class QListView;
class QPlainTextEdit;

namespace matrix::ui {

class CollapsibleText;
class StepListModel;
class ToolBadges;

class TrajectoryView : public QWidget {
    Q_OBJECT
public:
    explicit TrajectoryView(QWidget* parent = nullptr);

    void setTask(const TaskData& task);
    // A new step of the live run shown (task().live): appended; the view follows it when on the last step.
    void appendStep(const StepData& step);
    QComboBox* trajectoryBox() const { return m_trajectoryBox; }
    const TaskData& task() const { return m_task; }
    int currentStep() const { return m_current; }
    QListView* stepList() const { return m_list; }
    QString thoughtText() const;
    QString codeText() const;
    CollapsibleText* observation() const { return m_observation; }
    ToolBadges* badges() const { return m_badges; }

public slots:
    void setCurrentStep(int index);
    void nextStep();
    void previousStep();

signals:
    void currentStepChanged(int index);
    // The user picked another trajectory of the task in the chooser.
    void trajectoryChosen(qint64 taskId, qint64 trajectoryId);

private:
    void showStep(int index);
    void updateHeader();
    void fillTrajectoryBox();

    TaskData m_task;
    int m_current = -1;
    StepListModel* m_model;
    QListView* m_list;
    QLabel* m_header;
    QComboBox* m_trajectoryBox;
    QLabel* m_stepTitle;
    QLabel* m_thought;
    QPlainTextEdit* m_code;
    ToolBadges* m_badges;
    CollapsibleText* m_observation;
    QLabel* m_answer;
};

}  // namespace matrix::ui
