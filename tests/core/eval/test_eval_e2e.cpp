// End-to-end evaluation runs (core/eval) with the agent, its sandbox and scripted controllers: GAIA with two
// workers, one item running past its time limit (a row with the reason, counted wrong: a fixed denominator),
// the benchmark's task text with the attachment, accuracy per level; Agent-X with the agent's tool calls mapped to
// Agent-X tools for toolset F1.
#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <mutex>
#include <thread>

#include "core/eval/agentx_loader.h"
#include "core/eval/bench_store.h"
#include "core/eval/gaia_loader.h"
#include "core/eval/eval_run.h"
#include "core/store/run_repo.h"

using namespace matrix;
using nlohmann::json;

namespace {
const std::string kData = std::string(MATRIX_SOURCE_DIR) + "/tests/data/bench/";
const std::string kShared = MATRIX_SHARED_DIR;

std::string all_text(const std::vector<tok::ChatMessage>& messages) {
    std::string t;
    for (const auto& m : messages)
        for (const auto& p : m.content) t += p.text + "\n";
    return t;
}

std::string final_answer(const std::string& a) {
    return "Thought: I know it.\nCode:\n```py\nfinal_answer(\"" + a + "\")\n```";
}

// Answers GAIA questions by their words; the colour question never finishes in time.
class GaiaController : public agent::Controller {
public:
    explicit GaiaController(std::vector<std::string>* seen, std::mutex* m) : m_seen(seen), m_mutex(m) {}
    std::string describe() const override { return "gaia script"; }
    Result<std::vector<agent::Candidate>> generate(const std::vector<tok::ChatMessage>& messages,
                                                   const agent::GenerationSettings&, const std::atomic<bool>* cancel) override {
        const std::string text = all_text(messages);
        {
            std::lock_guard<std::mutex> lock(*m_mutex);
            m_seen->push_back(text);
        }
        if (text.find("alphabetical") != std::string::npos) {
            for (int i = 0; i < 3000; ++i) {
                if (cancel && cancel->load()) return make_error("cancelled");
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
        }
        std::string answer = "I do not know";
        if (text.find("spiders") != std::string::npos) answer = "24";
        if (text.find("receipt") != std::string::npos) answer = "$17.5";
        if (text.find("headquarters") != std::string::npos) answer = "Moscow";
        return std::vector<agent::Candidate>{{final_answer(answer), "stop", 10}};
    }

private:
    std::vector<std::string>* m_seen;
    std::mutex* m_mutex;
};

// First step reads the image with ocr (no backend here: the observation says so), then answers.
class AgentXController : public agent::Controller {
public:
    std::string describe() const override { return "agentx script"; }
    Result<std::vector<agent::Candidate>> generate(const std::vector<tok::ChatMessage>& messages,
                                                   const agent::GenerationSettings&, const std::atomic<bool>*) override {
        if (messages.size() <= 2)
            return std::vector<agent::Candidate>{
                {"Thought: read it.\nCode:\n```py\nprint(ocr(image_path=\"menu.jpg\"))\n```", "stop", 10}};
        return std::vector<agent::Candidate>{{final_answer("$7.00"), "stop", 10}};
    }
};

}  // namespace

class TestEvalE2e : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void gaia_every_item_keeps_a_row() {
        const std::string db = m_dir.path().toStdString() + "/gaia.matrix";
        int64_t run_id = 0;
        {
            auto project = store::Project::open(db);
            auto b = eval::load_gaia(kData + "gaia/metadata.jsonl");
            QVERIFY(b.ok());
            QCOMPARE(b->items.size(), size_t(5));
            QVERIFY(eval::store_benchmark(*project, *b).ok());
            eval::EvalSettings s;
            s.benchmark = eval::BenchKind::gaia;
            s.mode = "e2e";
            s.controller = {{"kind", "endpoint"}, {"url", "http://script"}, {"model", "m"}};
            s.tools = {"ocr", "inspect_file_as_text"};
            s.workers = 2;
            s.item_timeout_s = 2;
            s.loop.generation.seed = 11;
            auto id = eval::create_eval_run(*project, s, "gaia script", m_dir.path().toStdString() + "/runs");
            QVERIFY2(id.ok(), id.ok() ? "" : id.error().to_string().c_str());
            run_id = *id;
        }
        std::vector<std::string> seen;
        std::mutex m;
        eval::ControllerSource src;
        src.shared = false;
        src.make = [&]() -> Result<std::unique_ptr<agent::Controller>> {
            return std::unique_ptr<agent::Controller>(std::make_unique<GaiaController>(&seen, &m));
        };
        std::vector<std::string> outcomes;
        eval::EvalEvents ev;
        ev.on_item_done = [&](const eval::EvalProgress& p) { outcomes.push_back(p.item + " " + p.outcome); };
        auto out = eval::run_eval(db, run_id, src, ev);
        QVERIFY2(out.ok(), out.ok() ? "" : out.error().to_string().c_str());
        QCOMPARE(out->status, std::string("finished"));
        QCOMPARE(outcomes.size(), size_t(5));
        const json& off = out->metrics["official"];
        // 24 and $17.5 right; Moscow and "I do not know" wrong; the timeout wrong.
        QCOMPARE(off["accuracy"].get<double>(), 40.0);
        QCOMPARE(off["n_scored"].get<double>(), 5.0);
        QCOMPARE(off["accuracy_l1"].get<double>(), 50.0);
        QCOMPARE(off["accuracy_l2"].get<double>(), 50.0);
        QCOMPARE(off["accuracy_l3"].get<double>(), 0.0);
        QVERIFY(!out->metrics.contains("matrix"));  // GAIA: the official question scorer only

        auto project = store::Project::open(db);
        const auto rows = store::RunRepo(project->db()).results(run_id).value();
        QCOMPARE(rows.size(), size_t(5));
        for (const auto& r : rows) {
            const json extra = json::parse(r.extra.value_or("{}"));
            if (r.task_key == "t-0002") {
                QCOMPARE(r.error.value_or(""), std::string("timeout after 2 s"));
                QCOMPARE(extra["status"].get<std::string>(), std::string("timeout"));
                QVERIFY(!r.answer.has_value());
                QCOMPARE(json::parse(r.scores)["official"].get<double>(), 0.0);
            } else {
                QVERIFY2(r.answer.has_value(), r.task_key.c_str());
                QCOMPARE(extra["status"].get<std::string>(), std::string("answered"));
            }
        }
        // GAIA's task text: the question, then "\nAttachment: " and the file.
        bool attachment = false;
        for (const auto& t : seen) attachment |= t.find("\nAttachment: t-0004.txt") != std::string::npos;
        QVERIFY(attachment);
        auto run = store::RunRepo(project->db()).get(run_id);
        const json config = json::parse((*run)->config);
        QCOMPARE(config["tool_status"].size(), size_t(2));
        QCOMPARE(config["eval"]["item_timeout_s"].get<double>(), 2.0);
        QCOMPARE(config["seed"].get<int>(), 11);
    }

    void agentx_toolset_f1_maps_agent_tools() {
        const std::string db = m_dir.path().toStdString() + "/agentx.matrix";
        int64_t run_id = 0;
        eval::Benchmark b;
        {
            auto project = store::Project::open(db);
            auto meta = eval::load_agentx_toolmeta(kShared + "/bench/agentx_toolmeta.json");
            QVERIFY(meta.ok());
            auto loaded = eval::load_agentx(kData + "agentx/data.json", *meta);
            QVERIFY(loaded.ok());
            b = *loaded;
            QVERIFY(eval::store_benchmark(*project, b).ok());
            eval::EvalSettings s;
            s.benchmark = eval::BenchKind::agentx;
            s.mode = "e2e";
            s.controller = {{"kind", "endpoint"}, {"url", "http://script"}, {"model", "m"}};
            s.tools = {"ocr"};
            auto id = eval::create_eval_run(*project, s, "agentx script", m_dir.path().toStdString() + "/runs");
            QVERIFY(id.ok());
            run_id = *id;
        }
        eval::ControllerSource src;
        src.shared = false;
        src.make = []() -> Result<std::unique_ptr<agent::Controller>> {
            return std::unique_ptr<agent::Controller>(std::make_unique<AgentXController>());
        };
        auto out = eval::run_eval(db, run_id, src);
        QVERIFY2(out.ok(), out.ok() ? "" : out.error().to_string().c_str());
        // Every item: predicted {OCR}; F1 = 2|G n P| / (|G| + |P|) per item, macro mean.
        double sum = 0;
        for (const auto& item : b.items) {
            const bool has_ocr = std::find(item.tools.begin(), item.tools.end(), "OCR") != item.tools.end();
            sum += has_ocr ? 2.0 / (double(item.tools.size()) + 1) : 0.0;
        }
        QVERIFY(sum > 0);
        QCOMPARE(out->metrics["official"]["toolset_f1"].get<double>(), sum / double(b.items.size()) * 100);
    }
};

QTEST_GUILESS_MAIN(TestEvalE2e)
#include "test_eval_e2e.moc"
