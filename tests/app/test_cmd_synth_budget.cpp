// `matrix synth run --budget-tokens` with --workers 4 against a scripted teacher that bills exactly 60 prompt +
// 40 completion tokens per request and answers slowly, so requests overlap: admission control reserves each
// request's bound (its text bytes + 8 per message and its role + 8 + max_tokens) before sending, so the paid total
// never passes the budget; the job pauses exactly when the next request's bound no longer fits with nothing in
// flight; run again with the same budget it asks nothing; with a larger one it carries on to the end, and the
// project's accounting equals what the server billed, no request paid twice.
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <regex>

#include <nlohmann/json.hpp>

#include "core/store/project.h"
#include "tests/support/cli_run.h"
#include "tests/support/scripted_teacher.h"

using namespace matrix;
using matrix::testing::run_matrix;
using json = nlohmann::json;

namespace {

constexpr int64_t k_prompt = 60, k_completion = 40, k_per_request = k_prompt + k_completion;
constexpr int k_max_tokens = 100;
constexpr int64_t k_budget = 1234;

std::string answer(const std::string&, const json& req) {
    const std::string s = std::to_string(req.value("seed", int64_t(0)));
    return "```json\n" + json::array({{{"query", "Count the red cars in photo " + s + "."}, {"tools", {"ocr"}}, {"needs", "none"}},
                                       {{"query", "Add 2 and " + s + "."}, {"tools", json::array()}, {"needs", "none"}}})
                             .dump() + "\n```";
}

// The documented bound of a request as the server received it (core/synth/synth_context.h).
int64_t bound_of(const json& req) {
    int64_t n = 8;
    for (const auto& m : req["messages"])
        n += 8 + static_cast<int64_t>(m["role"].get<std::string>().size()) +
             static_cast<int64_t>(testing::ScriptedTeacher::all_text(m).size());
    return n + req["max_tokens"].get<int64_t>() * req.value("n", int64_t(1));
}

}  // namespace

class TestCmdSynthBudget : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<testing::ScriptedTeacher> m_teacher;

    testing::CliRun run(const QString& db, QStringList extra) {
        QStringList args = {"synth", "run", "--db", db, "--stage", "queries", "--endpoint",
                            QString::fromStdString(m_teacher->url()), "--endpoint-model", "teacher", "--seed", "5",
                            "--seed-file", m_dir.path() + "/seeds.json", "--limit", "30", "--workers", "4",
                            "--set", "max_tokens=" + QString::number(k_max_tokens), "--set", "per_round=2",
                            "--set", "examples=1"};
        return run_matrix(args + extra, QProcessEnvironment::systemEnvironment(), 300000);
    }

    static int64_t count(store::Project& p, const std::string& sql) {
        auto n = p.db().query_int64(sql);
        if (!n.ok()) qFatal("%s: %s", sql.c_str(), n.error().to_string().c_str());
        return *n;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_teacher = std::make_unique<testing::ScriptedTeacher>(
            answer, [](const std::string&, const std::string&) { return testing::ScriptedTeacher::Usage{k_prompt, k_completion}; });
        m_teacher->set_delay_ms(150);
        std::ofstream(m_dir.path().toStdString() + "/seeds.json") << R"(["How many apples are in the basket?"])";
    }

    void budget_holds_with_four_workers_and_resume_adds_up() {
        const QString db = m_dir.path() + "/p.matrix";
        // A short prompt, so several requests' bounds fit in the budget at once and the workers overlap.
        const QString prompt = m_dir.path() + "/queries.txt";
        std::ofstream(prompt.toStdString()) << "You write tasks for a tool-using AI agent.\n=== user ===\n"
                                               "Write {{n}} tasks like {{examples}}";
        QCOMPARE(run_matrix({"synth", "prompt", "--db", db, "--name", "queries", "--set", prompt}).code, 0);

        auto first = run(db, {"--budget-tokens", QString::number(k_budget)});
        QCOMPARE(first.code, 3);
        const auto served = m_teacher->served();
        QVERIFY(!served.empty());
        // Every request has the same text (one example, the same prompt), so the same bound.
        const int64_t bound = bound_of(served.front().request);
        for (const auto& s : served) QCOMPARE(bound_of(s.request), bound);
        QVERIFY2(bound > k_per_request && 2 * bound < k_budget, std::to_string(bound).c_str());
        // Admitted while paid + reserved + bound <= budget; it paused when nothing was in flight and the next bound
        // did not fit: m requests with 100 * (m - 1) + bound <= budget < 100 * m + bound.
        const int64_t m = (k_budget - bound) / k_per_request + 1;
        QCOMPARE(int64_t(served.size()), m);
        QVERIFY(k_per_request * m <= k_budget);
        QVERIFY(k_per_request * m + bound > k_budget);
        QVERIFY2(m_teacher->max_in_flight() >= 2, std::to_string(m_teacher->max_in_flight()).c_str());
        qInfo("bound %lld tokens per request, %lld requests admitted (%lld paid of %lld), at most %d in flight",
              static_cast<long long>(bound), static_cast<long long>(m), static_cast<long long>(k_per_request * m),
              static_cast<long long>(k_budget), m_teacher->max_in_flight());
        QVERIFY2(first.out.contains(QString("stage queries: paused, 30 units, %1 done, 0 rejected, 0 failed, %2 paid tokens")
                                        .arg(m).arg(k_per_request * m).toUtf8()),
                 first.out.constData());
        QVERIFY2(first.err.contains(QString("token budget reached (%1 of %2 paid tokens; the next request could take up to %3)")
                                        .arg(k_per_request * m).arg(k_budget).arg(bound).toUtf8()),
                 first.err.constData());
        auto p = store::Project::open(db.toStdString());
        QVERIFY(p.ok());
        QCOMPARE(count(*p, "SELECT COALESCE(SUM(prompt_tokens + completion_tokens), 0) FROM synth_usage WHERE cached=0"),
                 k_per_request * m);
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_items WHERE stage='queries'"), m);

        // The same budget again: the next bound still does not fit, so nothing is asked.
        auto again = run(db, {"--budget-tokens", QString::number(k_budget)});
        QCOMPARE(again.code, 3);
        QVERIFY2(again.out.contains(QString("stage queries: paused, %1 units, 0 done").arg(30 - m).toUtf8()), again.out.constData());
        QCOMPARE(int64_t(m_teacher->served().size()), m);

        // A larger budget: on to the end; every round once, the accounting equal to what was billed.
        auto rest = run(db, {"--budget-tokens", "100000"});
        QVERIFY2(rest.code == 0, rest.err.constData());
        QVERIFY2(rest.out.contains(QString("stage queries: finished, %1 units, %1 done, 0 rejected, 0 failed, 3000 paid tokens")
                                       .arg(30 - m).toUtf8()),
                 rest.out.constData());
        QCOMPARE(int(m_teacher->served().size()), 30);
        const auto billed = m_teacher->total();
        QCOMPARE(billed.prompt_tokens, int64_t(30 * k_prompt));
        QCOMPARE(billed.completion_tokens, int64_t(30 * k_completion));
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_usage WHERE cached=0"), int64_t(30));
        QCOMPARE(count(*p, "SELECT SUM(prompt_tokens) FROM synth_usage WHERE cached=0"), billed.prompt_tokens);
        QCOMPARE(count(*p, "SELECT SUM(completion_tokens) FROM synth_usage WHERE cached=0"), billed.completion_tokens);
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_items WHERE stage='queries'"), int64_t(30));
        QCOMPARE(count(*p, "SELECT count(DISTINCT item_key) FROM synth_items WHERE stage='queries'"), int64_t(30));
        QCOMPARE(count(*p, "SELECT count(*) FROM tasks WHERE source='synth'"), int64_t(60));
        for (const auto& [body, n] : m_teacher->bodies()) QCOMPARE(n, 1);
    }
};

QTEST_GUILESS_MAIN(TestCmdSynthBudget)
#include "test_cmd_synth_budget.moc"
