// AgentRunDialog: "Run agent on this task". The controller (a local Qwen2-VL model folder with an optional PEFT
// adapter, or an OpenAI-compatible endpoint and its model name; the API key is read from $OPENAI_API_KEY), the MATRIX tools offered (each with its backend
// status), the limits (steps, errors, step timeout), sampling (MATRIX defaults: T 0.7, top-p 0.8, top-k 100,
// repetition penalty 1.05, 512 new tokens; or greedy), seed and the system prompt choice. Keyboard first: Return
// runs, Esc cancels; the Run button stays disabled while the form cannot run, and the reason is shown.
// The folders and endpoint are remembered in Settings when the dialog is accepted. The dialog only collects
// settings(): the main window's AgentWorker runs them, so a run outlives the dialog. UI thread only.
#pragma once

#include <QDialog>

#include "core/agent/agent_run.h"

class QButtonGroup;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QTimer;
class QPushButton;
class QRadioButton;
class QSpinBox;

namespace matrix::ui {

class AgentRunDialog : public QDialog {
    Q_OBJECT
public:
    // `taskTitle`: the task as the user knows it ("t0 · Count the boxes.").
    AgentRunDialog(qint64 taskId, const QString& taskTitle, QWidget* parent = nullptr);

    // The run's settings from the form (task_ids = {the task}); valid when validationMessage() is empty.
    matrix::agent::AgentRunSettings settings() const;
    // Why the form cannot run now ("" when it can).
    QString validationMessage() const;
    qint64 taskId() const { return m_taskId; }

    // Whether this build can run each controller kind; the reason when it cannot.
    static bool localControllerAvailable(QString* why = nullptr);
    static bool endpointControllerAvailable(QString* why = nullptr);

    // For tests and screenshots.
    QLineEdit* modelDirEdit() const { return m_modelDir; }
    QLineEdit* adapterDirEdit() const { return m_adapterDir; }
    QLineEdit* endpointUrlEdit() const { return m_endpointUrl; }
    QLineEdit* endpointModelEdit() const { return m_endpointModel; }
    QRadioButton* localButton() const { return m_local; }
    QRadioButton* endpointButton() const { return m_endpoint; }
    QListWidget* toolList() const { return m_tools; }
    QLabel* toolsNote() const { return m_toolsNote; }
    QSpinBox* maxStepsBox() const { return m_maxSteps; }
    QSpinBox* maxErrorsBox() const { return m_maxErrors; }
    QSpinBox* maxNewTokensBox() const { return m_maxNewTokens; }
    QCheckBox* greedyBox() const { return m_greedy; }
    QComboBox* systemPromptBox() const { return m_systemPrompt; }
    QPushButton* runButton() const { return m_run; }
    QLabel* validationLabel() const { return m_validation; }

public slots:
    void accept() override;
    // Lists every tool with its backend for the controller chosen now (engine tools name the model or endpoint
    // that will answer them), keeping the check marks; plugins that failed to load are named in the note.
    void refreshTools();

private:
    QWidget* buildController();
    QWidget* buildTools();
    QWidget* buildLimits();
    QWidget* buildSampling();
    QWidget* buildPrompt();
    void validate();
    void browseDir(QLineEdit* edit, const QString& title);

    qint64 m_taskId;
    QRadioButton* m_local = nullptr;
    QRadioButton* m_endpoint = nullptr;
    QLineEdit* m_modelDir = nullptr;
    QPushButton* m_modelBrowse = nullptr;
    QLineEdit* m_adapterDir = nullptr;
    QPushButton* m_adapterBrowse = nullptr;
    QLineEdit* m_endpointUrl = nullptr;
    QLineEdit* m_endpointModel = nullptr;
    QListWidget* m_tools = nullptr;
    QLabel* m_toolsNote = nullptr;
    QTimer* m_toolsTimer = nullptr;  // refreshTools() shortly after the controller fields stop changing
    QSpinBox* m_maxSteps = nullptr;
    QSpinBox* m_maxErrors = nullptr;
    QDoubleSpinBox* m_stepTimeout = nullptr;
    QCheckBox* m_greedy = nullptr;
    QDoubleSpinBox* m_temperature = nullptr;
    QDoubleSpinBox* m_topP = nullptr;
    QSpinBox* m_topK = nullptr;
    QDoubleSpinBox* m_repetitionPenalty = nullptr;
    QSpinBox* m_maxNewTokens = nullptr;
    QSpinBox* m_seed = nullptr;
    QComboBox* m_systemPrompt = nullptr;
    QLineEdit* m_promptFile = nullptr;
    QPushButton* m_promptBrowse = nullptr;
    QLabel* m_validation = nullptr;
    QPushButton* m_run = nullptr;
};

}  // namespace matrix::ui
