// `matrix serve` end to end, as a separate process on a free port with the tiny fixture model: the model list, greedy
// answers equal to `matrix generate` (case 1 with its two images as data URLs, token ids equal to HF's reference),
// 64 concurrent streamed requests (with max batch 32, so half of them queue) that all complete with the text each
// prompt gives alone, the server's memory back near its idle level afterwards, a client killed mid-stream whose
// generation stops (GET /stats), every kind of bad request with its status and error code while the server keeps
// serving, and the API key check.
#include <QtTest>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>

#include "core/net/image_data_url.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/safetensors.h"
#include "tests/support/cli_run.h"

using namespace matrix;
using nlohmann::json;

namespace {
const QString k_fixture = QStringLiteral(MATRIX_SHARED_DIR "/fixtures/qwen2vl-tiny");
const std::string k_model = (k_fixture + "/tiny-qwen2vl").toStdString();

// A `matrix serve` process; the port is read from its "listening on" line.
struct ServerProcess {
    QProcess proc;
    int port = -1;
    bool start(const QStringList& extra, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
        QStringList args = {"serve", "--model", QString::fromStdString(k_model), "--port", "0"};
        args += extra;
        proc.setProcessEnvironment(env);
        proc.start(matrix::testing::matrix_binary(), args);
        if (!proc.waitForStarted(10000)) return false;
        QByteArray out;
        for (int i = 0; i < 600 && port < 0; ++i) {
            proc.waitForReadyRead(100);
            out += proc.readAllStandardOutput();
            const int at = out.indexOf("listening on http://127.0.0.1:");
            if (at >= 0 && out.indexOf('\n', at) > 0) {
                port = out.mid(at + 30, out.indexOf(' ', at + 30) - at - 30).toInt();
            }
            if (proc.state() != QProcess::Running) break;
        }
        return port > 0;
    }
    void stop() {
        if (proc.state() == QProcess::Running) {
            proc.terminate();  // SIGTERM: the server stops and exits 0
            proc.waitForFinished(20000);
        }
    }
    ~ServerProcess() {
        stop();
        if (proc.state() == QProcess::Running) proc.kill();
        proc.waitForFinished(5000);
    }
    long rss_kb() const {
        std::ifstream f("/proc/" + std::to_string(proc.processId()) + "/status");
        std::string line;
        while (std::getline(f, line))
            if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
        return -1;
    }
};

struct Reply {
    int status = 0;
    json body;
};

Reply post(int port, const json& body, const httplib::Headers& headers = {}) {
    httplib::Client cli("127.0.0.1", port);
    cli.set_read_timeout(120, 0);
    auto r = cli.Post("/v1/chat/completions", headers, body.dump(), "application/json");
    if (!r) return {};
    return {r->status, json::parse(r->body, nullptr, false)};
}

Reply post_raw(int port, const std::string& path, const std::string& text) {
    httplib::Client cli("127.0.0.1", port);
    cli.set_read_timeout(60, 0);
    auto r = cli.Post(path.c_str(), text, "application/json");
    if (!r) return {};
    return {r->status, json::parse(r->body, nullptr, false)};
}

json get_json(int port, const std::string& path) {
    httplib::Client cli("127.0.0.1", port);
    auto r = cli.Get(path.c_str());
    return r ? json::parse(r->body, nullptr, false) : json();
}

json user(const std::string& text) { return json::array({{{"role", "user"}, {"content", text}}}); }

// A streamed chat completion: content per choice, finish reasons, the usage chunk, whether [DONE] came.
struct StreamResult {
    int status = 0;
    std::string text;
    std::string finish;
    int64_t completion_tokens = -1;
    bool done = false;
    int chunks = 0;
};

StreamResult stream(int port, const json& body, int stop_after_chunks = -1) {
    StreamResult out;
    httplib::Client cli("127.0.0.1", port);
    cli.set_read_timeout(300, 0);
    // 64 clients connecting at once overflow the listen backlog (cpp-httplib's is 5): the kernel makes the late
    // ones wait for retransmits, which on a loaded machine can pass the 5 s default write timeout.
    cli.set_connection_timeout(60, 0);
    cli.set_write_timeout(60, 0);
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/chat/completions";
    req.body = body.dump();
    req.set_header("Content-Type", "application/json");
    std::string buf;
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
        buf.append(data, n);
        size_t e;
        while ((e = buf.find("\n\n")) != std::string::npos) {
            std::string ev = buf.substr(0, e);
            buf.erase(0, e + 2);
            if (ev.rfind("data: ", 0) != 0) continue;
            const std::string data_s = ev.substr(6);
            if (data_s == "[DONE]") {
                out.done = true;
                continue;
            }
            json j = json::parse(data_s, nullptr, false);
            if (j.is_discarded()) continue;
            ++out.chunks;
            if (j.contains("usage") && j["usage"].is_object()) out.completion_tokens = j["usage"]["completion_tokens"];
            for (auto& c : j["choices"]) {
                if (c["delta"].contains("content")) out.text += c["delta"]["content"].get<std::string>();
                if (!c["finish_reason"].is_null()) out.finish = c["finish_reason"];
            }
            if (stop_after_chunks > 0 && out.chunks >= stop_after_chunks) return false;  // the client goes away
        }
        return true;
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    // A connection that fails before any answer arrived (64 connects at once overflow the listen backlog; on a
    // loaded machine the kernel may drop one) is tried again, as the openai client does (2 retries). A request
    // the server answered even in part is never retried: what it sent is what the test checks.
    for (int attempt = 0; attempt < 3; ++attempt) {
        res = httplib::Response();
        cli.send(req, res, err);
        if (err == httplib::Error::Success || out.chunks > 0 || stop_after_chunks > 0) break;
        qWarning("stream request failed before any answer (%s); retrying", httplib::to_string(err).c_str());
        buf.clear();
    }
    out.status = res.status;
    if (err != httplib::Error::Success && out.status == -1 && stop_after_chunks <= 0)
        qWarning("stream request failed: %s", httplib::to_string(err).c_str());
    return out;
}

std::string data_url(const QString& file) {
    auto u = net::image_file_data_url(file.toStdString());
    return u.ok() ? *u : std::string();
}
}  // namespace

class TestCmdServe : public QObject {
    Q_OBJECT
    ServerProcess m_server;

private slots:
    void initTestCase() {
        if (matrix::testing::run_matrix({"serve", "--help"}).code != 0)
            QSKIP("this matrix binary has no serve subcommand (built without LibTorch)");
        QVERIFY2(m_server.start({"--max-batch", "32", "--adapter", "lora=" + k_fixture + "/peft-adapter"}),
                 m_server.proc.readAllStandardError().constData());
    }
    void cleanupTestCase() {
        m_server.stop();
        QCOMPARE(m_server.proc.exitCode(), 0);
    }

    void models() {
        json j = get_json(m_server.port, "/v1/models");
        QCOMPARE(j["object"].get<std::string>(), std::string("list"));
        QCOMPARE(j["data"].size(), size_t(2));
        QCOMPARE(j["data"][0]["id"].get<std::string>(), std::string("tiny-qwen2vl"));
        QCOMPARE(j["data"][1]["id"].get<std::string>(), std::string("lora"));
    }

    // Case 1 of the fixture (system prompt, two images, the task text): the server's greedy answer is HF's 24
    // reference tokens and the same text `matrix generate` prints.
    void greedy_equals_generate() {
        auto ref = SafetensorsFile::open((k_fixture + "/reference.safetensors").toStdString());
        QVERIFY(ref.ok());
        const TensorView* gen = (*ref)->find("case1.generated");
        QVERIFY(gen);
        std::vector<int64_t> want(24);
        std::memcpy(want.data(), gen->data, 24 * 8);
        const QString prompt = "Task: How many objects are in the two pictures?\nAttachment: img_a.png; img_b.png";
        auto g = matrix::testing::run_matrix({"generate", "--model", QString::fromStdString(k_model), "--image",
                                              k_fixture + "/img_a.png", "--image", k_fixture + "/img_b.png", "--system",
                                              "You are a helpful assistant.", "--prompt", prompt, "--max-new-tokens", "24"});
        QCOMPARE(g.code, 0);
        json body = {{"model", "tiny-qwen2vl"},
                     {"temperature", 0},
                     {"max_tokens", 24},
                     {"return_token_ids", true},
                     {"messages",
                      {{{"role", "system"}, {"content", "You are a helpful assistant."}},
                       {{"role", "user"},
                        {"content",
                         {{{"type", "image_url"}, {"image_url", {{"url", data_url(k_fixture + "/img_a.png")}}}},
                          {{"type", "image_url"}, {"image_url", {{"url", data_url(k_fixture + "/img_b.png")}}}},
                          {{"type", "text"}, {"text", prompt.toStdString()}}}}}}}};
        Reply r = post(m_server.port, body);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body["choices"][0]["token_ids"].get<std::vector<int64_t>>(), want);
        QCOMPARE(QByteArray::fromStdString(r.body["choices"][0]["message"]["content"].get<std::string>() + "\n"), g.out);
        QCOMPARE(r.body["choices"][0]["finish_reason"].get<std::string>(), std::string("length"));
        QCOMPARE(r.body["usage"]["prompt_tokens"].get<int64_t>(), int64_t(90));
        QCOMPARE(r.body["usage"]["completion_tokens"].get<int64_t>(), int64_t(24));
        QCOMPARE(r.body["prompt_token_ids"].size(), size_t(90));
    }

    // The adapter (its LoRA over the base's shared weights) answers as `matrix generate --adapter`, the base as
    // plain `matrix generate`, also when both are decoded at the same time (two batches, one per model).
    void adapter_equals_generate() {
        const QString prompt = "Hello, who are you?";
        auto run_gen = [&](bool adapter) {
            QStringList a = {"generate", "--model", QString::fromStdString(k_model), "--prompt", prompt,
                             "--max-new-tokens", "20", "--stop", "@@none@@"};
            if (adapter) a << "--adapter" << k_fixture + "/peft-adapter";
            return matrix::testing::run_matrix(a).out;
        };
        const QByteArray want_base = run_gen(false), want_lora = run_gen(true);
        QVERIFY(want_base != want_lora);
        Reply base, lora;
        std::thread t1([&] { base = post(m_server.port, {{"model", "tiny-qwen2vl"}, {"messages", user(prompt.toStdString())}, {"temperature", 0}, {"max_tokens", 20}}); });
        std::thread t2([&] { lora = post(m_server.port, {{"model", "lora"}, {"messages", user(prompt.toStdString())}, {"temperature", 0}, {"max_tokens", 20}}); });
        t1.join();
        t2.join();
        QCOMPARE(base.status, 200);
        QCOMPARE(lora.status, 200);
        QCOMPARE(lora.body["model"].get<std::string>(), std::string("lora"));
        QCOMPARE(QByteArray::fromStdString(base.body["choices"][0]["message"]["content"].get<std::string>() + "\n"), want_base);
        QCOMPARE(QByteArray::fromStdString(lora.body["choices"][0]["message"]["content"].get<std::string>() + "\n"), want_lora);
    }

    // 64 streamed requests at once over 8 prompts of different lengths: each gets exactly its prompt's solo greedy
    // answer (batched, left-padded decoding changes nothing), none is lost, and memory returns near idle.
    void concurrent_streams() {
        const int port = m_server.port;
        std::vector<std::string> prompts;
        for (int i = 0; i < 8; ++i) prompts.push_back("Prompt " + std::to_string(i) + ":" + std::string(size_t(i * 7), 'x'));
        std::vector<std::string> solo;
        for (auto& p : prompts) {
            Reply r = post(port, {{"messages", user(p)}, {"temperature", 0}, {"max_tokens", 32}});
            QCOMPARE(r.status, 200);
            solo.push_back(r.body["choices"][0]["message"]["content"]);
        }
        // Warm up the batch path once, then take the idle level.
        {
            std::vector<std::thread> ts;
            for (int i = 0; i < 8; ++i)
                ts.emplace_back([&, i] { stream(port, {{"messages", user(prompts[i])}, {"temperature", 0}, {"max_tokens", 32}, {"stream", true}}); });
            for (auto& t : ts) t.join();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        const long idle_kb = m_server.rss_kb();
        QVERIFY(idle_kb > 0);
        const json before = get_json(port, "/stats");

        std::vector<StreamResult> results(64);
        std::vector<std::thread> threads;
        for (int i = 0; i < 64; ++i)
            threads.emplace_back([&, i] {
                results[i] = stream(port, {{"messages", user(prompts[i % 8])},
                                           {"temperature", 0},
                                           {"max_tokens", 32},
                                           {"stream", true},
                                           {"stream_options", {{"include_usage", true}}}});
            });
        for (auto& t : threads) t.join();
        for (int i = 0; i < 64; ++i) {
            QCOMPARE(results[i].status, 200);
            QVERIFY2(results[i].done, qPrintable(QString("request %1 got no [DONE]").arg(i)));
            QCOMPARE(results[i].text, solo[i % 8]);
            QCOMPARE(results[i].finish, std::string("length"));
            QCOMPARE(results[i].completion_tokens, int64_t(32));
        }
        // The engine retires finished rows at its next step boundary: the counters settle shortly after the last
        // [DONE] (under load, a step can take a while).
        json after = get_json(port, "/stats");
        for (int tries = 0; tries < 100 && after["rows_running"].get<int64_t>() != 0; ++tries) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            after = get_json(port, "/stats");
        }
        QCOMPARE(after["jobs_completed"].get<int64_t>() - before["jobs_completed"].get<int64_t>(), int64_t(64));
        QCOMPARE(after["tokens_generated"].get<int64_t>() - before["tokens_generated"].get<int64_t>(), int64_t(64 * 32));
        QCOMPARE(after["rows_running"].get<int64_t>(), int64_t(0));
        QCOMPARE(after["max_rows_seen"].get<int64_t>(), int64_t(32));  // the batch filled up to --max-batch
        std::this_thread::sleep_for(std::chrono::milliseconds(1000));
        const long end_kb = m_server.rss_kb();
        qInfo("server RSS: idle %ld kB, after 64 streams %ld kB", idle_kb, end_kb);
        QVERIFY2(end_kb < idle_kb + 32 * 1024, qPrintable(QString("RSS %1 kB vs idle %2 kB").arg(end_kb).arg(idle_kb)));
    }

    // A client that goes away after 3 chunks of a 4000-token answer: its job is cancelled and decoding stops.
    void client_killed_mid_stream() {
        const int port = m_server.port;
        const json before = get_json(port, "/stats");
        StreamResult r = stream(port, {{"messages", user("Tell me a long story")}, {"temperature", 0},
                                       {"max_tokens", 4000}, {"stream", true}}, 3);
        QCOMPARE(r.chunks, 3);
        json s;
        for (int i = 0; i < 100; ++i) {
            s = get_json(port, "/stats");
            if (s["jobs_cancelled"].get<int64_t>() > before["jobs_cancelled"].get<int64_t>() && s["rows_running"] == 0) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        QCOMPARE(s["jobs_cancelled"].get<int64_t>() - before["jobs_cancelled"].get<int64_t>(), int64_t(1));
        QCOMPARE(s["rows_running"].get<int64_t>(), int64_t(0));
        const int64_t generated = s["tokens_generated"].get<int64_t>() - before["tokens_generated"].get<int64_t>();
        QVERIFY2(generated < 4000, qPrintable(QString("generated %1 tokens").arg(generated)));
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        QCOMPARE(get_json(port, "/stats")["tokens_generated"], s["tokens_generated"]);  // nothing decodes any more
    }

    // The same for a plain (not streamed) request: the client gives up waiting, the server notices on its next
    // keep-alive write and cancels the job (8 candidates x 4000 tokens would take far longer than that).
    void client_gone_plain_request() {
        const int port = m_server.port;
        const json before = get_json(port, "/stats");
        httplib::Client cli("127.0.0.1", port);
        cli.set_read_timeout(0, 500000);
        auto r = cli.Post("/v1/chat/completions",
                          json{{"messages", user("Tell me a long story")}, {"temperature", 0}, {"max_tokens", 4000}, {"n", 8}}.dump(),
                          "application/json");
        QVERIFY(!r);  // timed out: the client closed the connection
        cli.stop();
        json s;
        for (int i = 0; i < 200; ++i) {
            s = get_json(port, "/stats");
            if (s["jobs_cancelled"].get<int64_t>() > before["jobs_cancelled"].get<int64_t>() && s["rows_running"] == 0) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        QCOMPARE(s["jobs_cancelled"].get<int64_t>() - before["jobs_cancelled"].get<int64_t>(), int64_t(1));
        QCOMPARE(s["rows_running"].get<int64_t>(), int64_t(0));
        const int64_t generated = s["tokens_generated"].get<int64_t>() - before["tokens_generated"].get<int64_t>();
        qInfo("plain request: %lld of 32000 tokens generated before the cancel", static_cast<long long>(generated));
        QVERIFY(generated < 32000);
    }

    void bad_requests_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("code");
        const std::string img_a = data_url(k_fixture + "/img_a.png");
        auto image_body = [](const std::string& url) {
            return QString::fromStdString(
                json{{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}, {"image_url", {{"url", url}}}}}}}}},
                     {"max_tokens", 2}}
                    .dump());
        };
        QTest::newRow("bad json") << "/v1/chat/completions" << "{\"messages\": [" << 400 << "";
        QTest::newRow("not an object") << "/v1/chat/completions" << "[1, 2]" << 400 << "";
        QTest::newRow("no messages") << "/v1/chat/completions" << "{\"model\": \"tiny-qwen2vl\"}" << 400 << "";
        QTest::newRow("bad temperature")
            << "/v1/chat/completions" << R"({"messages": [{"role": "user", "content": "x"}], "temperature": 5})" << 400 << "";
        QTest::newRow("bad n") << "/v1/chat/completions" << R"({"messages": [{"role": "user", "content": "x"}], "n": 0})"
                               << 400 << "";
        QTest::newRow("unknown model")
            << "/v1/chat/completions" << R"({"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]})" << 404
            << "model_not_found";
        QTest::newRow("prompt too long")
            << "/v1/chat/completions"
            << QString::fromStdString(json{{"messages", user([] { std::string t; for (int i = 0; i < 6000; ++i) t += "a "; return t; }())}, {"max_tokens", 4}}.dump()) << 400
            << "context_length_exceeded";
        QTest::newRow("completion too long")
            << "/v1/chat/completions" << R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 5000})" << 400
            << "context_length_exceeded";
        QTest::newRow("image not an image") << "/v1/chat/completions" << image_body("data:image/png;base64,aGVsbG8gd29ybGQ=")
                                            << 400 << "invalid_image";
        QTest::newRow("image bad base64") << "/v1/chat/completions" << image_body("data:image/png;base64,@@@@") << 400
                                          << "invalid_image";
        QTest::newRow("image file outside roots")
            << "/v1/chat/completions" << image_body("file://" + (k_fixture + "/img_a.png").toStdString()) << 400
            << "invalid_image";
        QTest::newRow("image http url") << "/v1/chat/completions" << image_body("https://example.com/a.png") << 400
                                        << "invalid_image";
        QTest::newRow("unknown route") << "/v1/completions_nope" << "{}" << 404 << "unknown_url";
        Q_UNUSED(img_a);
    }
    void bad_requests() {
        QFETCH(QString, path);
        QFETCH(QString, body);
        QFETCH(int, status);
        QFETCH(QString, code);
        Reply r = post_raw(m_server.port, path.toStdString(), body.toStdString());
        QCOMPARE(r.status, status);
        QVERIFY(r.body.contains("error"));
        QVERIFY(r.body["error"]["message"].is_string());
        QVERIFY(r.body["error"]["type"].is_string());
        if (code.isEmpty()) QVERIFY(r.body["error"]["code"].is_null());
        else QCOMPARE(QString::fromStdString(r.body["error"]["code"].get<std::string>()), code);
        // The server keeps serving.
        Reply ok = post(m_server.port, {{"messages", user("still there?")}, {"temperature", 0}, {"max_tokens", 3}});
        QCOMPARE(ok.status, 200);
        QCOMPARE(ok.body["usage"]["completion_tokens"].get<int64_t>(), int64_t(3));
    }

    void api_key() {
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert("MATRIX_TEST_SERVE_KEY", "sekrit-123");
        ServerProcess s;
        QVERIFY(s.start({"--api-key-env", "MATRIX_TEST_SERVE_KEY"}, env));
        const json body = {{"messages", user("hi")}, {"temperature", 0}, {"max_tokens", 2}};
        Reply none = post(s.port, body);
        QCOMPARE(none.status, 401);
        QCOMPARE(none.body["error"]["code"].get<std::string>(), std::string("invalid_api_key"));
        Reply wrong = post(s.port, body, {{"Authorization", "Bearer nope"}});
        QCOMPARE(wrong.status, 401);
        Reply right = post(s.port, body, {{"Authorization", "Bearer sekrit-123"}});
        QCOMPARE(right.status, 200);
        // A missing variable is refused at start.
        auto r = matrix::testing::run_matrix({"serve", "--model", QString::fromStdString(k_model), "--api-key-env",
                                              "MATRIX_TEST_SERVE_NO_SUCH_VAR"});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains("MATRIX_TEST_SERVE_NO_SUCH_VAR"));
    }
};

QTEST_GUILESS_MAIN(TestCmdServe)
#include "test_cmd_serve.moc"
