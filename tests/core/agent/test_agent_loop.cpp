// The agent loop with scripted controller replies, a real sandbox and a project store: the stored steps and
// their turn texts, parse errors, tool errors, the 5-error and 8-step limits with the forced final answer,
// infrastructure errors (retried, then the task invalid, never an observation), resuming a killed run from its
// stored steps, and the system prompt choice.
#include <QTemporaryDir>
#include <QtTest>

#include "core/agent/agent_run.h"
#include "core/conversation/observation.h"
#include "core/conversation/steps.h"
#include "core/store/dataset_repo.h"
#include "core/store/project.h"
#include "core/store/run_repo.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"

using namespace matrix;
using namespace matrix::agent;

namespace {

std::string action(const std::string& thought, const std::string& code) {
    return "Thought: " + thought + "\nCode:\n```py\n" + code + "\n```<end_action>";
}

class LookupTool : public Tool {
public:
    ToolSpec spec() const override { return {"lookup", "looks up a word", {{"word", "string", "", true}}, "string"}; }
    ToolStatus status() const override { return {true, "a table in the test", ""}; }
    Result<nlohmann::json> call(const nlohmann::json& args, const ToolCallContext&) override {
        const std::string w = args.value("word", "");
        if (w == "capital of France") return nlohmann::json("Paris");
        return make_error("no entry for \"" + w + "\"");
    }
};

template <class T>
T must(Result<T> r) {
    if (!r.ok()) qFatal("%s", r.error().to_string().c_str());
    return std::move(r).value();
}

}  // namespace

class TestAgentLoop : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    int m_n = 0;

    struct Fixture {
        store::Project project;
        ToolRegistry tools;
        AgentRunSettings settings;
        int64_t task_id = 0, run_id = 0;
    };

    Fixture fixture(const std::string& task_text = "What is the capital of France?") {
        const std::string path = (m_dir.path() + "/p" + QString::number(++m_n) + ".matrix").toStdString();
        Fixture f{must(store::Project::open(path)), {}, {}, 0, 0};
        f.tools.add(std::make_shared<LookupTool>());
        f.settings.name = "test";
        f.settings.controller = {{"kind", "scripted"}};
        f.settings.tools = {"lookup"};
        f.settings.loop.retry_backoff_s = 0.01;
        f.settings.sandbox.work_dir = (m_dir.path() + "/work" + QString::number(m_n)).toStdString();
        f.settings.sandbox.step_timeout_s = 5;
        f.task_id = must(create_adhoc_task(f.project.db(), task_text, {}));
        f.settings.task_ids = {f.task_id};
        f.run_id = must(create_agent_run(f.project.db(), f.settings, f.tools, "scripted"));
        return f;
    }

    static store::Trajectory stored(Fixture& f, int64_t trajectory_id) {
        auto t = must(store::TrajectoryRepo(f.project.db()).get(trajectory_id, true));
        if (!t) qFatal("no trajectory");
        return *t;
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void answers_and_stores_each_step() {
        Fixture f = fixture();
        ScriptedController c({action("Look it up.", "r = lookup(word='capital of France')\nprint(r)"),
                              action("I know it.", "final_answer(r)"), "never used"});
        std::vector<int> seen;
        TaskRunEvents ev;
        ev.on_step = [&](const store::Step& s) {
            seen.push_back(s.idx);
            // Stored before the next step starts.
            auto t = must(store::TrajectoryRepo(f.project.db()).list_for_run(f.run_id));
            QCOMPARE(t.size(), size_t(1));
            QCOMPARE(t[0].n_steps, s.idx + 1);
        };
        auto out = must(run_task(f.project.db(), f.run_id, f.task_id, c, f.tools, f.settings, ev));
        QCOMPARE(out.result.status, std::string("answered"));
        QCOMPARE(out.result.answer_text, std::string("Paris"));
        QCOMPARE(seen, (std::vector<int>{0, 1}));
        store::Trajectory t = stored(f, out.trajectory_id);
        QCOMPARE(t.source, std::string("run"));
        QCOMPARE(*t.run_id, f.run_id);
        QCOMPARE(*t.final_answer, std::string("Paris"));
        QCOMPARE(t.steps.size(), size_t(2));
        QCOMPARE(*t.steps[0].action, std::string("Thought: Look it up.\nCode:\n```py\nr = lookup(word='capital of France')\nprint(r)\n```"));
        QCOMPARE(t.steps[0].thought, std::string("Look it up."));
        QCOMPARE(*t.steps[0].observation, std::string("Paris\n"));
        QCOMPARE(t.steps[0].tool_calls.size(), size_t(1));
        QCOMPARE(t.steps[0].tool_calls[0].name, std::string("lookup"));
        QVERIFY(t.steps[1].is_final);
        QVERIFY(!t.steps[1].observation);
        // What the controller saw at step 1: system, task, action 0, observation 0.
        const auto& msgs = c.calls()[1];
        QCOMPARE(msgs.size(), size_t(4));
        QCOMPARE(msgs[0].content[0].text, bundled_system_prompt());
        QCOMPARE(msgs[1].content.back().text, std::string("Task: What is the capital of France?"));
        QCOMPARE(msgs[2].role, std::string("assistant"));
        QCOMPARE(msgs[3].content[0].text, std::string("[OUTPUT OF STEP 0] Observation:\nParis\n"));
        // The run result.
        auto results = must(store::RunRepo(f.project.db()).results(f.run_id));
        QCOMPARE(results.size(), size_t(1));
        QCOMPARE(*results[0].answer, std::string("Paris"));
        QCOMPARE(*results[0].trajectory_id, out.trajectory_id);
        const auto extra = nlohmann::json::parse(*results[0].extra);
        QCOMPARE(extra["status"].get<std::string>(), std::string("answered"));
        QCOMPARE(extra["forced"].get<bool>(), false);
        // Running the finished task again returns it as stored.
        ScriptedController none({});
        auto again = must(run_task(f.project.db(), f.run_id, f.task_id, none, f.tools, f.settings));
        QVERIFY(again.already_finished);
        QCOMPARE(again.trajectory_id, out.trajectory_id);
        QCOMPARE(none.calls().size(), size_t(0));
    }

    void parse_and_tool_errors_become_error_turns() {
        Fixture f = fixture();
        ScriptedController c({"I will just answer Paris.",
                              action("Look up.", "print(lookup(word='capital of Spain'))"),
                              action("Done.", "final_answer('Paris')")});
        auto out = must(run_task(f.project.db(), f.run_id, f.task_id, c, f.tools, f.settings));
        QCOMPARE(out.result.status, std::string("answered"));
        QCOMPARE(out.result.errors, 2);
        store::Trajectory t = stored(f, out.trajectory_id);
        QVERIFY(t.steps[0].is_error);
        QCOMPARE(*conversation::observation_turn(t.steps[0]),
                 std::string("[OUTPUT OF STEP 0] Error: Error in code parsing: the reply has no code block. Write "
                             "\"Thought:\" with your reasoning, then \"Code:\" and one ```py block that ends with "
                             "```<end_action>.\nNow let's retry: take care not to repeat previous errors! If you have "
                             "retried several times, try a completely different approach.\n"));
        QVERIFY(t.steps[1].is_error);
        QCOMPARE(*conversation::observation_turn(t.steps[1]),
                 std::string("[OUTPUT OF STEP 1] Error: Code execution failed due to the following error:\nno entry for "
                             "\"capital of Spain\"\nNow let's retry: take care not to repeat previous errors! If you "
                             "have retried several times, try a completely different approach.\n"));
        // The error turns are what the controller saw next.
        QCOMPARE(c.calls()[2].back().content[0].text, *conversation::observation_turn(t.steps[1]));
        // A step that prints nothing gets the note.
        Fixture g = fixture();
        ScriptedController quiet({action("Set.", "x = 1"), action("Done.", "final_answer(x)")});
        auto q = must(run_task(g.project.db(), g.run_id, g.task_id, quiet, g.tools, g.settings));
        QCOMPARE(*stored(g, q.trajectory_id).steps[0].observation, std::string(k_no_output_note));
        QCOMPARE(q.result.answer_text, std::string("1"));
    }

    void error_limit_then_forced_answer() {
        Fixture f = fixture();
        std::vector<std::string> replies(5, action("Try.", "print(1/0)"));
        replies.push_back("The capital is Paris.");
        ScriptedController c(replies);
        auto out = must(run_task(f.project.db(), f.run_id, f.task_id, c, f.tools, f.settings));
        QCOMPARE(out.result.status, std::string("forced"));
        QCOMPARE(out.result.stop_reason, std::string("max_errors"));
        QVERIFY(out.result.forced);
        QCOMPARE(out.result.errors, 5);
        QCOMPARE(out.result.answer_text, std::string("The capital is Paris."));
        store::Trajectory t = stored(f, out.trajectory_id);
        QCOMPARE(t.steps.size(), size_t(5));
        QCOMPARE(*t.steps[4].observation,
                 std::string("Code execution failed due to the following error:\ndivision by zero") + std::string(conversation::k_retry_suffix));
        QCOMPARE(*t.final_answer, std::string("The capital is Paris."));
        QCOMPARE(nlohmann::json::parse(*t.extra)["forced"].get<bool>(), true);
        // The forced call: no images, a system text and the memory, ending with the request.
        const auto& forced = c.calls().back();
        QCOMPARE(forced.size(), size_t(2));
        QCOMPARE(forced[0].role, std::string("system"));
        QVERIFY(forced[1].content.size() == 1 && forced[1].content[0].kind == tok::ContentPart::Kind::Text);
        QVERIFY(forced[1].content[0].text.rfind("Task: What is the capital of France?\n", 0) == 0);
        QVERIFY(forced[1].content[0].text.find("[OUTPUT OF STEP 4] Error: ") != std::string::npos);
    }

    void step_limit_then_forced_answer() {
        Fixture f = fixture();
        f.settings.loop.max_steps = 8;
        std::vector<std::string> replies;
        for (int i = 0; i < 8; ++i) replies.push_back(action("Count.", "n = " + std::to_string(i) + "\nprint(n)"));
        replies.push_back("8");
        ScriptedController c(replies);
        auto out = must(run_task(f.project.db(), f.run_id, f.task_id, c, f.tools, f.settings));
        QCOMPARE(out.result.stop_reason, std::string("max_steps"));
        QCOMPARE(out.result.status, std::string("forced"));
        QCOMPARE(out.result.steps, 8);
        QCOMPARE(stored(f, out.trajectory_id).steps.size(), size_t(8));
        QCOMPARE(c.calls().size(), size_t(9));
        // Without the forced answer: no answer, recorded as such.
        Fixture g = fixture();
        g.settings.loop.max_steps = 2;
        g.settings.loop.forced_final_answer = false;
        ScriptedController d({action("a", "print(1)"), action("b", "print(2)")});
        auto none = must(run_task(g.project.db(), g.run_id, g.task_id, d, g.tools, g.settings));
        QCOMPARE(none.result.status, std::string("no_answer"));
        QVERIFY(!stored(g, none.trajectory_id).final_answer);
    }

    void infrastructure_errors_are_never_observations() {
        Fixture f = fixture();
        f.settings.loop.infrastructure_retries = 2;
        ScriptedController flaky({"!infra:HTTP 429 rate limited", action("Go.", "final_answer('Paris')")});
        auto ok = must(run_task(f.project.db(), f.run_id, f.task_id, flaky, f.tools, f.settings));
        QCOMPARE(ok.result.status, std::string("answered"));
        store::Trajectory t = stored(f, ok.trajectory_id);
        QCOMPARE(t.steps.size(), size_t(1));
        QCOMPARE(nlohmann::json::parse(*t.steps[0].extra)["infrastructure_retries"].dump(),
                 std::string(R"(["infrastructure: HTTP 429 rate limited"])"));

        Fixture g = fixture();
        g.settings.loop.infrastructure_retries = 2;
        ScriptedController down({"!infra:HTTP 503", "!infra:HTTP 503", "!infra:HTTP 503 again"});
        auto bad = must(run_task(g.project.db(), g.run_id, g.task_id, down, g.tools, g.settings));
        QCOMPARE(bad.result.status, std::string("invalid"));
        QCOMPARE(bad.result.invalid_reason, std::string("infrastructure error at step 0: HTTP 503 again"));
        QCOMPARE(down.calls().size(), size_t(3));
        QCOMPARE(stored(g, bad.trajectory_id).steps.size(), size_t(0));
        auto results = must(store::RunRepo(g.project.db()).results(g.run_id));
        QCOMPARE(*results[0].error, bad.result.invalid_reason);
        QVERIFY(!results[0].answer);
    }

    void killed_run_resumes_from_stored_steps() {
        Fixture f = fixture();
        std::atomic<bool> cancel{false};
        ScriptedController first({action("Define.", "secret = 6 * 7\nopen('mark.txt', 'w').write('m')\nprint('defined')"),
                                  action("More.", "other = secret + 1\nprint(other)"), action("never", "print('no')")});
        TaskRunEvents ev;
        ev.on_step = [&](const store::Step& s) {
            if (s.idx == 1) cancel.store(true);  // the user stops the run after two steps
        };
        auto out = must(run_task(f.project.db(), f.run_id, f.task_id, first, f.tools, f.settings, ev, &cancel));
        QCOMPARE(out.result.status, std::string("cancelled"));
        QCOMPARE(stored(f, out.trajectory_id).steps.size(), size_t(2));

        ScriptedController second({action("Use both.", "final_answer(secret + other)")});
        auto resumed = must(run_task(f.project.db(), f.run_id, f.task_id, second, f.tools, f.settings));
        QCOMPARE(resumed.resumed_steps, 2);
        QCOMPARE(resumed.trajectory_id, out.trajectory_id);
        QCOMPARE(resumed.result.status, std::string("answered"));
        QCOMPARE(resumed.result.answer_text, std::string("85"));
        store::Trajectory t = stored(f, out.trajectory_id);
        QCOMPARE(t.steps.size(), size_t(3));
        QCOMPARE(*t.steps[1].observation, std::string("43\n"));
        // The resumed prompt is the stored history.
        QCOMPARE(second.calls()[0].size(), size_t(6));
        QCOMPARE(second.calls()[0][5].content[0].text, std::string("[OUTPUT OF STEP 1] Observation:\n43\n"));
    }

    void system_prompt_choice() {
        Fixture f = fixture();
        store::Database& db = f.project.db();
        QCOMPARE(must(choose_system_prompt(db, f.task_id, "auto")), bundled_system_prompt());
        QVERIFY(!choose_system_prompt(db, f.task_id, "dataset").ok());
        // A dataset whose tasks carry prompts: the most common one, byte for byte.
        store::DatasetRepo datasets(db);
        const int64_t ds = must(datasets.create(store::Dataset{0, "mt", "mtrace", "", {}, "", "{}", ""}));
        const int64_t common = must(store::intern_system_prompt(db, "You are agent A.\n"));
        const int64_t rare = must(store::intern_system_prompt(db, "You are agent B."));
        int64_t last = 0;
        for (int i = 0; i < 3; ++i) {
            store::Task t;
            t.dataset_id = ds;
            t.record_key = "k" + std::to_string(i);
            t.ordinal = i;
            t.query = "q";
            t.system_prompt_id = i == 1 ? rare : common;
            last = must(store::TaskRepo(db).insert(t));
        }
        QCOMPARE(must(choose_system_prompt(db, last, "auto")), std::string("You are agent A.\n"));
        QCOMPARE(must(choose_system_prompt(db, last, "bundled")), bundled_system_prompt());
        QVERIFY(!choose_system_prompt(db, last, "nonsense").ok());
    }
};

QTEST_GUILESS_MAIN(TestAgentLoop)
#include "test_agent_loop.moc"
