// "Run agent on this task" end to end: the dialog driven from the keyboard (validation, MATRIX defaults, Return
// runs, Esc cancels, remembered folders); the AgentWorker on its thread with the tiny fixture Qwen2-VL (greedy, 6
// new tokens, 2 steps: the random model writes no code block, so both steps are parse errors and the answer is
// forced), one signal per stored step and the stored run trajectory; cancel after the first step leaves a
// "cancelled" run that a resume finishes; and the main window showing the run live in the stepper with the run
// bar, then the stored trajectory in the task's trajectory chooser. PNGs of the dialog and the live run are
// written to <build>/screenshots/agent/ to look at.
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QPushButton>
#include <QAction>
#include <QRadioButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QThread>
#include <QtTest>

#include "core/agent/agent_job.h"
#include "core/store/run_repo.h"
#include "tests/ui/ui_fixture.h"
#include "ui/models/project_session.h"
#include "ui/models/task_table_model.h"
#include "ui/settings.h"
#include "ui/views/agent_run_bar.h"
#include "ui/views/agent_run_dialog.h"
#include "ui/views/main_window.h"
#include "ui/views/screenshots.h"
#include "ui/views/task_browser.h"
#include "ui/views/trajectory_view.h"
#include "ui/workers/agent_worker.h"

using namespace matrix;
using namespace matrix::ui;
using matrix::test::must;
using matrix::test::UiFixture;

namespace {
const QString kModel = QStringLiteral(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny/tiny-qwen2vl");

// The run the tests make: the tiny model, greedy, 6 new tokens, 2 steps.
agent::AgentRunSettings tinyRun(qint64 taskId) {
    agent::AgentRunSettings s;
    s.name = "tiny";
    s.controller = {{"kind", "local"}, {"model", kModel.toStdString()}, {"adapter", ""}};
    for (const auto& spec : agent::matrix_tool_specs()) s.tools.push_back(spec.name);
    s.loop.max_steps = 2;
    s.loop.generation.max_new_tokens = 6;
    s.loop.generation.groups.front().do_sample = false;
    s.sandbox.step_timeout_s = 60;
    s.task_ids = {taskId};
    return s;
}

// Selects all text of the focused editor and types `text`, as a user would.
void typeInto(QWidget* w, const QString& text) {
    w->setFocus();
    QTest::keyClick(w, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClick(w, Qt::Key_Backspace);
    QTest::keyClicks(w, text);
}
}  // namespace

class TestAgentRun : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void dialogFromKeyboard();
    void workerRunsTinyModel();
    void cancelThenResume();
    void mainWindowShowsRunLive();
    void reducedIsolationIsShown();

private:
    // Runs `worker` once on its thread; returns the outcome.
    AgentRunOutcome runOnce(AgentWorker* worker, const AgentRequest& request);

    QTemporaryDir m_settings;
    QTemporaryDir m_work;
    QThread m_thread;
    QString m_shots;
};

void TestAgentRun::initTestCase() {
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settings.path());
    QVERIFY(m_work.isValid());
    m_shots = QStringLiteral(MATRIX_BINARY_DIR "/screenshots/agent");
    QDir(m_shots).removeRecursively();
}

void TestAgentRun::dialogFromKeyboard() {
    // The tools' status must not depend on the user's tool settings or plugin folders.
    qputenv("XDG_CONFIG_HOME", m_work.path().toUtf8());
    qputenv("XDG_DATA_HOME", m_work.path().toUtf8());
    qunsetenv("MATRIX_TOOL_SETTINGS");
    qunsetenv("MATRIX_PLUGIN_PATH");
    {
        AgentRunDialog d(42, QStringLiteral("t-run \u00b7 I ran 5 km and 7.5 km. Total?"));
        d.show();
        d.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&d));
        // No model folder: Run is disabled and says why; Return does nothing.
        QVERIFY(d.localButton()->isChecked());
        QVERIFY(!d.runButton()->isEnabled());
        QCOMPARE(d.validationLabel()->text(), QStringLiteral("Choose the model folder: a Qwen2-VL checkpoint with config.json."));
        QCOMPARE(d.runButton()->toolTip(), d.validationLabel()->text());
        QVERIFY(d.endpointButton()->isEnabled());
        QVERIFY(!d.endpointUrlEdit()->isEnabled());  // until the endpoint is chosen
        QVERIFY(QApplication::focusWidget() == d.modelDirEdit());
        QTest::keyClick(d.modelDirEdit(), Qt::Key_Return);
        QVERIFY(d.isVisible());
        QCOMPARE(d.result(), int(QDialog::Rejected));

        QTest::keyClicks(d.modelDirEdit(), m_work.path() + "/nowhere");
        QCOMPARE(d.validationLabel()->text(), QStringLiteral("The model folder %1/nowhere does not exist.").arg(m_work.path()));
        typeInto(d.modelDirEdit(), m_work.path());
        QCOMPARE(d.validationLabel()->text(), QStringLiteral("%1 has no config.json: not a model checkpoint folder.").arg(m_work.path()));
        typeInto(d.modelDirEdit(), kModel);
        QVERIFY(d.runButton()->isEnabled());
        QCOMPARE(d.validationLabel()->text(), QString());
        typeInto(d.adapterDirEdit(), m_work.path());
        QCOMPARE(d.validationLabel()->text(), QStringLiteral("%1 has no adapter_config.json: not a PEFT adapter folder.").arg(m_work.path()));
        typeInto(d.adapterDirEdit(), QString());
        QVERIFY(d.runButton()->isEnabled());

        // The endpoint instead: URL and model name are checked, then back to the local model.
        d.endpointButton()->setFocus();
        QTest::keyClick(d.endpointButton(), Qt::Key_Space);
        QVERIFY(d.endpointButton()->isChecked());
        QVERIFY(d.endpointUrlEdit()->isEnabled());
        QVERIFY(!d.modelDirEdit()->isEnabled());
        QCOMPARE(d.validationLabel()->text(), QStringLiteral("Give the endpoint URL."));
        typeInto(d.endpointUrlEdit(), QStringLiteral("ftp://127.0.0.1/v1"));
        QCOMPARE(d.validationLabel()->text(), QStringLiteral("The endpoint URL must start with http:// or https://."));
        typeInto(d.endpointUrlEdit(), QStringLiteral("http://127.0.0.1:8000/v1"));
        QCOMPARE(d.validationLabel()->text(), QStringLiteral("Give the model name the endpoint serves."));
        typeInto(d.endpointModelEdit(), QStringLiteral("qwen2-vl-7b"));
        QVERIFY(d.runButton()->isEnabled());
        QCOMPARE(d.settings().controller.dump(),
                 std::string("{\"kind\":\"endpoint\",\"model\":\"qwen2-vl-7b\",\"url\":\"http://127.0.0.1:8000/v1\"}"));
        d.localButton()->setChecked(true);
        QVERIFY(d.modelDirEdit()->isEnabled());
        QVERIFY(d.runButton()->isEnabled());

        // Tools: every MATRIX tool, checked, with the backend the build's plugins give it for the chosen model
        // (the engine tools name the run's model); uncheck ocr from the keyboard.
        d.refreshTools();
        QCOMPARE(d.toolList()->count(), int(agent::matrix_tool_specs().size()));
        QCOMPARE(d.toolList()->item(0)->text(),
                 QStringLiteral("visualizer \u00b7 local Qwen2-VL %1 (the run's model, loaded when it starts)").arg(kModel));
        QCOMPARE(d.toolList()->item(1)->text(), QStringLiteral("ask_search_agent \u00b7 unavailable"));
        QVERIFY(d.toolList()->item(1)->toolTip().contains(QStringLiteral("Unavailable: no search backend configured")));
        QVERIFY(d.toolsNote()->text().startsWith(QStringLiteral("6 of 9 tools have a backend here")));
        const int ocr = d.toolList()->count() - 1;
        QVERIFY(d.toolList()->item(ocr)->text().startsWith(QStringLiteral("ocr \u00b7 tesseract 5.")));
        QCOMPARE(d.toolList()->item(ocr)->data(Qt::UserRole).toString(), QStringLiteral("ocr"));
        d.toolList()->setFocus();
        d.toolList()->setCurrentRow(ocr);
        QTest::keyClick(d.toolList(), Qt::Key_Space);
        QCOMPARE(d.toolList()->item(ocr)->checkState(), Qt::Unchecked);
        // With the endpoint chosen, the engine tools name it; the check marks stay; back to the local model.
        d.endpointButton()->setChecked(true);
        d.refreshTools();
        QCOMPARE(d.toolList()->item(0)->text(),
                 QStringLiteral("visualizer \u00b7 endpoint http://127.0.0.1:8000/v1 model qwen2-vl-7b (the run's controller)"));
        QCOMPARE(d.toolList()->item(ocr)->checkState(), Qt::Unchecked);
        d.localButton()->setChecked(true);
        d.refreshTools();

        typeInto(d.maxStepsBox(), QStringLiteral("2"));
        typeInto(d.maxNewTokensBox(), QStringLiteral("6"));
        d.greedyBox()->setFocus();
        QTest::keyClick(d.greedyBox(), Qt::Key_Space);
        QVERIFY(d.greedyBox()->isChecked());

        // Return runs.
        QTest::keyClick(d.maxNewTokensBox(), Qt::Key_Return);
        QCOMPARE(d.result(), int(QDialog::Accepted));
        const agent::AgentRunSettings s = d.settings();
        QCOMPARE(s.controller.value("kind", ""), std::string("local"));
        QCOMPARE(s.controller.value("model", ""), kModel.toStdString());
        QCOMPARE(s.controller.value("adapter", "x"), std::string());
        QCOMPARE(s.tools.size(), agent::matrix_tool_specs().size() - 1);
        QCOMPARE(s.tools.front(), std::string("visualizer"));
        QVERIFY(std::find(s.tools.begin(), s.tools.end(), "ocr") == s.tools.end());
        QCOMPARE(s.loop.max_steps, 2);
        QCOMPARE(s.loop.max_errors, 5);
        QCOMPARE(s.loop.generation.max_new_tokens, 6);
        QCOMPARE(s.loop.generation.seed, uint64_t(0));
        const agent::SamplingGroup& g = s.loop.generation.groups.front();
        QCOMPARE(g.do_sample, false);
        QCOMPARE(g.temperature, 0.7);
        QCOMPARE(g.top_p, 0.8);
        QCOMPARE(g.top_k, 100);
        QCOMPARE(g.repetition_penalty, 1.05);
        QCOMPARE(s.system_prompt, std::string("auto"));
        QCOMPARE(s.sandbox.step_timeout_s, 120.0);
        QCOMPARE(s.task_ids, std::vector<int64_t>{42});
        QCOMPARE(Settings().agentModelDir(), kModel);
    }
    {
        // The folder is remembered; a prompt file must exist; Esc cancels.
        AgentRunDialog d(7, QStringLiteral("t"));
        d.show();
        QVERIFY(QTest::qWaitForWindowExposed(&d));
        QCOMPARE(d.modelDirEdit()->text(), kModel);
        QVERIFY(d.runButton()->isEnabled());
        QCOMPARE(d.settings().loop.generation.groups.front().do_sample, true);
        d.systemPromptBox()->setCurrentIndex(d.systemPromptBox()->findData(QStringLiteral("file")));
        QCOMPARE(d.validationLabel()->text(), QStringLiteral("Choose the system prompt file."));
        QVERIFY(!d.runButton()->isEnabled());
        d.systemPromptBox()->setCurrentIndex(d.systemPromptBox()->findData(QStringLiteral("bundled")));
        QCOMPARE(d.settings().system_prompt, std::string("bundled"));
        QTest::keyClick(d.modelDirEdit(), Qt::Key_Escape);
        QCOMPARE(d.result(), int(QDialog::Rejected));
        QVERIFY(!d.isVisible());
    }
}

AgentRunOutcome TestAgentRun::runOnce(AgentWorker* worker, const AgentRequest& request) {
    QSignalSpy done(worker, &AgentWorker::finished);
    worker->setRequest(request);
    QMetaObject::invokeMethod(worker, &AgentWorker::start, Qt::QueuedConnection);
    if (!done.wait(300000)) qFatal("the agent run did not finish");
    return done.takeFirst().at(0).value<AgentRunOutcome>();
}

void TestAgentRun::workerRunsTinyModel() {
#ifndef MATRIX_HAVE_TORCH
    QSKIP("built without LibTorch: no local controller");
#endif
    UiFixture f;
    const qint64 task = f.tasks[3];  // t-run: no images
    auto* worker = new AgentWorker;
    m_thread.start();
    worker->moveToThread(&m_thread);
    QSignalSpy started(worker, &AgentWorker::runStarted);
    QSignalSpy steps(worker, &AgentWorker::stepStored);
    QSignalSpy isolation(worker, &AgentWorker::isolation);
    AgentRequest r;
    r.projectPath = f.path;
    r.settings = tinyRun(task);
    r.workRoot = m_work.filePath("runs");
    const AgentRunOutcome o = runOnce(worker, r);
    QCOMPARE(o.status, QStringLiteral("forced"));
    QCOMPARE(o.stopReason, QStringLiteral("max_steps"));
    QCOMPARE(o.runStatus, QStringLiteral("finished"));
    QCOMPARE(o.steps, 2);
    QCOMPARE(o.errors, 2);
    QCOMPARE(o.taskId, task);
    QCOMPARE(started.count(), 1);
    const AgentRunStart start = started.at(0).at(0).value<AgentRunStart>();
    QCOMPARE(start.runId, o.runId);
    QCOMPARE(start.maxSteps, 2);
    QVERIFY(start.storedSteps.isEmpty());
    QCOMPARE(isolation.count(), 1);
    QVERIFY(!isolation.at(0).at(0).toString().isEmpty());
    // One signal per stored step, in order, with the step's data.
    QCOMPARE(steps.count(), 2);
    for (int i = 0; i < 2; ++i) {
        QCOMPARE(steps.at(i).at(0).toLongLong(), o.runId);
        QCOMPARE(steps.at(i).at(1).toLongLong(), task);
        QCOMPARE(steps.at(i).at(2).toLongLong(), o.trajectoryId);
        const StepData s = steps.at(i).at(3).value<StepData>();
        QCOMPARE(s.index, i);
        QVERIFY(s.isError);
        QVERIFY(s.observation.contains(QStringLiteral("no code block")));
    }
    // The store: the run (finished, its own folder) and its trajectory of 2 steps.
    auto project = must(store::Project::open(f.path.toStdString()));
    auto run = *must(store::RunRepo(project.db()).get(o.runId));
    QCOMPARE(run.kind, std::string("agent"));
    QCOMPARE(run.status, std::string("finished"));
    QCOMPARE(must(agent::load_agent_run_settings(project.db(), o.runId)).sandbox.work_dir,
             m_work.filePath("runs/run-%1").arg(o.runId).toStdString());
    auto trajectories = must(store::TrajectoryRepo(project.db()).list_for_run(o.runId));
    QCOMPARE(trajectories.size(), size_t(1));
    QCOMPARE(qint64(trajectories[0].id), o.trajectoryId);
    QCOMPARE(trajectories[0].source, std::string("run"));
    QCOMPARE(qint64(trajectories[0].task_id), task);
    QCOMPARE(trajectories[0].n_steps, 2);
    QCOMPARE(trajectories[0].final_answer.value_or("<none>"), o.answer.toStdString());
    QCOMPARE(must(store::TrajectoryRepo(project.db()).get(o.trajectoryId, true))->steps.size(), size_t(2));
    m_thread.quit();
    m_thread.wait();
    delete worker;
}

void TestAgentRun::cancelThenResume() {
#ifndef MATRIX_HAVE_TORCH
    QSKIP("built without LibTorch: no local controller");
#endif
    UiFixture f;
    const qint64 task = f.tasks[3];
    auto* worker = new AgentWorker;
    m_thread.start();
    worker->moveToThread(&m_thread);
    // The user cancels as soon as the first step is stored (on the worker's thread, so before the next step).
    QMetaObject::Connection c = connect(worker, &AgentWorker::stepStored, worker, [worker] { worker->cancel(); }, Qt::DirectConnection);
    QSignalSpy steps(worker, &AgentWorker::stepStored);
    AgentRequest r;
    r.projectPath = f.path;
    r.settings = tinyRun(task);
    r.workRoot = m_work.filePath("cancel");
    const AgentRunOutcome first = runOnce(worker, r);
    QCOMPARE(first.status, QStringLiteral("cancelled"));
    QCOMPARE(first.runStatus, QStringLiteral("cancelled"));
    QCOMPARE(steps.count(), 1);
    {
        auto project = must(store::Project::open(f.path.toStdString()));
        QCOMPARE((*must(store::RunRepo(project.db()).get(first.runId))).status, std::string("cancelled"));
        auto t = must(store::TrajectoryRepo(project.db()).get(first.trajectoryId, true));
        QCOMPARE(t->steps.size(), size_t(1));
        QVERIFY(t->extra->find("\"cancelled\"") != std::string::npos);
    }
    disconnect(c);

    // Resume: the stored step comes with runStarted, only the new one is signalled.
    QSignalSpy started(worker, &AgentWorker::runStarted);
    AgentRequest resume;
    resume.projectPath = f.path;
    resume.resumeRunId = first.runId;
    const AgentRunOutcome second = runOnce(worker, resume);
    QCOMPARE(second.status, QStringLiteral("forced"));
    QCOMPARE(second.runStatus, QStringLiteral("finished"));
    QCOMPARE(second.runId, first.runId);
    QCOMPARE(second.trajectoryId, first.trajectoryId);
    QCOMPARE(second.steps, 2);
    QCOMPARE(started.count(), 1);
    const AgentRunStart start = started.at(0).at(0).value<AgentRunStart>();
    QCOMPARE(start.trajectoryId, first.trajectoryId);
    QCOMPARE(int(start.storedSteps.size()), 1);
    QCOMPARE(steps.count(), 2);
    QCOMPARE(steps.at(1).at(3).value<StepData>().index, 1);
    auto project = must(store::Project::open(f.path.toStdString()));
    QCOMPARE((*must(store::RunRepo(project.db()).get(first.runId))).status, std::string("finished"));
    auto t = must(store::TrajectoryRepo(project.db()).get(first.trajectoryId, true));
    QCOMPARE(t->steps.size(), size_t(2));
    QCOMPARE(must(store::TrajectoryRepo(project.db()).list_for_run(first.runId)).size(), size_t(1));
    m_thread.quit();
    m_thread.wait();
    delete worker;
}

void TestAgentRun::mainWindowShowsRunLive() {
#ifndef MATRIX_HAVE_TORCH
    QSKIP("built without LibTorch: no local controller");
#endif
    UiFixture f;
    MainWindow w;
    w.resize(1800, 1000);
    w.show();
    w.openProject(f.path);
    QVERIFY(w.waitForIdle());
    QVERIFY(w.session()->isOpen());
    w.browser()->selectRow(0);  // t-shapes: an image and an M-TRACE trajectory of 2 steps
    QVERIFY(w.waitForIdle());
    const qint64 task = f.tasks[0];
    QCOMPARE(w.currentTask().id, task);
    QCOMPARE(w.trajectory()->trajectoryBox()->count(), 1);
    QVERIFY(w.actions().runAgent->isEnabled());
    QVERIFY(!w.actions().cancelAgent->isEnabled());
    QCOMPARE(w.actions().runAgent->shortcut(), QKeySequence(QStringLiteral("Ctrl+Shift+A")));
    QVERIFY(!w.actions().runAgent->statusTip().isEmpty());
    QVERIFY(w.browser()->contextActions().contains(w.actions().runAgent));

    // The action opens the dialog for the selected task.
    AgentRunDialog* dlg = w.openAgentDialog();
    QVERIFY(dlg);
    QCOMPARE(dlg->taskId(), task);
    QTest::keyClick(dlg->modelDirEdit(), Qt::Key_Escape);

    // While it runs: each step appears in the stepper as it is stored, the bar counts them.
    QVector<int> liveCounts;
    QStringList barTexts;
    bool shot = false;
    connect(w.agentWorker(), &AgentWorker::stepStored, this, [&] {
        // Queued after the main window's own handler: the view has the step now.
        liveCounts << int(w.trajectory()->task().steps.size());
        barTexts << w.agentBar()->statusText();
        QVERIFY(w.trajectory()->task().live);
        if (!shot) {
            shot = true;
            for (const QString& p : takeAgentScreenshots(w, m_shots, QStringLiteral("_live"))) QVERIFY2(!p.startsWith("error"), qPrintable(p));
        }
    });
    QSignalSpy finished(&w, &MainWindow::agentRunFinished);
    QSignalSpy isolation(w.agentWorker(), &AgentWorker::isolation);
    QVERIFY(w.startAgentRun(tinyRun(task), m_work.filePath("window")));
    QVERIFY(w.isAgentRunning());
    QVERIFY(!w.actions().runAgent->isEnabled());
    QVERIFY(!w.startAgentRun(tinyRun(task)));  // one run at a time
    QVERIFY(finished.wait(300000));
    const AgentRunOutcome o = finished.at(0).at(0).value<AgentRunOutcome>();
    QCOMPARE(o.status, QStringLiteral("forced"));
    QCOMPARE(liveCounts, (QVector<int>{1, 2}));
    QVERIFY2(barTexts.value(0).contains(QStringLiteral("step 1/2")), qPrintable(barTexts.value(0)));
    QVERIFY(barTexts.value(1).contains(QStringLiteral("step 2/2")));
    QVERIFY(!w.agentBar()->isolationText().isEmpty());
    QCOMPARE(w.agentBar()->isolationText(), isolation.at(0).at(0).toString());
    QVERIFY2(w.agentBar()->controllerText().startsWith(QStringLiteral("Controller: local model tiny-qwen2vl \u00b7 loaded in ")),
             qPrintable(w.agentBar()->controllerText()));
    QVERIFY2(w.agentBar()->resultText().contains(QStringLiteral("Forced answer")), qPrintable(w.agentBar()->resultText()));
    QVERIFY(w.actions().runAgent->isEnabled());
    QVERIFY(!w.actions().resumeAgent->isEnabled());

    // Then the stored trajectory, one of the task's trajectories; the task's image stays in the viewer.
    QVERIFY(w.waitForIdle());
    QCOMPARE(w.trajectory()->task().trajectoryId, o.trajectoryId);
    QVERIFY(!w.trajectory()->task().live);
    QCOMPARE(int(w.trajectory()->task().steps.size()), 2);
    QComboBox* box = w.trajectory()->trajectoryBox();
    QCOMPARE(box->count(), 2);
    QCOMPARE(box->itemText(0), QStringLiteral("M-TRACE \u00b7 2 steps"));
    QCOMPARE(box->itemText(1), QStringLiteral("Run %1 \u00b7 forced \u00b7 2 steps").arg(o.runId));
    QCOMPARE(box->currentIndex(), 1);
    QCOMPARE(w.trajectory()->task().answer, o.answer);
    // The M-TRACE steps' pairs are not the run's.
    QCOMPARE(w.trajectory()->stepList()->model()->index(0, 0).data().toString(), QStringLiteral("\u2717 Step 0"));
    QCOMPARE(w.imageViewer()->count(), 1);
    for (const QString& p : takeAgentScreenshots(w, m_shots)) QVERIFY2(!p.startsWith("error"), qPrintable(p));

    // Picking the M-TRACE trajectory shows its steps.
    box->setFocus();
    QTest::keyClick(box, Qt::Key_Up);
    QVERIFY(w.waitForIdle());
    QCOMPARE(w.trajectory()->task().trajectoryId, w.trajectory()->task().trajectories.front().id);
    QCOMPARE(w.trajectory()->thoughtText(), QStringLiteral("Locate the circles."));
    QVERIFY(QFileInfo::exists(m_shots + "/agent_run_live.png"));
    QVERIFY(QFileInfo::exists(m_shots + "/agent_run.png"));
    QVERIFY(QFileInfo::exists(m_shots + "/agent_run_dialog.png"));
}

void TestAgentRun::reducedIsolationIsShown() {
#ifndef MATRIX_HAVE_TORCH
    QSKIP("built without LibTorch: no local controller");
#endif
    // Without bubblewrap (forced here) the sandbox says so, and the bar shows it as a warning.
    UiFixture f;
    auto* worker = new AgentWorker;
    m_thread.start();
    worker->moveToThread(&m_thread);
    QSignalSpy started(worker, &AgentWorker::runStarted);
    QSignalSpy isolation(worker, &AgentWorker::isolation);
    AgentRequest r;
    r.projectPath = f.path;
    r.settings = tinyRun(f.tasks[3]);
    r.settings.loop.max_steps = 1;
    r.settings.sandbox.isolation = agent::IsolationMode::RlimitsOnly;
    r.workRoot = m_work.filePath("reduced");
    const AgentRunOutcome o = runOnce(worker, r);
    QCOMPARE(o.status, QStringLiteral("forced"));
    QCOMPARE(isolation.count(), 1);
    const QString text = isolation.at(0).at(0).toString();
    QVERIFY2(text.startsWith(QStringLiteral("reduced isolation")), qPrintable(text));
    QCOMPARE(isolation.at(0).at(1).toBool(), true);

    AgentRunBar bar;
    bar.resize(900, 10);
    bar.runStarted(started.at(0).at(0).value<AgentRunStart>());
    bar.setIsolation(text, true);
    bar.runFinished(o);
    bar.adjustSize();
    QCOMPARE(bar.isolationText(), text);
    QVERIFY(bar.isolationLabel()->text().startsWith(QStringLiteral("\u26a0 reduced isolation")));
    QVERIFY(bar.isolationLabel()->styleSheet().contains(QStringLiteral("#b35900")));
    QVERIFY(bar.grab().save(m_shots + "/agent_run_bar_reduced.png"));
    m_thread.quit();
    m_thread.wait();
    delete worker;
}

QTEST_MAIN(TestAgentRun)
#include "test_agent_run.moc"
