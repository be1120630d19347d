// Tests for core/net/chat_client (and chat_request, image_data_url, store/request_cache_repo) against a real
// OpenAI-compatible stub server started here on 127.0.0.1 (cpp-httplib): the request body the server received
// (model, messages with image data URLs and their MIME types, sampling fields, stop, extra fields), Bearer and
// Azure keys, retries (429 + Retry-After, 503 forever, timeouts, refused) with exact attempt counts, 4xx and
// malformed replies not retried, streaming equal to non-streamed, the request cache in a project file, and the
// concurrency bound.
#include <QtTest>

#include <atomic>
#include <chrono>
#include <thread>

#include "core/net/chat_client.h"
#include "core/net/image_data_url.h"
#include "core/store/migrations.h"
#include "core/store/project.h"
#include "core/store/request_cache_repo.h"
#include "tests/support/local_http_server.h"

using namespace matrix;
using namespace matrix::net;
using matrix::testing::LocalHttpServer;
using nlohmann::json;

namespace {

std::string bytes(std::initializer_list<int> v) {
    std::string s;
    for (int b : v) s += char(b);
    return s;
}

// The first bytes of real files of each type, then filler: the MIME type comes from these, not the name.
const std::string kPng = bytes({0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, 'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2});
const std::string kJpeg = bytes({0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xFF, 0xD9});
const std::string kGif = std::string("GIF89a") + bytes({1, 0, 1, 0, 0x80, 0, 0});
const std::string kWebp = std::string("RIFF") + bytes({26, 0, 0, 0}) + "WEBPVP8 " + bytes({0, 0, 0, 0});
const std::string kBmp = std::string("BM") + std::string(24, '\0');

std::string base64_reference(const std::string& s) { return QByteArray::fromStdString(s).toBase64().toStdString(); }

// False when the file cannot be written: callers QVERIFY it, so the test stops there (a QVERIFY in here would
// only return from this helper).
[[nodiscard]] bool write_file(const QString& path, const std::string& data) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(data.data(), qint64(data.size())) == qint64(data.size());
}

json reply_json(const std::vector<std::pair<std::string, std::string>>& choices, const std::string& model = "served-model") {
    json cs = json::array();
    for (size_t i = 0; i < choices.size(); ++i) {
        cs.push_back({{"index", int(i)},
                      {"message", {{"role", "assistant"}, {"content", choices[i].first}}},
                      {"finish_reason", choices[i].second}});
    }
    return {{"id", "chatcmpl-1"}, {"object", "chat.completion"}, {"model", model}, {"choices", cs},
            {"usage", {{"prompt_tokens", 12}, {"completion_tokens", 7}, {"total_tokens", 19}}}};
}

void reply(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
}

ChatRequest simple_request(const std::string& text = "What is 2 + 2?") {
    ChatRequest r;
    r.messages.push_back(ChatMessage::text("user", text));
    return r;
}

ChatClientConfig config_for(const LocalHttpServer& server, const std::string& path = "/v1") {
    ChatClientConfig c;
    c.url = server.url(path);
    c.model = "default-model";
    c.api_key_env = "MATRIX_TEST_UNSET_KEY";
    c.retry.base_delay_ms = 10;
    c.retry.max_delay_ms = 40;
    c.retry.jitter = 0;
    c.timeout_ms = 5000;
    return c;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void sleep_unless(const std::atomic<bool>& release, int ms) {
    for (int i = 0; i < ms / 10 && !release.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace

class TestChatClient : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        for (const char* v : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"}) qunsetenv(v);
        qunsetenv("MATRIX_TEST_UNSET_KEY");
    }

    void normal_reply_with_two_choices() {
        QTemporaryDir dir;
        // Names that lie about the type: the PNG is called .jpg and the JPEG .png.
        const QString png = dir.filePath("photo.jpg"), jpeg = dir.filePath("scan.png");
        QVERIFY(write_file(png, kPng));
        QVERIFY(write_file(jpeg, kJpeg));
        const json canned = reply_json({{"The answer is 4.", "stop"}, {"It is four", "length"}});
        LocalHttpServer server([&](const httplib::Request&, httplib::Response& res) { reply(res, 200, canned); });
        ChatClient client(config_for(server));
        ChatRequest req;
        req.model = "qwen2-vl";
        req.messages.push_back(ChatMessage::text("system", "You are helpful."));
        req.messages.push_back({"user",
                                {ContentPart::make_text("What is in these?"), ContentPart::make_image(png.toStdString()),
                                 ContentPart::make_image(jpeg.toStdString())}});
        req.n = 2;
        req.temperature = 0.7;
        req.top_p = 0.9;
        req.max_tokens = 64;
        req.stop = {"Observation:", "<end_action>"};
        req.seed = 7;
        req.extra = {{"top_k", 20}, {"repetition_penalty", 1.05}, {"max_tokens", 128}};
        const ChatResult r = client.complete(req);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().to_error().to_string().c_str());
        QCOMPARE(int(r->choices.size()), 2);
        QCOMPARE(r->choices[0].index, 0);
        QCOMPARE(r->choices[0].content, std::string("The answer is 4."));
        QCOMPARE(r->choices[0].finish_reason, std::string("stop"));
        QCOMPARE(r->choices[1].index, 1);
        QCOMPARE(r->choices[1].content, std::string("It is four"));
        QCOMPARE(r->choices[1].finish_reason, std::string("length"));
        QCOMPARE(r->usage.prompt_tokens, int64_t(12));
        QCOMPARE(r->usage.completion_tokens, int64_t(7));
        QCOMPARE(r->usage.total_tokens, int64_t(19));
        QCOMPARE(r->model, std::string("served-model"));
        QCOMPARE(r->id, std::string("chatcmpl-1"));
        QCOMPARE(r->raw, canned.dump());
        QCOMPARE(r->attempts, 1);
        QVERIFY(!r->from_cache);

        const auto seen = server.requests();
        QCOMPARE(int(seen.size()), 1);
        QCOMPARE(seen[0].method, std::string("POST"));
        QCOMPARE(seen[0].path, std::string("/v1/chat/completions"));
        QCOMPARE(seen[0].header("Content-Type"), std::string("application/json"));
        QCOMPARE(seen[0].header("Authorization"), std::string());  // no key configured: no header
        const json body = json::parse(seen[0].body);
        const json expected = {
            {"model", "qwen2-vl"},
            {"messages",
             {{{"role", "system"}, {"content", "You are helpful."}},
              {{"role", "user"},
               {"content",
                {{{"type", "text"}, {"text", "What is in these?"}},
                 {{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64," + base64_reference(kPng)}}}},
                 {{"type", "image_url"}, {"image_url", {{"url", "data:image/jpeg;base64," + base64_reference(kJpeg)}}}}}}}}},
            {"n", 2},
            {"temperature", 0.7},
            {"top_p", 0.9},
            {"max_tokens", 128},  // extra fields are merged last
            {"stop", {"Observation:", "<end_action>"}},
            {"seed", 7},
            {"top_k", 20},
            {"repetition_penalty", 1.05}};
        QCOMPARE(body.dump(), expected.dump());
    }

    void bearer_and_azure_keys() {
        qputenv("MATRIX_TEST_API_KEY", "sk-test-secret-123");
        qputenv("MATRIX_TEST_AZURE_KEY", "azure-secret-456");
        const json canned = reply_json({{"ok", "stop"}});
        LocalHttpServer server([&](const httplib::Request& req, httplib::Response& res) {
            if (req.path.rfind("/denied", 0) == 0) return reply(res, 401, {{"error", {{"message", "Incorrect API key provided"}}}});
            reply(res, 200, canned);
        });
        ChatClientConfig bearer = config_for(server);
        bearer.api_key_env = "MATRIX_TEST_API_KEY";
        QVERIFY(ChatClient(bearer).complete(simple_request()).ok());

        ChatClientConfig azure = config_for(server, "/openai/deployments/gpt4o");
        azure.auth = AuthStyle::azure;
        azure.api_key_env = "MATRIX_TEST_AZURE_KEY";
        azure.azure_api_version = "2024-06-01";
        const ChatClient azure_client(azure);
        QCOMPARE(azure_client.endpoint(), server.url("/openai/deployments/gpt4o/chat/completions?api-version=2024-06-01"));
        QVERIFY(azure_client.complete(simple_request()).ok());

        const auto seen = server.requests();
        QCOMPARE(int(seen.size()), 2);
        QCOMPARE(seen[0].header("Authorization"), std::string("Bearer sk-test-secret-123"));
        QCOMPARE(seen[0].header("api-key"), std::string());
        QCOMPARE(seen[1].path, std::string("/openai/deployments/gpt4o/chat/completions"));
        QCOMPARE(seen[1].params.find("api-version")->second, std::string("2024-06-01"));
        QCOMPARE(seen[1].header("api-key"), std::string("azure-secret-456"));
        QCOMPARE(seen[1].header("Authorization"), std::string());

        // A refused key: rejected, not retried, and the key appears in no error text.
        ChatClientConfig denied = config_for(server, "/denied/v1");
        denied.api_key_env = "MATRIX_TEST_API_KEY";
        const ChatResult d = ChatClient(denied).complete(simple_request());
        QVERIFY(!d.ok());
        QCOMPARE(d.error().kind, ErrorKind::rejected);
        QCOMPARE(d.error().http_status, 401);
        QCOMPARE(d.error().attempts, 1);
        QCOMPARE(d.error().message, std::string("HTTP 401: Incorrect API key provided"));
        QVERIFY(d.error().to_error().to_string().find("sk-test-secret-123") == std::string::npos);

        // Azure without its key: refused before any request.
        azure.api_key_env = "MATRIX_TEST_UNSET_KEY";
        const ChatResult missing = ChatClient(azure).complete(simple_request());
        QVERIFY(!missing.ok());
        QCOMPARE(missing.error().kind, ErrorKind::invalid);
        QVERIFY(missing.error().message.find("MATRIX_TEST_UNSET_KEY") != std::string::npos);
        QCOMPARE(server.count(), 3);
        qunsetenv("MATRIX_TEST_API_KEY");
        qunsetenv("MATRIX_TEST_AZURE_KEY");
    }

    void rate_limit_with_retry_after() {
        std::atomic<int> calls{0};
        LocalHttpServer server([&](const httplib::Request&, httplib::Response& res) {
            if (++calls == 1) {
                res.set_header("Retry-After", "1");
                return reply(res, 429, {{"error", {{"message", "rate limited"}}}});
            }
            reply(res, 200, reply_json({{"finally", "stop"}}));
        });
        ChatClient client(config_for(server));
        std::vector<std::tuple<int, int, int>> retries;  // (next attempt, delay ms, status of the failed one)
        CallOptions opts;
        opts.on_retry = [&](const ChatError& e, int next, int delay) { retries.emplace_back(next, delay, e.http_status); };
        const auto t0 = std::chrono::steady_clock::now();
        const ChatResult r = client.complete(simple_request(), opts);
        const double elapsed = seconds_since(t0);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().message.c_str());
        QCOMPARE(r->choices[0].content, std::string("finally"));
        QCOMPARE(r->attempts, 2);
        QCOMPARE(server.count(), 2);
        QCOMPARE(client.http_requests(), int64_t(2));
        QVERIFY2(elapsed >= 1.0 && elapsed < 3.0, qPrintable(QString::number(elapsed)));
        QCOMPARE(int(retries.size()), 1);
        QCOMPARE(retries[0], std::make_tuple(2, 1000, 429));
    }

    void server_errors_until_the_attempts_run_out() {
        LocalHttpServer server([&](const httplib::Request&, httplib::Response& res) {
            reply(res, 503, {{"error", {{"message", "overloaded"}}}});
        });
        ChatClientConfig cfg = config_for(server);
        cfg.retry.max_attempts = 3;
        ChatClient client(cfg);
        std::vector<int> delays;
        CallOptions opts;
        opts.on_retry = [&](const ChatError&, int, int delay) { delays.push_back(delay); };
        const ChatResult r = client.complete(simple_request(), opts);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().kind, ErrorKind::infrastructure);
        QVERIFY(r.error().infrastructure());
        QCOMPARE(r.error().http_status, 503);
        QCOMPARE(r.error().attempts, 3);
        QCOMPARE(r.error().message, std::string("HTTP 503: overloaded"));
        QCOMPARE(r.error().to_error().to_string(),
                 client.endpoint() + ": [infrastructure] HTTP 503: overloaded (3 attempts)");
        QCOMPARE(server.count(), 3);
        QCOMPARE(delays, (std::vector<int>{10, 20}));  // base 10 ms, doubled, no jitter

        // Nothing listening any more: refused connections are retried too, then infrastructure.
        server.stop();
        const ChatResult down = client.complete(simple_request());
        QVERIFY(!down.ok());
        QCOMPARE(down.error().kind, ErrorKind::infrastructure);
        QCOMPARE(down.error().transport, TransportFailure::refused);
        QCOMPARE(down.error().http_status, 0);
        QCOMPARE(down.error().attempts, 3);
    }

    void timeout_is_infrastructure() {
        std::atomic<bool> release{false};
        LocalHttpServer server([&](const httplib::Request&, httplib::Response& res) {
            sleep_unless(release, 3000);
            reply(res, 200, reply_json({{"too late", "stop"}}));
        });
        ChatClientConfig cfg = config_for(server);
        cfg.timeout_ms = 300;
        cfg.retry.max_attempts = 2;
        const auto t0 = std::chrono::steady_clock::now();
        const ChatResult r = ChatClient(cfg).complete(simple_request());
        const double elapsed = seconds_since(t0);
        const int served = server.count();
        release = true;
        QVERIFY(!r.ok());
        QCOMPARE(r.error().kind, ErrorKind::infrastructure);
        QCOMPARE(r.error().transport, TransportFailure::timeout);
        QCOMPARE(r.error().attempts, 2);
        QVERIFY(r.error().message.rfind("timeout: ", 0) == 0);
        QCOMPARE(served, 2);
        QVERIFY2(elapsed >= 0.6 && elapsed < 2.5, qPrintable(QString::number(elapsed)));
    }

    void bad_request_is_not_retried() {
        LocalHttpServer server([&](const httplib::Request&, httplib::Response& res) {
            reply(res, 400, {{"error", {{"message", "The model 'nope' does not exist"}}}});
        });
        ChatClient client(config_for(server));
        const ChatResult r = client.complete(simple_request());
        QVERIFY(!r.ok());
        QCOMPARE(r.error().kind, ErrorKind::rejected);
        QVERIFY(!r.error().infrastructure());
        QCOMPARE(r.error().http_status, 400);
        QCOMPARE(r.error().attempts, 1);
        QCOMPARE(r.error().message, std::string("HTTP 400: The model 'nope' does not exist"));
        QCOMPARE(server.count(), 1);
    }

    void malformed_replies_data() {
        QTest::addColumn<QString>("body");
        QTest::addColumn<QString>("message");  // the start of the error message
        QTest::newRow("garbage") << "<html>busy</html>" << "reply is not JSON: JSON syntax error at byte 1: syntax error while parsing value";
        QTest::newRow("no choices") << R"({"object": "chat.completion"})" << "reply has no choices";
        QTest::newRow("empty choices") << R"({"choices": []})" << "reply has no choices";
        QTest::newRow("error object") << R"({"error": {"message": "boom"}})" << "reply is an error: boom";
        QTest::newRow("no message") << R"({"choices": [{"index": 0}]})" << "reply choice 0 has no message";
        QTest::newRow("array") << "[1, 2]" << "reply is not a JSON object";
    }
    void malformed_replies() {
        QFETCH(QString, body);
        QFETCH(QString, message);
        LocalHttpServer server([&](const httplib::Request&, httplib::Response& res) {
            res.set_content(body.toStdString(), "application/json");
        });
        const ChatResult r = ChatClient(config_for(server)).complete(simple_request());
        QVERIFY(!r.ok());
        QCOMPARE(r.error().kind, ErrorKind::malformed);
        QVERIFY2(r.error().message.rfind(message.toStdString(), 0) == 0, r.error().message.c_str());
        QCOMPARE(r.error().attempts, 1);
        QCOMPARE(r.error().http_status, 200);
        QCOMPARE(server.count(), 1);
    }

    void streaming_equals_non_streamed() {
        const std::vector<std::string> events = {
            R"({"id":"chatcmpl-9","model":"served","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null},{"index":1,"delta":{"role":"assistant"},"finish_reason":null}]})",
            R"({"id":"chatcmpl-9","model":"served","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]})",
            R"({"id":"chatcmpl-9","model":"served","choices":[{"index":1,"delta":{"content":"Good"},"finish_reason":null}]})",
            R"({"id":"chatcmpl-9","model":"served","choices":[{"index":0,"delta":{"content":", wörld"},"finish_reason":null}]})",
            R"({"id":"chatcmpl-9","model":"served","choices":[{"index":1,"delta":{"content":" day"},"finish_reason":null}]})",
            R"({"id":"chatcmpl-9","model":"served","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})",
            R"({"id":"chatcmpl-9","model":"served","choices":[{"index":1,"delta":{},"finish_reason":"length"}]})",
            R"({"id":"chatcmpl-9","model":"served","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":4,"total_tokens":9}})",
        };
        const json whole = {
            {"id", "chatcmpl-9"}, {"object", "chat.completion"}, {"model", "served"},
            {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", "Hello, wörld"}}}, {"finish_reason", "stop"}},
                         {{"index", 1}, {"message", {{"role", "assistant"}, {"content", "Good day"}}}, {"finish_reason", "length"}}}},
            {"usage", {{"prompt_tokens", 5}, {"completion_tokens", 4}, {"total_tokens", 9}}}};
        LocalHttpServer server([&](const httplib::Request& req, httplib::Response& res) {
            if (!json::parse(req.body).value("stream", false)) return reply(res, 200, whole);
            res.set_chunked_content_provider("text/event-stream", [&](size_t, httplib::DataSink& sink) {
                for (size_t i = 0; i < events.size(); ++i) {
                    const std::string ev = "data: " + events[i] + "\n\n";
                    if (i == 3) {  // one event split in the middle of a multi-byte character
                        const size_t cut = ev.find("\xC3") + 1;
                        sink.write(ev.data(), cut);
                        std::this_thread::sleep_for(std::chrono::milliseconds(20));
                        sink.write(ev.data() + cut, ev.size() - cut);
                    } else {
                        sink.write(ev.data(), ev.size());
                    }
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                }
                const std::string done = ": keep-alive comment\n\ndata: [DONE]\n\n";
                sink.write(done.data(), done.size());
                sink.done();
                return true;
            });
        });
        ChatClient client(config_for(server));
        ChatRequest req = simple_request();
        req.n = 2;
        const ChatResult plain = client.complete(req);
        QVERIFY(plain.ok());
        req.stream = true;
        std::vector<std::pair<int, std::string>> deltas;
        CallOptions opts;
        opts.on_delta = [&](int choice, std::string_view text) { deltas.emplace_back(choice, std::string(text)); };
        const ChatResult streamed = client.complete(req, opts);
        QVERIFY2(streamed.ok(), streamed.ok() ? "" : streamed.error().message.c_str());
        QCOMPARE(deltas, (std::vector<std::pair<int, std::string>>{{0, "Hello"}, {1, "Good"}, {0, ", wörld"}, {1, " day"}}));
        QCOMPARE(streamed->to_json().dump(), plain->to_json().dump());
        QCOMPARE(streamed->to_json().dump(), whole.dump());
        QCOMPARE(streamed->choices[0].content, std::string("Hello, wörld"));
        QCOMPARE(streamed->choices[1].finish_reason, std::string("length"));
        QCOMPARE(streamed->usage.total_tokens, int64_t(9));
        QVERIFY(streamed->raw.rfind("data: {", 0) == 0);
        const auto seen = server.requests();
        const json plain_body = json::parse(seen[0].body), stream_body = json::parse(seen[1].body);
        QVERIFY(!plain_body.contains("stream"));
        QCOMPARE(stream_body["stream"].get<bool>(), true);
        QCOMPARE(stream_body["stream_options"].dump(), std::string(R"({"include_usage":true})"));
        QCOMPARE(seen[1].header("Accept"), std::string("text/event-stream"));
    }

    void broken_stream_is_malformed() {
        LocalHttpServer server([&](const httplib::Request&, httplib::Response& res) {
            res.set_content("data: {\"choices\": [{\"index\": 0, \"delta\": {\"content\": \"a\"}}]}\n\ndata: {oops\n\n",
                            "text/event-stream");
        });
        ChatRequest req = simple_request();
        req.stream = true;
        const ChatResult r = ChatClient(config_for(server)).complete(req);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().kind, ErrorKind::malformed);
        QVERIFY2(r.error().message.rfind("stream event is not JSON: ", 0) == 0, r.error().message.c_str());
        QCOMPARE(r.error().attempts, 1);
    }

    void request_cache_in_the_project() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("cache.matrix").toStdString();
        const QString image = dir.filePath("pic.png");
        QVERIFY(write_file(image, kPng));
        std::atomic<int> calls{0};
        auto handler = [&](const httplib::Request& req, httplib::Response& res) {
            const int k = ++calls;
            if (req.body.find("please fail") != std::string::npos) return reply(res, 503, {{"error", {{"message", "down"}}}});
            reply(res, 200, reply_json({{"answer #" + std::to_string(k), "stop"}}));
        };
        LocalHttpServer server(handler);
        ChatRequest req = simple_request("Describe the picture.");
        req.messages[0].content.push_back(ContentPart::make_image(image.toStdString()));
        req.temperature = 0.7;
        std::string first_raw;
        {
            auto repo = store::RequestCacheRepo::open(path);
            QVERIFY2(repo.ok(), repo.ok() ? "" : repo.error().to_string().c_str());
            std::shared_ptr<store::RequestCacheRepo> cache(std::move(repo.value()));
            ChatClientConfig cfg = config_for(server);
            cfg.retry.max_attempts = 2;
            cfg.cache = cache;
            ChatClient client(cfg);

            const ChatResult r1 = client.complete(req);
            QVERIFY(r1.ok());
            QCOMPARE(r1->choices[0].content, std::string("answer #1"));
            QVERIFY(!r1->from_cache);
            QCOMPARE(server.count(), 1);
            first_raw = r1->raw;
            // Same request: the cached answer, no HTTP call.
            const ChatResult r2 = client.complete(req);
            QVERIFY(r2.ok());
            QCOMPARE(r2->choices[0].content, std::string("answer #1"));
            QVERIFY(r2->from_cache);
            QCOMPARE(r2->attempts, 0);
            QCOMPARE(r2->raw, first_raw);
            QCOMPARE(server.count(), 1);
            // Another sample index: a new call, cached on its own.
            CallOptions second;
            second.sample_index = 1;
            QCOMPARE(client.complete(req, second)->choices[0].content, std::string("answer #2"));
            QCOMPARE(client.complete(req, second)->choices[0].content, std::string("answer #2"));
            QCOMPARE(server.count(), 2);
            // The streamed form of the same request is the same request.
            ChatRequest streamed = req;
            streamed.stream = true;
            std::string delta;
            CallOptions with_delta;
            with_delta.on_delta = [&](int, std::string_view t) { delta += t; };
            const ChatResult r3 = client.complete(streamed, with_delta);
            QVERIFY(r3.ok() && r3->from_cache);
            QCOMPARE(delta, std::string("answer #1"));
            QCOMPARE(server.count(), 2);
            // Infrastructure errors are never cached: the same failing request goes out again.
            const ChatRequest failing = simple_request("please fail");
            const ChatResult f1 = client.complete(failing);
            QVERIFY(!f1.ok() && f1.error().infrastructure());
            QCOMPARE(server.count(), 4);
            QVERIFY(!client.complete(failing).ok());
            QCOMPARE(server.count(), 6);
            // use_cache = false: asks the server and stores nothing.
            CallOptions no_cache;
            no_cache.use_cache = false;
            QCOMPARE(client.complete(req, no_cache)->choices[0].content, std::string("answer #7"));
            QCOMPARE(cache->count().value(), int64_t(2));

            // The row: key from endpoint + canonical request + sample index, images stored as hashes.
            auto body = build_chat_body(req, "default-model");
            QVERIFY(body.ok());
            const std::string key = request_cache_key(client.endpoint(), canonical_request(body.value()), 0);
            QCOMPARE(key.size(), size_t(64));
            auto row = cache->get(key);
            QVERIFY(row.ok() && row.value());
            QCOMPARE(row.value()->endpoint, server.url("/v1/chat/completions"));
            QCOMPARE(row.value()->model, std::string("default-model"));
            QCOMPARE(row.value()->response, first_raw);
            QVERIFY(row.value()->request.find("\"url\":\"data:image/png;sha256,") != std::string::npos);
            QVERIFY(row.value()->request.find("base64") == std::string::npos);
            QVERIFY(row.value()->created_at.size() == 24 && row.value()->created_at.back() == 'Z');
            QVERIFY(key != request_cache_key(client.endpoint(), canonical_request(body.value()), 1));
        }
        // Reopened project, new client: still answered from the cache.
        {
            auto p = store::Project::open(path);
            QVERIFY(p.ok());
            QCOMPARE(p->db().user_version(), store::current_schema_version());
            auto repo = store::RequestCacheRepo::open(path);
            QVERIFY(repo.ok());
            ChatClientConfig cfg = config_for(server);
            cfg.cache = std::shared_ptr<store::RequestCacheRepo>(std::move(repo.value()));
            const ChatResult again = ChatClient(cfg).complete(req);
            QVERIFY(again.ok());
            QVERIFY(again->from_cache);
            QCOMPARE(again->choices[0].content, std::string("answer #1"));
            QCOMPARE(server.count(), 7);
        }
    }

    void concurrency_is_bounded() {
        LocalHttpServer server([&](const httplib::Request&, httplib::Response& res) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            reply(res, 200, reply_json({{"ok", "stop"}}));
        });
        ChatClientConfig cfg = config_for(server);
        cfg.max_concurrency = 2;
        const ChatClient client(cfg);
        std::atomic<int> ok{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < 8; ++i) {
            threads.emplace_back([&, i] {
                if (client.complete(simple_request("question " + std::to_string(i))).ok()) ++ok;
            });
        }
        for (auto& t : threads) t.join();
        QCOMPARE(ok.load(), 8);
        QCOMPARE(server.count(), 8);
        QCOMPARE(server.max_in_flight(), 2);
    }

    void image_types_by_magic_bytes_data() {
        QTest::addColumn<QByteArray>("data");
        QTest::addColumn<QString>("mime");  // "" = refused
        QTest::newRow("png") << QByteArray::fromStdString(kPng) << "image/png";
        QTest::newRow("jpeg") << QByteArray::fromStdString(kJpeg) << "image/jpeg";
        QTest::newRow("gif89a") << QByteArray::fromStdString(kGif) << "image/gif";
        QTest::newRow("gif87a") << QByteArray("GIF87a\x01\x00\x01\x00", 10) << "image/gif";
        QTest::newRow("webp") << QByteArray::fromStdString(kWebp) << "image/webp";
        QTest::newRow("bmp") << QByteArray::fromStdString(kBmp) << "image/bmp";
        QTest::newRow("riff but wave") << QByteArray("RIFF\x10\x00\x00\x00WAVEfmt ", 16) << "";
        QTest::newRow("text") << QByteArray("hello, not an image") << "";
        QTest::newRow("truncated png") << QByteArray("\x89PNG", 4) << "";
        QTest::newRow("empty") << QByteArray() << "";
    }
    void image_types_by_magic_bytes() {
        QFETCH(QByteArray, data);
        QFETCH(QString, mime);
        const auto got = sniff_image_mime(data.toStdString());
        QCOMPARE(QString::fromStdString(got.value_or("")), mime);
        QTemporaryDir dir;
        const QString path = dir.filePath("file.png");  // the name says PNG whatever the bytes are
        QVERIFY(write_file(path, data.toStdString()));
        const auto url = image_file_data_url(path.toStdString());
        if (mime.isEmpty()) {
            QVERIFY(!url.ok());
            QCOMPARE(url.error().message, std::string("not a PNG, JPEG, GIF, WebP or BMP image (by its first bytes)"));
        } else {
            QVERIFY(url.ok());
            QCOMPARE(url.value(), "data:" + mime.toStdString() + ";base64," + data.toBase64().toStdString());
        }
    }

    void base64_matches_qt() {
        const std::string all = [] {
            std::string s;
            for (int i = 0; i < 256; ++i) s += char(i);
            return s;
        }();
        for (size_t n = 0; n <= 7; ++n) QCOMPARE(base64_encode(all.substr(0, n)), base64_reference(all.substr(0, n)));
        QCOMPARE(base64_encode(all), base64_reference(all));
        QCOMPARE(base64_encode("Man"), std::string("TWFu"));
    }

    void bad_requests_make_no_call() {
        LocalHttpServer server([&](const httplib::Request&, httplib::Response& res) { reply(res, 200, reply_json({{"x", "stop"}})); });
        ChatClient client(config_for(server));
        ChatRequest missing_image = simple_request();
        missing_image.messages[0].content.push_back(ContentPart::make_image("/nonexistent/picture.png"));
        const ChatResult a = client.complete(missing_image);
        QVERIFY(!a.ok());
        QCOMPARE(a.error().kind, ErrorKind::invalid);
        QCOMPARE(a.error().message, std::string("/nonexistent/picture.png: cannot read image"));
        const ChatResult b = client.complete(ChatRequest{});
        QVERIFY(!b.ok());
        QCOMPARE(b.error().message, std::string("a chat request needs at least one message"));
        ChatRequest bad_extra = simple_request();
        bad_extra.extra = json::array({1});
        QCOMPARE(client.complete(bad_extra).error().message, std::string("extra request fields must be a JSON object"));
        ChatClientConfig no_model = config_for(server);
        no_model.model.clear();
        QCOMPARE(ChatClient(no_model).complete(simple_request()).error().message, std::string("no model given"));
        QCOMPARE(server.count(), 0);
    }

    void cancel_while_waiting_to_retry() {
        LocalHttpServer server([&](const httplib::Request&, httplib::Response& res) {
            res.set_header("Retry-After", "30");
            reply(res, 429, {{"error", {{"message", "slow down"}}}});
        });
        ChatClient client(config_for(server));
        std::atomic<bool> cancel{false};
        CallOptions opts;
        opts.cancel = &cancel;
        opts.on_retry = [&](const ChatError&, int, int delay) {
            QCOMPARE(delay, 30000);
            cancel = true;
        };
        const auto t0 = std::chrono::steady_clock::now();
        const ChatResult r = client.complete(simple_request(), opts);
        QVERIFY(!r.ok());
        QCOMPARE(r.error().kind, ErrorKind::cancelled);
        QCOMPARE(r.error().attempts, 1);
        QVERIFY(seconds_since(t0) < 2.0);
        QCOMPARE(server.count(), 1);
    }

    void urls_and_backoff() {
        QCOMPARE(chat_completions_url("http://h:8000/v1"), std::string("http://h:8000/v1/chat/completions"));
        QCOMPARE(chat_completions_url("http://h:8000/v1/"), std::string("http://h:8000/v1/chat/completions"));
        QCOMPARE(chat_completions_url("https://h/v1/chat/completions"), std::string("https://h/v1/chat/completions"));
        QCOMPARE(chat_completions_url("https://r.openai.azure.com/openai/deployments/d", "2024-06-01"),
                 std::string("https://r.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-06-01"));
        QCOMPARE(chat_completions_url("https://h/v1?x=1", "2024 06"), std::string("https://h/v1/chat/completions?x=1&api-version=2024%2006"));
        RetryPolicy p;
        p.base_delay_ms = 100;
        p.max_delay_ms = 1000;
        p.jitter = 0;
        std::vector<int> d;
        for (int k = 1; k <= 6; ++k) d.push_back(ChatClient::backoff_delay_ms(p, k));
        QCOMPARE(d, (std::vector<int>{100, 200, 400, 800, 1000, 1000}));
        p.jitter = 0.2;
        for (int i = 0; i < 100; ++i) {
            const int x = ChatClient::backoff_delay_ms(p, 1);
            QVERIFY(x >= 80 && x <= 120);
        }
        for (int s : {429, 500, 502, 503, 504}) QVERIFY(ChatClient::retryable_status(s));
        for (int s : {200, 400, 401, 404, 408, 501, 505}) QVERIFY(!ChatClient::retryable_status(s));
    }
};

QTEST_GUILESS_MAIN(TestChatClient)
#include "test_chat_client.moc"
