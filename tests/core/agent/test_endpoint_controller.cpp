// The agent loop with the endpoint controller against a real local HTTP server (cpp-httplib on 127.0.0.1): the
// request the server receives (model, messages with the task image as a PNG data URL, n, stop, seed, sampling and
// vLLM's extra fields), stored steps from the replies, a 429 with Retry-After retried by the client and never an
// observation, an endpoint that keeps failing making the task invalid with the reason, and the request cache
// answering a resumed run without new HTTP requests.
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>

#include "core/agent/agent_run.h"
#include "core/agent/endpoint_controller.h"
#include "core/store/project.h"
#include "core/store/request_cache_repo.h"
#include "core/store/trajectory_repo.h"
#include "tests/support/local_http_server.h"

using namespace matrix;
using namespace matrix::agent;
using matrix::testing::LocalHttpServer;

namespace {

std::string completion(const std::vector<std::string>& contents) {
    nlohmann::json choices = nlohmann::json::array();
    for (size_t i = 0; i < contents.size(); ++i)
        choices.push_back({{"index", i}, {"message", {{"role", "assistant"}, {"content", contents[i]}}}, {"finish_reason", "stop"}});
    return nlohmann::json{{"id", "c1"}, {"object", "chat.completion"}, {"model", "served"}, {"choices", choices}}.dump();
}

template <class T>
T must(Result<T> r) {
    if (!r.ok()) qFatal("%s", r.error().to_string().c_str());
    return std::move(r).value();
}

const char* k_step0 = "Thought: compute.\nCode:\n```py\nx = 6 * 7\nprint(x)\n```";
const char* k_step1 = "Thought: done.\nCode:\n```py\nfinal_answer(x)\n```";

}  // namespace

class TestEndpointController : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    int m_n = 0;

    struct Fixture {
        store::Project project;
        AgentRunSettings settings;
        ToolRegistry tools;
        int64_t task_id = 0, run_id = 0;
    };
    Fixture fixture() {
        ++m_n;
        Fixture f{must(store::Project::open((m_dir.path() + "/e" + QString::number(m_n) + ".matrix").toStdString())), {}, {}, 0, 0};
        f.tools = matrix_tools_without_backends("none in this test");
        f.settings.sandbox.work_dir = (m_dir.path() + "/w" + QString::number(m_n)).toStdString();
        f.settings.loop.generation.seed = 11;
        f.settings.loop.retry_backoff_s = 0.01;
        f.task_id = must(create_adhoc_task(f.project.db(), "What is six times seven?",
                                           {MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny/img_a.png"}));
        f.settings.task_ids = {f.task_id};
        f.run_id = must(create_agent_run(f.project.db(), f.settings, f.tools, "endpoint"));
        return f;
    }
    static EndpointControllerOptions options(const LocalHttpServer& server) {
        EndpointControllerOptions o;
        o.url = server.url("/v1");
        o.model = "served-model";
        o.api_key_env = "MATRIX_TEST_NO_SUCH_KEY";
        o.retry.base_delay_ms = 10;
        o.retry.max_delay_ms = 20;
        o.retry.max_attempts = 3;
        return o;
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void runs_a_task_through_the_endpoint() {
        std::atomic<int> calls{0};
        LocalHttpServer server([&](const httplib::Request&, httplib::Response& res) {
            const int k = calls++;
            if (k == 0) {  // rate limited once: retried by the client, never an observation
                res.status = 429;
                res.set_header("Retry-After", "0");
                res.set_content("{\"error\": {\"message\": \"slow down\"}}", "application/json");
                return;
            }
            res.set_content(completion({k == 1 ? k_step0 : k_step1}), "application/json");
        });
        Fixture f = fixture();
        auto controller = must(EndpointController::create(options(server)));
        auto out = must(run_task(f.project.db(), f.run_id, f.task_id, *controller, f.tools, f.settings));
        QCOMPARE(out.result.status, std::string("answered"));
        QCOMPARE(out.result.answer_text, std::string("42"));
        auto t = must(store::TrajectoryRepo(f.project.db()).get(out.trajectory_id, true));
        QCOMPARE(t->steps.size(), size_t(2));
        QCOMPARE(*t->steps[0].observation, std::string("42\n"));
        QCOMPARE(server.count(), 3);
        // The first request as the server saw it.
        const auto body = nlohmann::json::parse(server.requests()[0].body);
        QCOMPARE(body["model"].get<std::string>(), std::string("served-model"));
        QCOMPARE(body["n"].get<int>(), 1);
        QCOMPARE(body["seed"].get<int>(), 11);
        QCOMPARE(body["max_tokens"].get<int>(), 512);
        QCOMPARE(body["stop"].dump(), std::string(R"(["<end_action>","Observation:"])"));
        QCOMPARE(body["temperature"].get<double>(), 0.7);
        QCOMPARE(body["top_p"].get<double>(), 0.8);
        QCOMPARE(body["top_k"].get<int>(), 100);
        QCOMPARE(body["repetition_penalty"].get<double>(), 1.05);
        QCOMPARE(body["messages"][0]["role"].get<std::string>(), std::string("system"));
        const auto& user = body["messages"][1]["content"];
        QCOMPARE(user[0]["type"].get<std::string>(), std::string("image_url"));
        QVERIFY(user[0]["image_url"]["url"].get<std::string>().rfind("data:image/png;base64,iVBORw0KGgo", 0) == 0);
        QVERIFY(user[1]["text"].get<std::string>().rfind("Task: What is six times seven?\nAttachment: ", 0) == 0);
        // Step 1's request carries step 0 and its observation.
        const auto second = nlohmann::json::parse(server.requests()[2].body);
        QCOMPARE(second["messages"].size(), size_t(4));
        QCOMPARE(second["messages"][3]["content"].get<std::string>(), std::string("[OUTPUT OF STEP 0] Observation:\n42\n"));
    }

    void an_endpoint_that_keeps_failing_makes_the_task_invalid() {
        LocalHttpServer server([](const httplib::Request&, httplib::Response& res) {
            res.status = 503;
            res.set_content("overloaded", "text/plain");
        });
        Fixture f = fixture();
        f.settings.loop.infrastructure_retries = 1;
        auto controller = must(EndpointController::create(options(server)));
        auto out = must(run_task(f.project.db(), f.run_id, f.task_id, *controller, f.tools, f.settings));
        QCOMPARE(out.result.status, std::string("invalid"));
        QVERIFY2(out.result.invalid_reason.rfind("infrastructure error at step 0: ", 0) == 0, out.result.invalid_reason.c_str());
        QVERIFY(out.result.invalid_reason.find("503") != std::string::npos);
        QCOMPARE(server.count(), 6);  // (1 + 1 loop retry) x 3 client attempts
        QCOMPARE(must(store::TrajectoryRepo(f.project.db()).get(out.trajectory_id, true))->steps.size(), size_t(0));
    }

    void a_resumed_run_is_answered_from_the_request_cache() {
        std::atomic<int> calls{0};
        LocalHttpServer server([&](const httplib::Request&, httplib::Response& res) {
            res.set_content(completion({calls++ == 0 ? k_step0 : k_step1}), "application/json");
        });
        Fixture f = fixture();
        auto cache = std::make_shared<store::RequestCacheRepo>(f.project.db());
        EndpointControllerOptions o = options(server);
        o.cache = cache;
        auto first = must(EndpointController::create(o));
        auto out = must(run_task(f.project.db(), f.run_id, f.task_id, *first, f.tools, f.settings));
        QCOMPARE(out.result.answer_text, std::string("42"));
        QCOMPARE(server.count(), 2);
        // The same task again in a new run: every request is in the cache.
        const int64_t run2 = must(create_agent_run(f.project.db(), f.settings, f.tools, "endpoint"));
        auto second = must(EndpointController::create(o));
        auto again = must(run_task(f.project.db(), run2, f.task_id, *second, f.tools, f.settings));
        QCOMPARE(again.result.answer_text, std::string("42"));
        QCOMPARE(server.count(), 2);
    }
};

QTEST_GUILESS_MAIN(TestEndpointController)
#include "test_endpoint_controller.moc"
