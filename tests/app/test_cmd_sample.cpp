// `matrix sample` end to end with the built binary over 5 real M-TRACE tasks: the tiny fixture Qwen2-VL writes the
// K = 5 candidates (a random model: every candidate is a format error, so the filter's error rule and BLEU rule
// both matter), a scripted verifier behind a local OpenAI-compatible server picks by a fixed rule from the prompt.
// Checks: the step records are read back by `matrix import --format beam`; every rejected candidate satisfies
// MATRIX's rules by a BLEU computed here independently; the chosen candidate is never rejected; a run killed
// with SIGKILL mid-run and resumed ends with exactly the pairs of an uninterrupted run with the same seed, and
// no task sampled twice; the error exits.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/conversation/action.h"
#include "core/conversation/observation.h"
#include "core/store/pair_repo.h"
#include "core/store/project.h"
#include "core/store/run_repo.h"
#include "core/store/trajectory_repo.h"
#include "tests/support/cli_run.h"
#include "tests/support/local_http_server.h"
#include "tests/support/nltk_bleu.h"

using namespace matrix;
using matrix::testing::independent_bleu;
using matrix::testing::run_matrix;

namespace {
const QString k_model = QStringLiteral(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny/tiny-qwen2vl");

// The scripted verifier: best_id = (sum of the prompt's bytes) mod N + 1, N = the candidates it lists.
std::string verifier_reply(const std::string& body, int* n_out = nullptr) {
    const auto req = nlohmann::json::parse(body, nullptr, false);
    std::string text;
    for (const auto& m : req["messages"]) {
        if (m["content"].is_string()) text += m["content"].get<std::string>();
        else
            for (const auto& p : m["content"])
                if (p.value("type", "") == "text") text += p.value("text", "");
    }
    int n = 0;
    for (size_t at = text.find("=== Candidate "); at != std::string::npos; at = text.find("=== Candidate ", at + 1)) ++n;
    uint64_t sum = 0;
    for (unsigned char c : text) sum += c;
    if (n_out) *n_out = n;
    const int best = n > 0 ? int(sum % uint64_t(n)) + 1 : 1;
    const std::string content = "```json\n" + nlohmann::json{{"reason", "rule " + std::to_string(best)}, {"best_id", best}}.dump() + "\n```";
    nlohmann::json choice = {{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", "stop"}};
    return nlohmann::json{{"id", "v"}, {"object", "chat.completion"}, {"model", "rule"}, {"choices", {choice}}}.dump();
}

struct PairRow {
    std::string key, history, chosen, rejected, chosen_obs, rejected_obs, rule;
    int candidate = 0, chosen_candidate = 0;
    double bleu = 0;
    bool operator<(const PairRow& o) const { return key < o.key; }
};

std::vector<PairRow> pair_rows(store::Database& db) {
    auto st = db.prepare(
        "SELECT p.record_key, COALESCE(x.history, ''), p.chosen_action, p.rejected_action, COALESCE(p.chosen_observation, ''), "
        "COALESCE(p.rejected_observation, ''), s.rule, s.candidate, s.chosen_candidate, s.bleu, x.id FROM pairs p "
        "JOIN sampled_pairs s ON s.pair_id=p.id JOIN pair_prefixes x ON x.id=p.prefix_id ORDER BY p.record_key");
    std::vector<PairRow> out;
    if (!st.ok()) return out;
    while (st->step().value()) {
        PairRow r{st->column_text(0), st->column_text(1), st->column_text(2), st->column_text(3), st->column_text(4),
                  st->column_text(5), st->column_text(6), int(st->column_int64(7)), int(st->column_int64(8)),
                  st->column_double(9)};
        // The history as the exporter rebuilds it (stored as steps since schema 7).
        auto prefix = store::PairRepo(db).prefix(st->column_int64(10));
        if (prefix.ok() && *prefix) r.history = (*prefix)->history;
        out.push_back(r);
    }
    return out;
}
}  // namespace

class TestCmdSample : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::unique_ptr<matrix::testing::LocalHttpServer> m_server;
    std::atomic<int> m_delay_ms{0};
    QString m_tasks;

    QString fresh_project(const QString& name) {
        const QString db = m_dir.path() + "/" + name + ".matrix";
        auto r = run_matrix({"import", "--db", db, "--format", "mtrace", "--dataset", "m5", m_tasks});
        if (r.code != 0) qFatal("import: %s", r.err.constData());
        return db;
    }
    QStringList run_args(const QString& db) {
        return {"sample", "run", "--db", db, "--dataset", "m5", "--model", k_model, "--verifier-endpoint",
                QString::fromStdString(m_server->url("/v1")), "--verifier-model", "rule", "--k", "5", "--seed", "11",
                "--tools", "visualizer,ocr", "--set", "max_new_tokens=10", "--set", "max_steps=3", "--set",
                "verifier_max_new_tokens=64", "--set", "work_dir=" + m_dir.path() + "/runs-" + QFileInfo(db).baseName()};
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_server = std::make_unique<matrix::testing::LocalHttpServer>([this](const httplib::Request& req, httplib::Response& res) {
            if (m_delay_ms.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(m_delay_ms.load()));
            res.set_content(verifier_reply(req.body), "application/json");
        });
        std::ifstream in(MATRIX_SHARED_DIR "/data/mtrace/mtrace-subset-60.json");
        const auto all = nlohmann::json::parse(in);
        nlohmann::json five = nlohmann::json::array();
        for (size_t i = 0; i < 5; ++i) five.push_back(all[i]);
        m_tasks = m_dir.path() + "/m5.json";
        std::ofstream(m_tasks.toStdString()) << five.dump();
    }

    void five_tasks_records_and_filters() {
        const QString db = fresh_project("full");
        auto r = run_matrix(run_args(db), QProcessEnvironment::systemEnvironment(), 600000);
        QVERIFY2(r.code == 0, r.err.constData());
        const QList<QByteArray> lines = r.out.trimmed().split('\n');
        QCOMPARE(lines.last(), QByteArray("run 1"));
        QVERIFY(r.out.contains("task 1 step 0: 5 candidates, best "));
        QVERIFY(r.err.contains("[progress 5/5, eta 0 s]"));

        auto project = store::Project::open(db.toStdString());
        QVERIFY(project.ok());
        auto run = *store::RunRepo(project->db()).get(1).value();
        QCOMPARE(run.kind, std::string("sample"));
        QCOMPARE(run.status, std::string("finished"));
        const auto config = nlohmann::json::parse(run.config);
        QCOMPARE(config["sampling"]["k"].get<int>(), 5);
        QCOMPARE(config["loop"]["groups"][0]["temperature"].get<double>(), 0.7);
        QCOMPARE(config["loop"]["groups"][1]["temperature"].get<double>(), 1.2);
        QCOMPARE(config["sampling"]["verifier"]["kind"].get<std::string>(), std::string("endpoint"));
        auto trajectories = store::TrajectoryRepo(project->db()).list_for_run(1).value();
        QCOMPARE(trajectories.size(), size_t(5));
        int steps = 0;
        for (const auto& t : trajectories) {
            auto full = *store::TrajectoryRepo(project->db()).get(t.id, true).value();
            QCOMPARE(full.steps.size(), size_t(3));  // every candidate a format error: max_steps ends it
            for (const auto& s : full.steps) {
                QCOMPARE(s.candidates.size(), size_t(5));
                QVERIFY(s.is_error);
                ++steps;
            }
        }
        // Pairs: MATRIX's rules, by an independent BLEU; never the chosen candidate; at most 2 by the error rule.
        const auto pairs = pair_rows(project->db());
        QVERIFY(!pairs.empty());
        std::map<std::string, int> error_kept_per_step;
        for (const PairRow& p : pairs) {
            QVERIFY(p.candidate != p.chosen_candidate);
            QVERIFY(p.chosen != p.rejected);
            const std::string rej = std::string(conversation::strip_end_action(p.rejected));
            const std::string cho = std::string(conversation::strip_end_action(p.chosen));
            const double bleu = independent_bleu(rej, cho);
            QVERIFY2(std::abs(bleu - p.bleu) < 1e-12, p.key.c_str());
            const bool error = conversation::matrix_format_error(rej) || conversation::matrix_error_observation(p.rejected_obs);
            QVERIFY2(bleu < 0.3 || (error && p.rule == "error"), p.key.c_str());
            if (bleu >= 0.3) ++error_kept_per_step[p.key.substr(0, p.key.rfind(':'))];
            QVERIFY(p.rejected_obs.rfind("Error in code parsing: ", 0) == 0);
        }
        for (const auto& [step, n] : error_kept_per_step) QVERIFY2(n <= 2, step.c_str());

        // The step records are read back by the beam importer: 5 tasks, 3 steps of 5 candidates each.
        const QString beam = m_dir.path() + "/runs-full/run-1/beam";
        auto imported = run_matrix({"import", "--db", db, "--format", "beam", "--dataset", "back", beam});
        QVERIFY2(imported.code == 0, imported.err.constData());
        QVERIFY2(imported.out.contains("records 5, imported 5, already present 0, rejected 0, syntax errors 0"), imported.out.constData());
        QCOMPARE(project->db().query_int64("SELECT count(*) FROM step_candidates c JOIN steps s ON s.id=c.step_id JOIN "
                                           "trajectories t ON t.id=s.trajectory_id WHERE t.source='beam'").value(),
                 int64_t(steps * 5));
        QCOMPARE(project->db().query_int64("SELECT count(*) FROM step_candidates c JOIN steps s ON s.id=c.step_id JOIN "
                                           "trajectories t ON t.id=s.trajectory_id WHERE t.source='beam' AND c.is_best=1").value(),
                 int64_t(steps));
        // The import's best path is the sampled one.
        QCOMPARE(project->db().query_int64("SELECT count(*) FROM steps a JOIN trajectories ta ON ta.id=a.trajectory_id "
                                           "AND ta.source='beam' JOIN steps b ON b.action=a.action AND b.idx=a.idx JOIN "
                                           "trajectories tb ON tb.id=b.trajectory_id AND tb.source='sample'").value(),
                 int64_t(steps));
    }

    void kill_and_resume_gives_the_same_pairs() {
        const QString full_db = m_dir.path() + "/full.matrix";
        QVERIFY(QFileInfo::exists(full_db));
        const QString db = fresh_project("killed");
        m_delay_ms = 150;  // a slower verifier, so the kill lands mid-run
        QProcess p;
        p.start(matrix::testing::matrix_binary(), run_args(db));
        QVERIFY(p.waitForStarted());
        auto project = store::Project::open(db.toStdString());
        QVERIFY(project.ok());
        int64_t pairs_at_kill = 0;
        for (int i = 0; i < 3000 && p.state() == QProcess::Running; ++i) {
            auto n = project->db().query_int64("SELECT count(*) FROM sampled_pairs");
            if (n.ok() && *n >= 6) {
                pairs_at_kill = *n;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        QVERIFY(p.state() == QProcess::Running);
        ::kill(static_cast<pid_t>(p.processId()), SIGKILL);
        QVERIFY(p.waitForFinished(10000));
        QCOMPARE(p.exitStatus(), QProcess::CrashExit);
        m_delay_ms = 0;
        QVERIFY(pairs_at_kill >= 6);
        const int64_t finished_at_kill = project->db().query_int64("SELECT count(*) FROM trajectories WHERE run_id=1 AND "
                                                                   "json_extract(extra, '$.status')='finished'").value();
        QVERIFY(finished_at_kill < 5);
        QCOMPARE(store::RunRepo(project->db()).get(1).value()->status, std::string("running"));

        auto resumed = run_matrix({"sample", "resume", "--db", db, "--run", "1"}, QProcessEnvironment::systemEnvironment(), 600000);
        QVERIFY2(resumed.code == 0, resumed.err.constData());
        QVERIFY(resumed.out.trimmed().endsWith("run 1"));
        QCOMPARE(store::RunRepo(project->db()).get(1).value()->status, std::string("finished"));
        // No task sampled twice: one trajectory per task, each step once.
        QCOMPARE(project->db().query_int64("SELECT count(*) FROM trajectories WHERE run_id=1").value(), int64_t(5));
        QCOMPARE(project->db().query_int64("SELECT count(DISTINCT task_id) FROM trajectories WHERE run_id=1").value(), int64_t(5));
        QCOMPARE(project->db().query_int64("SELECT count(*) FROM steps s JOIN trajectories t ON t.id=s.trajectory_id WHERE t.run_id=1").value(),
                 int64_t(15));

        auto full = store::Project::open(full_db.toStdString());
        QVERIFY(full.ok());
        const auto expected = pair_rows(full->db());
        const auto got = pair_rows(project->db());
        QCOMPARE(got.size(), expected.size());
        for (size_t i = 0; i < got.size(); ++i) {
            QCOMPARE(got[i].key, expected[i].key);
            QCOMPARE(got[i].chosen, expected[i].chosen);
            QCOMPARE(got[i].rejected, expected[i].rejected);
            QCOMPARE(got[i].chosen_obs, expected[i].chosen_obs);
            QCOMPARE(got[i].rejected_obs, expected[i].rejected_obs);
            QCOMPARE(got[i].history, expected[i].history);
            QCOMPARE(got[i].candidate, expected[i].candidate);
            QCOMPARE(got[i].chosen_candidate, expected[i].chosen_candidate);
        }
        // The step records too: byte for byte.
        QDir a(m_dir.path() + "/runs-full/run-1/beam"), b(m_dir.path() + "/runs-killed/run-1/beam");
        const QStringList folders = a.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        QCOMPARE(folders.size(), 5);
        QCOMPARE(b.entryList(QDir::Dirs | QDir::NoDotAndDotDot), folders);
        for (const QString& f : folders) {
            QFile fa(a.filePath(f + "/beam_search_data.json")), fb(b.filePath(f + "/beam_search_data.json"));
            QVERIFY(fa.open(QIODevice::ReadOnly) && fb.open(QIODevice::ReadOnly));
            QCOMPARE(fb.readAll(), fa.readAll());
        }
    }

    void errors_name_the_problem() {
        const QString db = m_dir.path() + "/err.matrix";
        auto none = run_matrix({"sample", "run", "--db", db, "--dataset", "m5"});
        QCOMPARE(none.code, 1);
        QCOMPARE(none.err.trimmed(), QByteArray("matrix: sample run: give --model DIR or --endpoint URL --endpoint-model NAME"));
        auto missing = run_matrix({"sample", "run", "--db", db, "--model", k_model, "--dataset", "nothing"});
        QCOMPARE(missing.code, 1);
        QCOMPARE(missing.err.trimmed(), QByteArray("matrix: no dataset named 'nothing'"));
        auto verifier = run_matrix({"sample", "run", "--db", db, "--model", k_model, "--dataset", "m5", "--verifier-model", "x"});
        QCOMPARE(verifier.code, 1);
        QCOMPARE(verifier.err.trimmed(), QByteArray("matrix: sample run: --verifier-model needs --verifier-endpoint URL"));
        auto key = run_matrix({"sample", "run", "--db", db, "--model", k_model, "--dataset", "m5", "--set", "colour=red"});
        QCOMPARE(key.code, 1);
        QCOMPARE(key.err.trimmed(), QByteArray("matrix: unknown --set key \"colour\" (see matrix sample --help)"));
        auto k1 = run_matrix({"sample", "run", "--db", db, "--model", k_model, "--dataset", "m5", "--k", "1"});
        QCOMPARE(k1.code, 1);
        QCOMPARE(k1.err.trimmed(), QByteArray("matrix: k: at least 2 candidates (pairs need a rejected one)"));
        auto sub = run_matrix({"sample", "fly"});
        QCOMPARE(sub.code, 1);
        QCOMPARE(sub.err.trimmed(), QByteArray("matrix: sample: unknown subcommand \"fly\" (run, resume)"));
        auto resume = run_matrix({"sample", "resume", "--db", db, "--run", "7"});
        QCOMPARE(resume.code, 1);
        auto help = run_matrix({"sample", "--help"});
        QCOMPARE(help.code, 0);
        QVERIFY(help.out.startsWith("usage: matrix sample run"));
    }
};

QTEST_GUILESS_MAIN(TestCmdSample)
#include "test_cmd_sample.moc"
