// The agent job around run_task (core/agent/agent_job.h), as `matrix agent` and the GUI's worker use it: the
// tool registry from names, the run's own work folder, the stored settings read back for resume, and the run's
// status through a finished, a cancelled-then-resumed and a failing job. Scripted controller, real sandbox.
#include <QTemporaryDir>
#include <QtTest>

#include "core/agent/agent_job.h"
#include "core/store/project.h"
#include "core/store/run_repo.h"
#include "core/store/trajectory_repo.h"

using namespace matrix;
using namespace matrix::agent;

namespace {
std::string action(const std::string& thought, const std::string& code) {
    return "Thought: " + thought + "\nCode:\n```py\n" + code + "\n```<end_action>";
}
template <class T>
T must(Result<T> r) {
    if (!r.ok()) qFatal("%s", r.error().to_string().c_str());
    return std::move(r).value();
}
std::string run_status(store::Database& db, int64_t run_id) { return (*must(store::RunRepo(db).get(run_id))).status; }
}  // namespace

class TestAgentJob : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    struct Fixture {
        store::Project project;
        AgentRunSettings settings;
        ToolRegistry tools;
        int64_t run_id = 0;
    };
    Fixture make(const QString& name, int n_tasks) {
        Fixture f{must(store::Project::open((m_dir.path() + "/" + name + ".matrix").toStdString())), {}, {}, 0};
        f.settings.name = name.toStdString();
        f.settings.controller = {{"kind", "scripted"}};
        f.settings.tools = {"visualizer", "ocr"};
        f.settings.sandbox.step_timeout_s = 10;
        for (int i = 0; i < n_tasks; ++i)
            f.settings.task_ids.push_back(must(create_adhoc_task(f.project.db(), "Say " + std::to_string(i), {})));
        f.tools = must(agent_tool_registry(f.settings.tools));
        f.run_id = must(create_agent_run_in(f.project.db(), f.settings, f.tools, "scripted", (m_dir.path() + "/runs").toStdString()));
        return f;
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void registry_and_folders() {
        ToolRegistry all = must(agent_tool_registry({}));
        QCOMPARE(all.tools().size(), matrix_tool_specs().size());
        QCOMPARE(all.tools().front()->spec().name, std::string("visualizer"));
        // The build's tool plugins give the tools their backends; without an engine lent, visualizer says so.
        QCOMPARE(all.tools().front()->status().available, false);
        QCOMPARE(all.tools().front()->status().reason.substr(0, 20), std::string("no model configured:"));
        QCOMPARE(all.find("ocr")->status().available, true);
        ToolRegistry bare = matrix_tools_without_backends(k_no_tool_backend_reason);
        QCOMPARE(bare.tools().front()->status().reason, std::string(k_no_tool_backend_reason));
        ToolRegistry two = must(agent_tool_registry({"ocr", "visualizer"}));
        QCOMPARE(two.tools().size(), size_t(2));
        QCOMPARE(two.tools().front()->spec().name, std::string("ocr"));
        auto bad = agent_tool_registry({"ocr", "teleport"});
        QVERIFY(!bad.ok());
        QVERIFY(bad.error().to_string().find("teleport") != std::string::npos);
        QCOMPARE(default_runs_folder("/data/p/demo.matrix"), std::string("/data/p/demo.runs"));
    }

    void run_has_its_folder_and_settings_read_back() {
        Fixture f = make("folder", 1);
        const std::string expected = (m_dir.path() + "/runs/run-" + QString::number(f.run_id)).toStdString();
        QCOMPARE(f.settings.sandbox.work_dir, expected);
        AgentRunSettings back = must(load_agent_run_settings(f.project.db(), f.run_id));
        QCOMPARE(back.sandbox.work_dir, expected);
        QCOMPARE(back.tools, f.settings.tools);
        QCOMPARE(back.task_ids, f.settings.task_ids);
        QCOMPARE(run_status(f.project.db(), f.run_id), std::string("created"));
        QVERIFY(!load_agent_run_settings(f.project.db(), f.run_id + 100).ok());
    }

    void finished_job_runs_every_task() {
        Fixture f = make("finished", 2);
        ScriptedController c({action("First.", "final_answer('a')"), action("Second.", "final_answer('b')")});
        std::vector<std::pair<int64_t, int>> steps;
        std::vector<int64_t> started, done;
        AgentJobEvents ev;
        ev.on_task_start = [&](int64_t t) { started.push_back(t); };
        ev.on_step = [&](int64_t t, const store::Step& s) { steps.emplace_back(t, s.idx); };
        ev.on_task_done = [&](int64_t t, const TaskRunOutcome&) { done.push_back(t); };
        AgentJobOutcome out = must(run_agent_job(f.project.db(), f.run_id, f.settings, c, f.tools, ev));
        QCOMPARE(out.status, std::string("finished"));
        QCOMPARE(out.tasks.size(), size_t(2));
        QCOMPARE(out.tasks[0].second.result.answer_text, std::string("a"));
        QCOMPARE(out.tasks[1].second.result.answer_text, std::string("b"));
        QCOMPARE(started, f.settings.task_ids);
        QCOMPARE(done, f.settings.task_ids);
        QCOMPARE(steps, (std::vector<std::pair<int64_t, int>>{{f.settings.task_ids[0], 0}, {f.settings.task_ids[1], 0}}));
        QCOMPARE(run_status(f.project.db(), f.run_id), std::string("finished"));
    }

    void cancelled_job_resumes() {
        Fixture f = make("cancelled", 2);
        std::atomic<bool> cancel{false};
        ScriptedController first({action("Look.", "x = 41\nprint(x)"), action("never", "final_answer('no')")});
        AgentJobEvents ev;
        ev.on_step = [&](int64_t, const store::Step&) { cancel.store(true); };
        AgentJobOutcome out = must(run_agent_job(f.project.db(), f.run_id, f.settings, first, f.tools, ev, &cancel));
        QCOMPARE(out.status, std::string("cancelled"));
        QCOMPARE(out.tasks.size(), size_t(1));  // the second task never started
        QCOMPARE(out.tasks[0].second.result.status, std::string("cancelled"));
        QCOMPARE(run_status(f.project.db(), f.run_id), std::string("cancelled"));

        AgentRunSettings again = must(load_agent_run_settings(f.project.db(), f.run_id));
        ScriptedController second({action("Use it.", "final_answer(x + 1)"), action("Other.", "final_answer('b')")});
        AgentJobOutcome resumed = must(run_agent_job(f.project.db(), f.run_id, again, second, f.tools));
        QCOMPARE(resumed.status, std::string("finished"));
        QCOMPARE(resumed.tasks[0].second.resumed_steps, 1);
        QCOMPARE(resumed.tasks[0].second.result.answer_text, std::string("42"));
        QCOMPARE(resumed.tasks[1].second.result.answer_text, std::string("b"));
        QCOMPARE(run_status(f.project.db(), f.run_id), std::string("finished"));
        auto trajectories = must(store::TrajectoryRepo(f.project.db()).list_for_run(f.run_id));
        QCOMPARE(trajectories.size(), size_t(2));
        QCOMPARE(trajectories[0].n_steps, 2);
    }

    void failing_task_fails_the_run() {
        Fixture f = make("failed", 1);
        f.settings.task_ids.push_back(987654);  // no such task
        ScriptedController c({action("Done.", "final_answer('a')")});
        auto out = run_agent_job(f.project.db(), f.run_id, f.settings, c, f.tools);
        QVERIFY(!out.ok());
        QVERIFY(out.error().to_string().find("task 987654") != std::string::npos);
        auto run = *must(store::RunRepo(f.project.db()).get(f.run_id));
        QCOMPARE(run.status, std::string("failed"));
        QCOMPARE(*run.error, out.error().to_string());
    }
};

QTEST_GUILESS_MAIN(TestAgentJob)
#include "test_agent_job.moc"
