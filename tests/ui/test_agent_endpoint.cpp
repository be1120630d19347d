// The GUI's AgentWorker with the endpoint controller, against a local OpenAI-compatible server: the run's steps
// come as signals, the answer is the code's final_answer, and the replies are cached in the project, so a second
// run of the same task with the same settings asks the server nothing.
#include <QSignalSpy>
#include <QThread>
#include <QtTest>

#include <nlohmann/json.hpp>

#include "core/agent/agent_job.h"
#include "core/store/request_cache_repo.h"
#include "tests/support/local_http_server.h"
#include "tests/ui/ui_fixture.h"
#include "ui/workers/agent_worker.h"

using namespace matrix;
using namespace matrix::ui;
using matrix::test::must;
using matrix::test::UiFixture;
using matrix::testing::LocalHttpServer;

namespace {
std::string completion(const std::string& content) {
    nlohmann::json choice = {{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", "stop"}};
    return nlohmann::json{{"id", "c1"}, {"object", "chat.completion"}, {"model", "served"}, {"choices", {choice}}}.dump();
}
const char* k_step0 = "Thought: compute.\nCode:\n```py\nx = 6 * 7\nprint(x)\n```";
const char* k_step1 = "Thought: done.\nCode:\n```py\nfinal_answer(x)\n```";
}  // namespace

class TestAgentEndpoint : public QObject {
    Q_OBJECT
private slots:
    void runsThroughTheEndpoint() {
        std::atomic<int> calls{0};
        LocalHttpServer server([&](const httplib::Request&, httplib::Response& res) {
            res.set_content(completion(calls++ == 0 ? k_step0 : k_step1), "application/json");
        });
        UiFixture f;
        QTemporaryDir work;
        QThread thread;
        auto* worker = new AgentWorker;
        worker->moveToThread(&thread);
        thread.start();
        agent::AgentRunSettings s;
        s.controller = {{"kind", "endpoint"}, {"url", server.url("/v1")}, {"model", "served"}, {"api_key_env", "MATRIX_TEST_NO_SUCH_KEY"}};
        s.sandbox.step_timeout_s = 30;
        s.task_ids = {f.tasks[3]};
        auto runOnce = [&] {
            QSignalSpy steps(worker, &AgentWorker::stepStored);
            QSignalSpy done(worker, &AgentWorker::finished);
            AgentRequest r;
            r.projectPath = f.path;
            r.settings = s;
            r.workRoot = work.path();
            worker->setRequest(r);
            QMetaObject::invokeMethod(worker, &AgentWorker::start, Qt::QueuedConnection);
            if (!done.wait(120000)) qFatal("the endpoint run did not finish");
            const AgentRunOutcome o = done.at(0).at(0).value<AgentRunOutcome>();
            return std::make_pair(o, int(steps.count()));
        };
        const auto [first, firstSteps] = runOnce();
        QCOMPARE(first.status, QStringLiteral("answered"));
        QCOMPARE(first.answer, QStringLiteral("42"));
        QCOMPARE(firstSteps, 2);
        QCOMPARE(server.count(), 2);
        // A new run with the same settings: every request is in the project's cache.
        const auto [second, secondSteps] = runOnce();
        QCOMPARE(second.status, QStringLiteral("answered"));
        QCOMPARE(second.answer, QStringLiteral("42"));
        QVERIFY(second.runId != first.runId);
        QCOMPARE(secondSteps, 2);
        QCOMPARE(server.count(), 2);
        auto project = must(store::Project::open(f.path.toStdString()));
        QCOMPARE(must(store::RequestCacheRepo(project.db()).count()), int64_t(2));
        thread.quit();
        thread.wait();
        delete worker;
    }
};

QTEST_MAIN(TestAgentEndpoint)
#include "test_agent_endpoint.moc"
