// GTA step-by-step evaluation (core/eval): the gold replay gives ToolAcc = ArgAcc = 100 on all 229 items of the
// real GTA-1 dataset.json through the whole harness (gold steps written as code, parsed back, scored with the
// official metric code, stored as an eval run); the perturbed replay gives exactly the figures computed here from
// the raw file, independently of the harness; a controller sees the gold prefix, the gold tool outputs and the
// summarise instruction; a cancelled run resumes without redoing finished items.
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <mutex>
#include <set>

#include "core/eval/bench_store.h"
#include "core/eval/gta_loader.h"
#include "core/conversation/action.h"
#include "core/eval/demo_runs.h"
#include "core/eval/eval_run.h"
#include "core/eval/gta_step.h"
#include "core/store/run_repo.h"

using namespace matrix;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {
const std::string kGta = std::string(MATRIX_SHARED_DIR) + "/data/gta/dataset.json";

// Expected step-mode figures straight from dataset.json (file order = ordinals), for a replay whose tool step k
// (= ordinal + position among assistant turns) keeps the name unless k % 3 == 0 and the arguments only when
// k % 3 == 2 (perturbed), or always (gold).
struct Expected {
    int n_tool = 0, n_assistant = 0, n_truthy = 0, tool_ok = 0, arg_ok = 0;
};
Expected expected_from_file(bool perturbed) {
    std::ifstream in(kGta);
    const ordered_json d = ordered_json::parse(in);
    Expected e;
    int ordinal = 0;
    for (const auto& [key, item] : d.items()) {
        const auto& gt = item["gt_answer"];
        if (!gt.is_null() && !gt.empty()) ++e.n_truthy;
        int position = 0;
        for (const auto& m : item["dialogs"]) {
            if (m["role"] != "assistant") continue;
            ++e.n_assistant;
            if (m.contains("tool_calls")) {
                ++e.n_tool;
                const int k = ordinal + position;
                if (!perturbed || k % 3 != 0) ++e.tool_ok;
                if (!perturbed || k % 3 == 2) ++e.arg_ok;
            }
            ++position;
        }
        ++ordinal;
    }
    return e;
}

// Stores GTA-1 in a project file and returns its path.
std::string gta_project(const QTemporaryDir& dir, const std::string& name) {
    const std::string path = dir.path().toStdString() + "/" + name;
    auto project = store::Project::open(path);
    auto b = eval::load_gta(kGta);
    if (!project.ok() || !b.ok()) return {};
    auto stored = eval::store_benchmark(*project, *b);
    return stored.ok() ? path : std::string();
}

// Records what it was asked; answers with a fixed tool call, or final_answer on the summarise turn.
class RecordingController : public agent::Controller {
public:
    std::string describe() const override { return "recording"; }
    Result<std::vector<agent::Candidate>> generate(const std::vector<tok::ChatMessage>& messages,
                                                   const agent::GenerationSettings&, const std::atomic<bool>*) override {
        std::string last;
        for (const auto& p : messages.back().content) last += p.text;
        std::lock_guard<std::mutex> lock(m_mutex);
        m_calls.push_back(messages);
        if (last.find(eval::k_gta_summarise_instruction) != std::string::npos)
            return std::vector<agent::Candidate>{{"Thought: done\nCode:\n```py\nfinal_answer(\"12\")\n```", "stop", 5}};
        return std::vector<agent::Candidate>{
            {"Thought: look\nCode:\n```py\nprint(OCR(image=\"image/image_1.jpg\"))\n```", "stop", 5}};
    }
    std::vector<std::vector<tok::ChatMessage>> calls() {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_calls;
    }

private:
    std::mutex m_mutex;
    std::vector<std::vector<tok::ChatMessage>> m_calls;
};

std::string text_of(const tok::ChatMessage& m) {
    std::string t;
    for (const auto& p : m.content) t += p.text;
    return t;
}

}  // namespace

class TestEvalStep : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void python_literals_read_back_data() {
        QTest::addColumn<QString>("value");
        QTest::newRow("string with quotes and newline") << "\"say \\\"hi\\\"\\nthen \u0027go\u0027 \\\\ done\"";
        QTest::newRow("unicode") << R"("café 北京 – ok")";
        QTest::newRow("control char") << R"("a\u0001b\tc")";
        QTest::newRow("int") << "4";
        QTest::newRow("negative") << "-17";
        QTest::newRow("float") << "2.5";
        QTest::newRow("bools and none") << "[true, false, null]";
        QTest::newRow("nested") << R"({"a": [1, "x"], "b": {"c": 1.0}})";
    }
    void python_literals_read_back() {
        QFETCH(QString, value);
        const json v = json::parse(value.toStdString());
        const std::string code = "print(OCR(image=" + eval::python_literal(v) + "))";
        const auto calls = conversation::extract_tool_calls(code);
        QCOMPARE(calls.size(), size_t(1));
        QCOMPARE(calls[0].arguments["image"].dump(), v.dump());
    }

    void gold_action_reads_back_as_the_gold_message() {
        json gold = {{"role", "assistant"}, {"thought", "Count them.\n```\n"}};
        gold["tool_calls"] = json::array({{{"type", "function"},
                                           {"function", {{"name", "TextToBbox"},
                                                         {"arguments", {{"image", "image/image_9.jpg"},
                                                                        {"text", "the \"red\" car"},
                                                                        {"top1", true}}}}}}});
        const std::string action = eval::gta_gold_action(gold);
        QCOMPARE(action, std::string("Thought: Count them.\n\nCode:\n```py\nprint(TextToBbox(image=\"image/image_9.jpg\", "
                                     "text=\"the \\\"red\\\" car\", top1=True))\n```"));
        const json msg = eval::gta_message_of_action(action);
        QCOMPARE(msg["tool_calls"][0]["function"].dump(), gold["tool_calls"][0]["function"].dump());
        const json answer = eval::gta_message_of_action(
            eval::gta_gold_action(json::parse(R"({"role": "assistant", "content": "It costs $12."})")));
        QCOMPARE(answer.dump(), std::string(R"({"content":"It costs $12.","role":"assistant"})"));
        // No code: lagent's "NoAction" with an error (a wrong instruction type).
        const json none = eval::gta_message_of_action("I think the answer is 3.");
        QCOMPARE(none["tool_calls"][0]["function"]["name"].get<std::string>(), std::string("NoAction"));
        QVERIFY(none.contains("error"));
        // A MATRIX agent tool maps to the GTA tool it stands for.
        const json mapped = eval::gta_message_of_action("Thought: x\nCode:\n```py\nprint(ocr(image_path=\"a.jpg\"))\n```");
        QCOMPARE(mapped["tool_calls"][0]["function"]["name"].get<std::string>(), std::string("OCR"));
    }

    void gold_replay_scores_full_tool_and_arg_accuracy_on_all_229() {
        const std::string db = gta_project(m_dir, "gold.matrix");
        QVERIFY(!db.empty());
        int64_t run_id = 0;
        {
            auto project = store::Project::open(db);
            eval::EvalSettings s;
            s.name = "gold replay";
            s.mode = "step";
            s.controller = {{"kind", "gold"}};
            s.workers = 2;
            auto id = eval::create_eval_run(*project, s, "gold replay", m_dir.path().toStdString());
            QVERIFY2(id.ok(), id.ok() ? "" : id.error().to_string().c_str());
            run_id = *id;
        }
        int reported = 0;
        eval::EvalEvents ev;
        ev.on_item_done = [&](const eval::EvalProgress& p) {
            ++reported;
            QCOMPARE(p.total, 229);
        };
        auto out = eval::run_eval(db, run_id, {}, ev);
        QVERIFY2(out.ok(), out.ok() ? "" : out.error().to_string().c_str());
        QCOMPARE(out->status, std::string("finished"));
        QCOMPARE(out->n_items, 229);
        QCOMPARE(reported, 229);
        const Expected e = expected_from_file(false);
        QCOMPARE(e.n_tool, 557);
        const json& m = out->metrics["official"];
        QCOMPARE(m["tool_acc"].get<double>(), 100.0);
        QCOMPARE(m["arg_acc"].get<double>(), 100.0);
        QCOMPARE(m["n_tool_steps"].get<double>(), double(e.n_tool));
        QCOMPARE(m["tool_call"].get<double>(), double(e.n_tool));
        QCOMPARE(m["tool_call_error"].get<double>(), 0.0);
        // Every assistant turn matches its type; the official denominator counts items with a truthy gt_answer.
        QCOMPARE(m["inst_acc"].get<double>(), double(e.n_assistant) / (e.n_tool + e.n_truthy) * 100);
        QVERIFY(out->metrics.contains("matrix"));

        auto project = store::Project::open(db);
        store::RunRepo runs(project->db());
        auto results = runs.results(run_id);
        QCOMPARE(results->size(), size_t(229));
        auto run = runs.get(run_id);
        QCOMPARE((*run)->status, std::string("finished"));
        QCOMPARE((*run)->benchmark.value(), std::string("gta"));
        const json config = json::parse((*run)->config);
        QCOMPARE(config["mode"].get<std::string>(), std::string("step"));
        QCOMPARE(config["controller"]["kind"].get<std::string>(), std::string("gold"));
        QCOMPARE(config["items"].size(), size_t(229));
        QCOMPARE(config["prompts"]["summarise_instruction"].get<std::string>(),
                 std::string(eval::k_gta_summarise_instruction));
        // The compare view's scorer reads the stored run and gives the same figures.
        auto again = eval::score_stored_run(*project, run_id, eval::ScorerKind::official);
        QVERIFY(again.ok());
        QCOMPARE(again->metrics["arg_acc"], 100.0);
        QCOMPARE(again->primary_metric, std::string("arg_acc"));
        auto metric = runs.metric_series(run_id, "official/tool_acc");
        QCOMPARE(metric->size(), size_t(1));
        QCOMPARE(metric->front().value, 100.0);
        auto live = runs.metric_series(run_id, "live/accuracy");
        QCOMPARE(live->size(), size_t(229));
        QCOMPARE(live->back().value, 100.0);
        m_gold_db = db;
        m_gold_run = run_id;
    }

    void perturbed_replay_gives_the_expected_lower_figures() {
        QVERIFY(!m_gold_db.empty());
        int64_t run_id = 0;
        {
            auto project = store::Project::open(m_gold_db);
            eval::EvalSettings s;
            s.name = "perturbed replay";
            s.mode = "step";
            s.controller = {{"kind", "perturbed"}};
            s.workers = 3;
            auto id = eval::create_eval_run(*project, s, "perturbed", m_dir.path().toStdString());
            QVERIFY(id.ok());
            run_id = *id;
        }
        auto out = eval::run_eval(m_gold_db, run_id, {});
        QVERIFY2(out.ok(), out.ok() ? "" : out.error().to_string().c_str());
        const Expected e = expected_from_file(true);
        const json& m = out->metrics["official"];
        QVERIFY(e.tool_ok < e.n_tool && e.arg_ok < e.tool_ok);
        QCOMPARE(m["tool_acc"].get<double>(), double(e.tool_ok) / e.n_tool * 100);
        QCOMPARE(m["arg_acc"].get<double>(), double(e.arg_ok) / e.n_tool * 100);
        QCOMPARE(m["inst_acc"].get<double>(), double(e.n_assistant) / (e.n_tool + e.n_truthy) * 100);
        // SummAcc: the gold answers on odd ordinals, "I do not know" (never correct) on even ones, over the same
        // scored items: from the gold run's per-item verdicts.
        auto project = store::Project::open(m_gold_db);
        auto gold = eval::score_stored_run(*project, m_gold_run, eval::ScorerKind::official);
        QVERIFY(gold.ok());
        auto b = eval::load_gta(kGta);
        std::map<std::string, int> ordinal;
        for (size_t i = 0; i < b->items.size(); ++i) ordinal[b->items[i].id] = int(i);
        int kept = 0;
        for (const auto& t : gold->tasks) {
            if (t.detail.value("summ_correct", false) && ordinal[t.task_id] % 2 == 1) ++kept;
        }
        const double n_summ = gold->metrics.at("n_summ_scored");
        QVERIFY(kept > 0);
        QCOMPARE(m["summ_acc"].get<double>(), kept / n_summ * 100);
        QVERIFY(m["summ_acc"].get<double>() < gold->metrics.at("summ_acc"));
    }

    void controller_sees_gold_prefix_and_summarise_turn() {
        const std::string db = gta_project(m_dir, "ctl.matrix");
        int64_t run_id = 0;
        {
            auto project = store::Project::open(db);
            eval::EvalSettings s;
            s.mode = "step";
            s.controller = {{"kind", "endpoint"}, {"url", "http://test"}, {"model", "m"}};
            s.limit = 2;
            s.loop.generation.seed = 5;
            auto id = eval::create_eval_run(*project, s, "recording", m_dir.path().toStdString());
            QVERIFY(id.ok());
            run_id = *id;
        }
        auto ctl = std::make_shared<RecordingController>();
        eval::ControllerSource src;
        src.shared = true;
        src.make = [&]() -> Result<std::unique_ptr<agent::Controller>> {
            struct Fwd : agent::Controller {
                std::shared_ptr<RecordingController> c;
                std::string describe() const override { return c->describe(); }
                Result<std::vector<agent::Candidate>> generate(const std::vector<tok::ChatMessage>& m,
                                                               const agent::GenerationSettings& g,
                                                               const std::atomic<bool>* x) override {
                    return c->generate(m, g, x);
                }
            };
            auto f = std::make_unique<Fwd>();
            f->c = ctl;
            return std::unique_ptr<agent::Controller>(std::move(f));
        };
        auto out = eval::run_eval(db, run_id, src);
        QVERIFY2(out.ok(), out.ok() ? "" : out.error().to_string().c_str());
        auto b = eval::load_gta(kGta);
        const auto& item0 = b->items[0];
        int n_steps = 0;
        for (const auto& g : item0.gold_steps) n_steps += g.role == "assistant";
        for (const auto& g : b->items[1].gold_steps) n_steps += g.role == "assistant";
        const auto calls = ctl->calls();
        QCOMPARE(int(calls.size()), n_steps);
        // Item 0's second step: system, the task with its attachments, gold action 0, its gold tool output.
        std::vector<tok::ChatMessage> second;
        for (const auto& c : calls) {
            if (c.size() == 4 && text_of(c[1]).find(item0.query) != std::string::npos) second = c;
        }
        QCOMPARE(second.size(), size_t(4));
        QVERIFY(text_of(second[0]).find("- OCR(image: image) -> text\n") != std::string::npos);
        QCOMPARE(text_of(second[1]), "Task: " + item0.query + "\nAttachment:\nimage/image_1.jpg\nimage/image_2.jpg");
        QVERIFY(text_of(second[2]).rfind("Thought: ", 0) == 0);
        QVERIFY(text_of(second[2]).find("print(ImageDescription(image=\"image/image_1.jpg\"))") != std::string::npos);
        QCOMPARE(text_of(second[3]), "[OUTPUT OF STEP 0] Observation:\n" + item0.gold_steps[2].content);
        // The final turn carries the summarise instruction after the last observation.
        int with_instruction = 0;
        for (const auto& c : calls) with_instruction += text_of(c.back()).find(std::string("\n=======\n") + eval::k_gta_summarise_instruction) != std::string::npos;
        QCOMPARE(with_instruction, 2);
        // Item 0 has gt 12: the recorded final answer "12" is right under both scorers.
        auto project = store::Project::open(db);
        auto results = store::RunRepo(project->db()).results(run_id);
        QCOMPARE(results->size(), size_t(2));
        QCOMPARE(results->front().answer.value(), std::string("12"));
        QVERIFY(json::parse(results->front().scores)["matrix"].get<double>() == 1.0);
    }

    void cancelled_run_resumes_without_redoing_items() {
        const std::string db = gta_project(m_dir, "resume.matrix");
        int64_t run_id = 0;
        {
            auto project = store::Project::open(db);
            eval::EvalSettings s;
            s.mode = "step";
            s.controller = {{"kind", "gold"}};
            s.limit = 30;
            s.workers = 1;
            auto id = eval::create_eval_run(*project, s, "gold", m_dir.path().toStdString());
            QVERIFY(id.ok());
            run_id = *id;
        }
        std::atomic<bool> cancel{false};
        std::set<std::string> first, second;
        eval::EvalEvents ev;
        ev.on_item_done = [&](const eval::EvalProgress& p) {
            first.insert(p.item);
            if (p.done == 12) cancel = true;
        };
        auto out = eval::run_eval(db, run_id, {}, ev, &cancel);
        QVERIFY(out.ok());
        QCOMPARE(out->status, std::string("cancelled"));
        QCOMPARE(first.size(), size_t(12));
        {
            auto project = store::Project::open(db);
            QCOMPARE(store::RunRepo(project->db()).get(run_id).value()->status, std::string("cancelled"));
        }
        eval::EvalEvents ev2;
        int first_done = -1;
        ev2.on_item_done = [&](const eval::EvalProgress& p) {
            if (first_done < 0) first_done = p.done;
            second.insert(p.item);
        };
        auto again = eval::run_eval(db, run_id, {}, ev2);
        QVERIFY(again.ok());
        QCOMPARE(again->status, std::string("finished"));
        QCOMPARE(first_done, 13);
        QCOMPARE(second.size(), size_t(18));
        for (const auto& k : second) QVERIFY(!first.count(k));
        QCOMPARE(again->metrics["official"]["arg_acc"].get<double>(), 100.0);
    }

    void demo_project_runs_compare() {
        const std::string db = m_dir.path().toStdString() + "/demo.matrix";
        auto ids = eval::add_demo_eval_runs(db, std::string(MATRIX_SOURCE_DIR) + "/resources/demo/gta_demo.json");
        QVERIFY2(ids.ok(), ids.ok() ? "" : ids.error().to_string().c_str());
        QCOMPARE(ids->size(), size_t(2));
        auto project = store::Project::open(db);
        auto listed = eval::list_eval_runs(*project);
        QCOMPARE(listed->size(), size_t(2));
        auto cmp = eval::compare_stored_many(*project, *ids, 0, eval::ScorerKind::official);
        QVERIFY2(cmp.ok(), cmp.ok() ? "" : cmp.error().to_string().c_str());
        auto gold = eval::score_stored_run(*project, (*ids)[0], eval::ScorerKind::official);
        auto pert = eval::score_stored_run(*project, (*ids)[1], eval::ScorerKind::official);
        QCOMPARE(gold->tasks.size(), size_t(12));
        QCOMPARE(gold->metrics["arg_acc"], 100.0);
        QVERIFY(pert->metrics["arg_acc"] < 50.0);
        QVERIFY(pert->metrics["tool_acc"] < 100.0);
        QCOMPARE(store::RunRepo(project->db()).get((*ids)[1]).value()->name, std::string("perturbed replay (demo)"));
    }

    void errors_name_the_problem() {
        const std::string db = gta_project(m_dir, "err.matrix");
        auto project = store::Project::open(db);
        eval::EvalSettings s;
        s.mode = "e2e";
        s.controller = {{"kind", "gold"}};
        auto e2e_gold = eval::create_eval_run(*project, s, "gold", m_dir.path().toStdString());
        QVERIFY(!e2e_gold.ok());
        QCOMPARE(e2e_gold.error().message,
                 std::string("the gold controller answers step-by-step mode only (e2e has no gold step to replay)"));
        s.mode = "step";
        s.benchmark = eval::BenchKind::gaia;
        auto gaia_step = eval::create_eval_run(*project, s, "gold", m_dir.path().toStdString());
        QVERIFY(!gaia_step.ok());
        s.benchmark = eval::BenchKind::gta;
        s.dataset = "nope";
        auto missing = eval::create_eval_run(*project, s, "gold", m_dir.path().toStdString());
        QVERIFY(!missing.ok());
    }

private:
    std::string m_gold_db;
    int64_t m_gold_run = 0;
};

QTEST_GUILESS_MAIN(TestEvalStep)
#include "test_eval_step.moc"
