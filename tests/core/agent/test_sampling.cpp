// Step-wise Pref-X sampling (core/agent/sampling.h) with scripted candidates, a scripted verifier and the real
// sandbox: fork isolation across candidates (a candidate that deletes a file or rebinds a variable changes
// neither its siblings nor the continuation), MATRIX's pair selection checked against a BLEU computed here
// independently (a transliteration of NLTK's sentence_bleu with method1 smoothing, itself checked against NLTK
// vectors), the chosen candidate never in its own reject pool, verifier failures dropping the step, the
// verifier's reply parsing, beam_search_data.json byte for byte as Python's json.dump(indent=4,
// ensure_ascii=False) writes it and read back by the `--format beam` importer, and the Pref-X export of the
// sampled pairs in LLaMA-Factory's ShareGPT ranking format.
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/agent/agent_job.h"
#include "core/agent/sampling.h"
#include "core/conversation/observation.h"
#include "core/formats/beam_import.h"
#include "core/formats/exporters.h"
#include "core/store/dataset_repo.h"
#include "core/store/pair_repo.h"
#include "core/store/project.h"
#include "core/store/run_repo.h"
#include "core/store/sampled_pair_repo.h"
#include "core/store/trajectory_repo.h"
#include "tests/support/nltk_bleu.h"

using namespace matrix;
using namespace matrix::agent;
using matrix::testing::independent_bleu;

namespace {

template <class T>
T must(Result<T> r) {
    if (!r.ok()) qFatal("%s", r.error().to_string().c_str());
    return std::move(r).value();
}
void must(Status s) {
    if (!s.ok()) qFatal("%s", s.error().to_string().c_str());
}

std::string action(const std::string& thought, const std::string& code) {
    return "Thought: " + thought + "\nCode:\n```py\n" + code + "\n```";
}

// Replies by step (the number of assistant turns in the prompt), so a call's answer depends only on the step.
class TableController : public Controller {
public:
    explicit TableController(std::map<int, std::vector<std::string>> table) : m_table(std::move(table)) {}
    std::string describe() const override { return "table"; }
    Result<std::vector<Candidate>> generate(const std::vector<tok::ChatMessage>& messages, const GenerationSettings& s,
                                            const std::atomic<bool>*) override {
        int step = 0;
        for (const auto& m : messages) step += m.role == "assistant";
        seeds.push_back(s.seed);
        exact.push_back(s.exact_seed);
        auto it = m_table.find(step);
        if (it == m_table.end()) return make_error("no replies for step " + std::to_string(step));
        std::vector<Candidate> out;
        for (const std::string& r : it->second) out.push_back({r, "stop", -1});
        return out;
    }
    std::vector<uint64_t> seeds;
    std::vector<bool> exact;

private:
    std::map<int, std::vector<std::string>> m_table;
};

// Picks by step from a table (-1: fails like a reply without JSON); records every request.
class TableVerifier : public StepVerifier {
public:
    explicit TableVerifier(std::map<int, int> best) : m_best(std::move(best)) {}
    std::string describe() const override { return "table verifier"; }
    Result<VerifierVerdict> rank(const VerifierRequest& r, const std::atomic<bool>*) override {
        requests.push_back(r);
        const int step = static_cast<int>(r.previous_observations.size());
        const int best = m_best.count(step) ? m_best.at(step) : 0;
        if (best < 0) return make_error("no JSON object with best_id in the verifier's reply");
        return VerifierVerdict{best, "step " + std::to_string(step) + " reason", "{\"best_id\": " + std::to_string(best + 1) + "}"};
    }
    std::vector<VerifierRequest> requests;

private:
    std::map<int, int> m_best;
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

class TestSampling : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    struct Fixture {
        store::Project project;
        SamplingSettings settings;
        ToolRegistry tools;
        int64_t run_id = 0;
        int64_t task_id = 0;
    };
    Fixture make(const QString& name, int k, int n_tasks = 1) {
        Fixture f{must(store::Project::open((m_dir.path() + "/" + name + ".matrix").toStdString())), default_sampling_settings(k), {}, 0, 0};
        f.task_id = must(create_adhoc_task(f.project.db(), "Count the apples in " + name.toStdString(), {}));
        f.settings.agent.task_ids = {f.task_id};
        for (int i = 1; i < n_tasks; ++i)
            f.settings.agent.task_ids.push_back(must(create_adhoc_task(f.project.db(), "Task " + std::to_string(i), {})));
        f.settings.agent.name = name.toStdString();
        f.settings.agent.controller = {{"kind", "scripted"}};
        f.settings.agent.tools = {"ocr"};
        f.settings.agent.sandbox.step_timeout_s = 20;
        f.settings.dataset = "adhoc";
        f.tools = must(agent_tool_registry(f.settings.agent.tools));
        f.run_id = must(create_sampling_run(f.project.db(), f.settings, f.tools, "table", "table verifier",
                                            (m_dir.path() + "/runs").toStdString()));
        return f;
    }
    std::vector<store::Pair> pairs_of(store::Database& db) {
        auto ds = must(store::DatasetRepo(db).find("adhoc-sampled"));
        if (!ds) return {};
        store::PairFilter filter;
        filter.dataset_id = ds->id;
        return must(store::PairRepo(db).list(filter));
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void independent_bleu_matches_nltk() {
        // Vectors computed by NLTK (tests/core/formats/test_char_bleu.cpp).
        QCOMPARE(independent_bleu("abd", "abc"), 0.24028114141347542);
        QCOMPARE(independent_bleu("abc", "abcdef"), 0.20687381245863395);
        QCOMPARE(independent_bleu("aaaaaaa", "aa"), 0.06985342056580097);
        QCOMPARE(independent_bleu("x = ocr(image_path=\"a.jpg\")\nprint(x)", "x = ocr(\"a.jpg\")\nprint(x)"), 0.6347012221696429);
    }

    void verifier_reply_parsing_data() {
        QTest::addColumn<QString>("reply");
        QTest::addColumn<int>("best");      // 0-based; -1: an error
        QTest::addColumn<QString>("detail");  // the reason, or the error's message
        QTest::newRow("bare") << R"({"reason": "runs cleanly", "best_id": 2})" << 1 << "runs cleanly";
        QTest::newRow("fenced, text around") << "Looking at them...\n```json\n{\"reason\": \"a {brace} inside\", \"best_id\": 5}\n```\nDone."
                                             << 4 << "a {brace} inside";
        QTest::newRow("id as string") << R"({"best_id": "3", "reason": "r"})" << 2 << "r";
        QTest::newRow("id as float") << R"({"best_id": 1.0})" << 0 << "";
        QTest::newRow("first object without best_id skipped") << R"({"x": 1} then {"reason": "ok", "best_id": 1})" << 0 << "ok";
        QTest::newRow("out of range") << R"({"reason": "r", "best_id": 6})" << -1 << "best_id 6 out of range 1..5";
        QTest::newRow("zero is out of range") << R"({"reason": "r", "best_id": 0})" << -1 << "best_id 0 out of range 1..5";
        QTest::newRow("no JSON") << "Candidate 2 is the best." << -1 << "no JSON object with best_id in the verifier's reply";
        QTest::newRow("not a number") << R"({"best_id": "two"})" << -1 << "best_id \"two\" is not a number";
        QTest::newRow("unclosed") << R"({"reason": "r", "best_id": 2)" << -1 << "no JSON object with best_id in the verifier's reply";
    }
    void verifier_reply_parsing() {
        QFETCH(QString, reply);
        QFETCH(int, best);
        QFETCH(QString, detail);
        auto v = parse_verifier_reply(reply.toStdString(), 5);
        if (best < 0) {
            QVERIFY(!v.ok());
            QCOMPARE(QString::fromStdString(v.error().message), detail);
        } else {
            QVERIFY2(v.ok(), v.ok() ? "" : v.error().message.c_str());
            QCOMPARE(v->best, best);
            QCOMPARE(QString::fromStdString(v->reason), detail);
        }
    }

    void llm_verifier_over_a_controller() {
        ScriptedController c({"```json\n{\"reason\": \"second ran\", \"best_id\": 2}\n```", "I like number 9", "!infra:503"});
        LlmStepVerifier v(c);
        VerifierRequest r;
        r.task = "Task: add";
        r.previous_observations = {"4\n"};
        r.candidates = {{action("a", "print(1)"), "1\n"}, {action("b", "print(2)"), "2\n"}};
        auto ok = v.rank(r);
        QVERIFY(ok.ok());
        QCOMPARE(ok->best, 1);
        QCOMPARE(ok->reason, std::string("second ran"));
        // Our prompt: N in the system text, the candidates numbered from 1 with their observations.
        const auto& msgs = c.calls().front();
        QCOMPARE(msgs.size(), size_t(2));
        QVERIFY(msgs[0].content[0].text.find("from 1 to 2>") != std::string::npos);
        const std::string& user = msgs[1].content[0].text;
        QVERIFY(user.find("Step 0: 4\n") != std::string::npos);
        QVERIFY(user.find("=== Candidate 2 ===\nAction:\n" + action("b", "print(2)") + "\nObservation:\n2\n") != std::string::npos);
        auto bad = v.rank(r);
        QVERIFY(!bad.ok());
        QCOMPARE(bad.error().message, std::string("no JSON object with best_id in the verifier's reply (reply: \"I like number 9\")"));
        auto infra = v.rank(r);
        QVERIFY(!infra.ok());
        QVERIFY(is_infrastructure_error(infra.error()));
    }

    // K = 3 candidates; step 0 each writes its own data.txt and x; the verifier keeps candidate 1. Step 1:
    // candidate 1 truncates the file away and rebinds x, its siblings read both; the verifier keeps candidate 2.
    // Step 2 answers from the state: it must be candidate 1's step 0 state, untouched by step 1's deleter.
    void fork_isolation() {
        Fixture f = make("forks", 3);
        auto write = [](int j) {
            return action("write " + std::to_string(j), "x = " + std::to_string(j) + "\nopen('data.txt', 'w').write('from-" +
                                                             std::to_string(j) + "')\nprint('wrote', x)");
        };
        const std::string reader = "print('x =', x, 'file =', open('data.txt').read())";
        TableController controller({
            {0, {write(0), write(1), write(2)}},
            {1, {action("read", reader),
                 action("clobber", "x = 'gone'\nopen('data.txt', 'w').close()\nprint('x =', x, 'file =', repr(open('data.txt').read()))"),
                 action("read again", reader)}},
            {2, {action("answer", "final_answer(f\"{x} {open('data.txt').read()}\")"), action("noop", "print(x)"),
                 action("oops", "print(undefined_name)")}},
        });
        TableVerifier verifier({{0, 1}, {1, 2}, {2, 0}});
        auto out = must(run_sampling_job(f.project.db(), f.run_id, f.settings, controller, verifier, f.tools));
        QCOMPARE(out.status, std::string("finished"));
        QCOMPARE(out.tasks.size(), size_t(1));
        const TaskSampleOutcome& t = out.tasks.front().second;
        QCOMPARE(t.stop_reason, std::string("final_answer"));
        QCOMPARE(t.final_answer, std::string("1 from-1"));
        QCOMPARE(t.steps, 3);

        auto traj = *must(store::TrajectoryRepo(f.project.db()).get(t.trajectory_id, true));
        QCOMPARE(traj.source, std::string("sample"));
        QCOMPARE(traj.steps.size(), size_t(3));
        const auto& s1 = traj.steps[1].candidates;
        QCOMPARE(s1.size(), size_t(3));
        QCOMPARE(*s1[0].observation, std::string("x = 1 file = from-1\n"));
        QCOMPARE(*s1[1].observation, std::string("x = gone file = ''\n"));
        QCOMPARE(*s1[2].observation, std::string("x = 1 file = from-1\n"));
        QVERIFY(s1[2].is_best && !s1[0].is_best && !s1[1].is_best);
        QCOMPARE(*traj.steps[0].observation, std::string("wrote 1\n"));
        QCOMPARE(*traj.steps[2].candidates[0].observation, std::string("Final Answer: 1 from-1"));
        QCOMPARE(*traj.steps[2].candidates[2].observation,
                 std::string("Code execution failed due to the following error:\nNameError: name 'undefined_name' is not defined"));
        QVERIFY(traj.steps[2].is_final);
        // Seeds: one per task and step, given to the controller as exact seeds.
        QCOMPARE(controller.seeds.size(), size_t(3));
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(controller.seeds[size_t(i)], step_seed(f.settings.agent.loop.generation.seed, f.task_id, i));
            QVERIFY(controller.exact[size_t(i)]);
        }
        QVERIFY(controller.seeds[0] != controller.seeds[1]);
        // The verifier saw the task, the chosen observations so far, and every candidate with its observation.
        QCOMPARE(verifier.requests.size(), size_t(3));
        QCOMPARE(verifier.requests[2].previous_observations, (std::vector<std::string>{"wrote 1\n", "x = 1 file = from-1\n"}));
        QCOMPARE(verifier.requests[1].candidates[1].observation, std::string("x = gone file = ''\n"));
    }

    // One step, K = 6: the chosen action, a near copy (BLEU >= 0.3, no error: not a rejected one), a different
    // action (BLEU < 0.3), and three near copies that fail (only the first two error candidates are kept).
    void pair_selection_follows_matrix_rules() {
        Fixture f = make("rules", 6);
        const std::string chosen = action("I will look at the image with the visualizer tool and count the apples.",
                                          "answer = 'There are three apples on the table.'\nprint(answer)");
        const std::string near = action("I will look at the image with the visualizer tool and count the apples!",
                                        "answer = 'There are three apples on the table!'\nprint(answer)");
        const std::string other = action("Search.", "r = 7 * 6\nprint(r)");
        auto failing = [](int n) {
            return action("I will look at the image with the visualizer tool and count the apples.",
                          "answer = 'There are three apples on the table.'\nraise ValueError('bad " + std::to_string(n) + "')");
        };
        TableController controller({{0, {chosen, near, other, failing(1), failing(2), failing(3)}},
                                    {1, {action("done", "final_answer(3)"), action("x", "print(1)"), action("y", "print(2)"),
                                         action("z", "print(3)"), "no code at all", action("w", "print(4)")}}});
        TableVerifier verifier({{0, 0}, {1, 0}});
        auto out = must(run_sampling_job(f.project.db(), f.run_id, f.settings, controller, verifier, f.tools));
        QCOMPARE(out.status, std::string("finished"));

        const auto pairs = pairs_of(f.project.db());
        std::map<std::pair<int, int>, store::Pair> by_candidate;  // (step, candidate) -> pair
        store::SampledPairRepo links(f.project.db());
        for (const store::Pair& p : pairs) {
            QCOMPARE(p.origin, std::string("sampled"));
            QCOMPARE(p.status, std::string("pending"));
            auto link = must(links.get(p.id));
            QVERIFY(link.has_value());
            QCOMPARE(*link->run_id, f.run_id);
            QVERIFY(link->candidate != link->chosen_candidate);  // never the chosen candidate in its own pool
            QCOMPARE(*link->verifier_reason, "step " + std::to_string(p.step_index) + " reason");
            by_candidate[{p.step_index, link->candidate}] = p;
        }
        // Step 0: candidates 2 (BLEU), 3 and 4 (the first two errors); not 1 (near copy) nor 5 (third error).
        std::vector<int> step0;
        for (const auto& [key, p] : by_candidate)
            if (key.first == 0) step0.push_back(key.second);
        QCOMPARE(step0, (std::vector<int>{2, 3, 4}));
        const std::vector<std::string> all = {chosen, near, other, failing(1), failing(2), failing(3)};
        QVERIFY(independent_bleu(near, chosen) >= 0.3);
        QVERIFY(independent_bleu(other, chosen) < 0.3);
        QVERIFY(independent_bleu(failing(3), chosen) >= 0.3);
        int kept_by_error = 0;
        for (const auto& [key, p] : by_candidate) {
            auto link = *must(links.get(p.id));
            const std::string rejected = std::string(conversation::strip_end_action(p.rejected_action));
            const std::string chosen_text = std::string(conversation::strip_end_action(p.chosen_action));
            const double bleu = independent_bleu(rejected, chosen_text);
            QVERIFY(std::abs(bleu - link.bleu) < 1e-12);
            const bool error = conversation::matrix_format_error(rejected) ||
                               conversation::matrix_error_observation(p.rejected_observation.value_or(""));
            QVERIFY2(bleu < 0.3 || error, p.record_key.c_str());
            if (bleu >= 0.3) {
                QCOMPARE(link.rule, std::string("error"));
                if (key.first == 0) ++kept_by_error;
            } else {
                QCOMPARE(link.rule, std::string("bleu"));
            }
            if (key.first == 0) {
                QCOMPARE(p.chosen_action, all[0] + "<end_action>");
                QCOMPARE(p.rejected_action, all[size_t(key.second)] + "<end_action>");
            }
        }
        QVERIFY(kept_by_error <= 2);
        QCOMPARE(QString::fromStdString(by_candidate.at({0, 3}).rejected_observation.value()),
                 QString("Code execution failed due to the following error:\nbad 1"));
        QCOMPARE(by_candidate.at({0, 2}).rejected_observation.value(), std::string("42\n"));
        QCOMPARE(by_candidate.at({0, 2}).chosen_observation.value(), std::string("There are three apples on the table.\n"));
        // The step record link: the pair points at the stored step whose candidates hold both actions.
        auto link = *must(links.get(by_candidate.at({0, 2}).id));
        auto step_action_text = must(f.project.db().query_text("SELECT action FROM step_candidates WHERE step_id=" +
                                                              std::to_string(*link.step_id) + " AND position=2"));
        QCOMPARE(*step_action_text, other);

        // Export through the existing Pref-X exporter: LLaMA-Factory's ShareGPT ranking format, exactly.
        formats::ExportOptions eo;
        eo.status = "pending";
        const std::string out_path = (m_dir.path() + "/export/rules.json").toStdString();
        QDir().mkpath(m_dir.path() + "/export");
        auto report = must(formats::export_prefx(f.project.db(), "adhoc-sampled", out_path, eo));
        QCOMPARE(report.records, int64_t(pairs.size()));
        const auto exported = nlohmann::ordered_json::parse(read_file(out_path));
        const std::string system = bundled_system_prompt();
        nlohmann::ordered_json first;
        first["images"] = nlohmann::ordered_json::array();
        first["system"] = system;
        first["conversations"] = nlohmann::ordered_json::array({{{"from", "human"}, {"value", "Task: Count the apples in rules"}}});
        first["chosen"] = {{"from", "gpt"}, {"value", chosen + "<end_action>"}, {"observation", "There are three apples on the table.\n"}};
        first["rejected"] = {{"from", "gpt"}, {"value", other + "<end_action>"}, {"observation", "42\n"}};
        QCOMPARE(QString::fromStdString(exported[0].dump()), QString::fromStdString(first.dump()));
        // A step-1 pair: the history holds the chosen step 0 and its observation turn, and ends with a human turn.
        nlohmann::ordered_json later;
        for (const auto& r : exported)
            if (r["conversations"].size() == 3) later = r;
        QVERIFY(!later.is_null());
        const auto expected_history = nlohmann::ordered_json::array(
            {{{"from", "human"}, {"value", "Task: Count the apples in rules"}},
             {{"from", "gpt"}, {"value", chosen + "<end_action>"}},
             {{"from", "human"}, {"value", "[OUTPUT OF STEP 0] Observation:\nThere are three apples on the table.\n"}}});
        QCOMPARE(QString::fromStdString(later["conversations"].dump()), QString::fromStdString(expected_history.dump()));
        QCOMPARE(later["chosen"]["value"].get<std::string>(), action("done", "final_answer(3)") + "<end_action>");
        QCOMPARE(later["chosen"]["observation"].get<std::string>(), std::string("Final Answer: 3"));
        std::vector<std::string> keys;
        for (auto it = later.begin(); it != later.end(); ++it) keys.push_back(it.key());
        QCOMPARE(keys, (std::vector<std::string>{"images", "system", "conversations", "chosen", "rejected"}));
        const auto info = nlohmann::json::parse(read_file((m_dir.path() + "/export/dataset_info.json").toStdString()));
        QCOMPARE(info["adhoc-sampled"]["ranking"].get<bool>(), true);
        QCOMPARE(info["adhoc-sampled"]["formatting"].get<std::string>(), std::string("sharegpt"));

        // beam_search_data.json: as Python's json.dump(indent=4, ensure_ascii=False) writes the same value.
        const auto beam_files = formats::find_beam_files(f.settings.agent.sandbox.work_dir + "/beam");
        QCOMPARE(beam_files.size(), size_t(1));
        const std::string beam = beam_files.front();
        QCOMPARE(beam, f.settings.agent.sandbox.work_dir + "/beam/adhoc-0/beam_search_data.json");
        const std::string text = read_file(beam);
        QVERIFY(!text.empty());
        QProcess py;
        py.start("/usr/bin/python3", {"-c", "import json,sys; sys.stdout.write(json.dumps(json.load(open(sys.argv[1], "
                                            "encoding='utf-8')), indent=4, ensure_ascii=False))", QString::fromStdString(beam)});
        QVERIFY(py.waitForFinished(30000));
        QCOMPARE(py.exitCode(), 0);
        QCOMPARE(QString::fromUtf8(py.readAllStandardOutput()), QString::fromUtf8(text.c_str()));
        const auto record = nlohmann::ordered_json::parse(text);
        QCOMPARE(record.size(), size_t(3));  // task, two steps, no error element (it answered)
        std::vector<std::string> head_keys, step_keys;
        for (auto it = record[0].begin(); it != record[0].end(); ++it) head_keys.push_back(it.key());
        QCOMPARE(head_keys, (std::vector<std::string>{"step number", "task", "image_paths", "final_answer"}));
        QCOMPARE(record[0]["task"].get<std::string>(), std::string("Count the apples in rules"));
        QCOMPARE(record[0]["final_answer"].get<std::string>(), std::string("3"));
        for (auto it = record[1].begin(); it != record[1].end(); ++it) step_keys.push_back(it.key());
        QCOMPARE(step_keys.size(), size_t(2 + 4 * 6 + 3));
        QCOMPARE(step_keys[0], std::string("step number"));
        QCOMPARE(step_keys[1], std::string("beam_size"));
        QCOMPARE(step_keys[2], std::string("llm_output_0"));
        QCOMPARE(step_keys[5], std::string("observation_0"));
        QCOMPARE(step_keys.back(), std::string("final_answer"));
        QCOMPARE(record[1]["best_step_idx"], nlohmann::ordered_json("0"));  // a string, as the reference writes it
        QCOMPARE(record[1]["tool_call_2"].dump(), std::string(R"x({"tool_name":"code interpreter","tool_arguments":"r = 7 * 6\nprint(r)"})x"));
        QCOMPARE(record[2]["final_answer"].get<std::string>(), std::string("3"));
        QCOMPARE(record[2]["observation_4"].get<std::string>(),
                 std::string(conversation::k_parsing_error_prefix) + "the reply has no code block. Write \"Thought:\" with your reasoning, then \"Code:\" and one ```py block that ends with ```<end_action>.");

        // The `--format beam` importer reads the records back: the task, the best path, every candidate.
        formats::ImportOptions io;
        io.dataset_name = "beam-back";
        auto imported = must(formats::import_beam(f.project.db(), (QString::fromStdString(f.settings.agent.sandbox.work_dir) + "/beam").toStdString(), io));
        QCOMPARE(imported.imported, int64_t(1));
        QCOMPARE(imported.rejected, int64_t(0));
        auto ds = *must(store::DatasetRepo(f.project.db()).find("beam-back"));
        const int64_t beam_task = must(f.project.db().query_int64("SELECT id FROM tasks WHERE dataset_id=" + std::to_string(ds.id)));
        auto back = *must(store::TrajectoryRepo(f.project.db()).primary_for_task(beam_task));
        QCOMPARE(back.steps.size(), size_t(2));
        QCOMPARE(back.steps[0].candidates.size(), size_t(6));
        QCOMPARE(*back.steps[0].action, chosen);
        QCOMPARE(back.steps[0].candidates[2].action, other);
        QCOMPARE(*back.steps[0].candidates[3].observation, std::string("Code execution failed due to the following error:\nbad 1"));
        QCOMPARE(*back.final_answer, std::string("3"));
    }

    // The verifier fails at step 1: the step is dropped (logged), the rollout ends, step 0 and its pairs stay.
    void verifier_failure_drops_the_step() {
        Fixture f = make("dropped", 3);
        TableController controller({{0, {action("a", "print('a')"), action("b", "print(undefined)"), "no code"}},
                                    {1, {action("c", "print('c')"), action("d", "print('d')"), action("e", "print('e')")}}});
        TableVerifier verifier({{0, 0}, {1, -1}});
        std::vector<std::string> notes;
        SamplingEvents ev;
        ev.on_note = [&](int64_t, const std::string& n) { notes.push_back(n); };
        auto out = must(run_sampling_job(f.project.db(), f.run_id, f.settings, controller, verifier, f.tools, ev));
        const TaskSampleOutcome& t = out.tasks.front().second;
        QCOMPARE(t.stop_reason, std::string("verifier_failed"));
        QCOMPARE(t.steps, 1);
        QCOMPARE(t.dropped.size(), size_t(1));
        QCOMPARE(t.dropped[0], std::string("step 1: verifier failed, step dropped: no JSON object with best_id in the verifier's reply"));
        QVERIFY(std::find(notes.begin(), notes.end(), t.dropped[0]) != notes.end());
        QCOMPARE(t.pairs, 2);
        for (const store::Pair& p : pairs_of(f.project.db())) QCOMPARE(p.step_index, 0);
        auto traj = *must(store::TrajectoryRepo(f.project.db()).get(t.trajectory_id, true));
        QCOMPARE(traj.steps.size(), size_t(1));
        const auto record = nlohmann::json::parse(must(beam_record_text(f.project.db(), t.trajectory_id)));
        QCOMPARE(record.size(), size_t(3));
        QCOMPARE(record[2]["error"].get<std::string>(), t.dropped[0]);
        // A second job on the finished run returns it as stored.
        auto again = must(run_sampling_job(f.project.db(), f.run_id, f.settings, controller, verifier, f.tools));
        QVERIFY(again.tasks.front().second.already_finished);
        QCOMPARE(again.pairs, int64_t(2));
        QCOMPARE(verifier.requests.size(), size_t(2));
        // Per-run decision counts and the "verifier vs you" queue.
        store::SampledPairRepo links(f.project.db());
        store::PairRepo repo(f.project.db());
        const auto pairs = pairs_of(f.project.db());
        must(repo.set_status(pairs[0].id, "rejected", std::string("both wrong")));
        must(repo.swap(pairs[1].id));
        must(repo.set_status(pairs[1].id, "approved"));
        QCOMPARE(must(links.disagreements(f.run_id)), (std::vector<int64_t>{pairs[0].id, pairs[1].id}));
        const auto counts = must(links.decision_counts(f.run_id));
        QCOMPARE(counts.size(), size_t(2));
        QCOMPARE(counts[0].status, std::string("approved"));
        QCOMPARE(counts[1].status, std::string("rejected"));
        QCOMPARE(*counts[1].reason, std::string("both wrong"));
        QCOMPARE(counts[1].count, int64_t(1));
        must(repo.undo_last());  // the approval
        must(repo.undo_last());  // the swap
        QCOMPARE(must(links.disagreements(f.run_id)), (std::vector<int64_t>{pairs[0].id}));
    }

    // A candidate's observation shows a broken server at step 1: MATRIX skips the task, so step 0's pairs go too.
    void server_error_skips_the_task() {
        Fixture f = make("server", 3);
        TableController controller({{0, {action("a", "print('a')"), action("b", "print(undefined)"), "no code"}},
                                    {1, {action("c", "print('ok')"), action("d", "print('500 Internal Server Error')"),
                                         action("e", "print('e')")}}});
        TableVerifier verifier({{0, 0}, {1, 0}});
        auto out = must(run_sampling_job(f.project.db(), f.run_id, f.settings, controller, verifier, f.tools));
        const TaskSampleOutcome& t = out.tasks.front().second;
        QCOMPARE(t.status, std::string("skipped"));
        QCOMPARE(t.stop_reason, std::string("server_error"));
        QCOMPARE(t.steps, 1);
        QCOMPARE(t.pairs, 0);
        QCOMPARE(out.pairs, int64_t(0));
        QCOMPARE(verifier.requests.size(), size_t(1));  // step 1 never reached the verifier
        QVERIFY(pairs_of(f.project.db()).empty());
    }

    // Three tasks on two workers (each with its own connection; the table controller serialised by the job) give
    // the pairs of one worker.
    void workers_give_the_same_pairs() {
        auto table = [] {
            return std::map<int, std::vector<std::string>>{
                {0, {action("a", "x = 2\nprint(x)"), action("b", "print(undefined)"), "nothing to run"}},
                {1, {action("c", "final_answer(x * 21)"), action("d", "print(x)"), action("e", "y = [1, 2]\nprint(sum(y))")}}};
        };
        std::vector<std::vector<std::string>> got;
        for (int workers : {1, 2}) {
            Fixture f = make(workers == 1 ? "one-worker" : "two-workers", 3, 3);
            f.settings.workers = workers;
            TableController controller(table());
            TableVerifier verifier({{0, 0}, {1, 0}});
            auto out = must(run_sampling_job(f.project.db(), f.run_id, f.settings, controller, verifier, f.tools));
            QCOMPARE(out.status, std::string("finished"));
            QCOMPARE(out.tasks.size(), size_t(3));
            for (const auto& [task, o] : out.tasks) {
                QCOMPARE(o.final_answer, std::string("42"));
                QCOMPARE(o.steps, 2);
            }
            std::vector<std::string> rows;
            for (const store::Pair& p : pairs_of(f.project.db()))
                rows.push_back(p.record_key + "|" + p.chosen_action + "|" + p.rejected_action + "|" + p.rejected_observation.value_or(""));
            std::sort(rows.begin(), rows.end());
            got.push_back(rows);
        }
        QVERIFY(got[0].size() >= size_t(3 * 2));  // per task at least step 0's error and no-code candidates
        QCOMPARE(got[1], got[0]);
    }

    void settings_round_trip() {
        Fixture f = make("settings", 5);
        auto back = must(load_sampling_settings(f.project.db(), f.run_id));
        QCOMPARE(back.k(), 5);
        QCOMPARE(back.agent.loop.generation.groups.size(), size_t(2));
        QCOMPARE(back.agent.loop.generation.groups[0].temperature, 0.7);
        QCOMPARE(back.agent.loop.generation.groups[0].repetition_penalty, 1.05);
        QCOMPARE(back.agent.loop.generation.groups[1].n, 4);
        QCOMPARE(back.agent.loop.generation.groups[1].temperature, 1.2);
        QCOMPARE(back.agent.loop.generation.groups[1].top_p, 0.8);
        QCOMPARE(back.agent.loop.generation.groups[1].top_k, 100);
        QCOMPARE(back.agent.loop.generation.max_new_tokens, 512);
        QCOMPARE(back.agent.loop.max_steps, 8);
        QCOMPARE(back.agent.loop.max_errors, 5);
        QCOMPARE(back.pairs_dataset, std::string("adhoc-sampled"));
        QVERIFY(back.agent.sandbox.work_dir.find("/runs/run-" + std::to_string(f.run_id)) != std::string::npos);
        must(apply_sampling_setting(back, "k", "3"));
        QCOMPARE(back.k(), 3);
        QCOMPARE(back.agent.loop.generation.groups[1].n, 2);
        QVERIFY(!apply_sampling_setting(back, "colour", "red").ok());
        QVERIFY(!apply_sampling_setting(back, "k", "1").ok());
        auto run = *must(store::RunRepo(f.project.db()).get(f.run_id));
        QCOMPARE(run.kind, std::string("sample"));
        QVERIFY(!load_agent_run_settings(f.project.db(), f.run_id).ok());  // not an agent run
        QCOMPARE(step_seed(0, 1, 0), step_seed(0, 1, 0));
        QVERIFY(step_seed(0, 1, 0) != step_seed(0, 2, 0));
        QVERIFY(step_seed(0, 1, 0) != step_seed(1, 1, 0));
    }
};

QTEST_GUILESS_MAIN(TestSampling)
#include "test_sampling.moc"
