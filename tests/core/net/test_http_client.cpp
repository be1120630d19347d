// Tests for core/net/http_client against a real HTTP server started here on 127.0.0.1 (cpp-httplib): request
// headers and body as the server received them, statuses and headers of the reply, transport failures apart
// from HTTP statuses (refused after the server stopped, timeout, TLS to a plain-HTTP port, unsupported scheme),
// the streaming body callback, cancellation; Retry-After and URL-encoding helpers.
#include <QtTest>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/net/http_client.h"
#include "tests/support/local_http_server.h"

using namespace matrix::net;
using matrix::testing::LocalHttpServer;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Sleeps up to `ms` in slices, returning early once `release` is set (so stopping the server never waits long).
void sleep_unless(const std::atomic<bool>& release, int ms) {
    for (int i = 0; i < ms / 10 && !release.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace

class TestHttpClient : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() {
        // The tests talk to 127.0.0.1 only: no proxy from the environment may sit in between.
        for (const char* v : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"}) qunsetenv(v);
    }

    void post_json_headers_status_and_body() {
        LocalHttpServer server([](const httplib::Request&, httplib::Response& res) {
            res.status = 201;
            res.set_header("Retry-After", "7");
            res.set_header("X-Answer", "forty two");
            res.set_content(R"({"ok":true})", "application/json");
        });
        const HttpResult r = http_post_json(server.url("/v1/things?x=1"), R"({"a":1})", {{"X-Custom", "yes"}}, 2000, 5000);
        QVERIFY2(r.ok(), r.message.c_str());
        QCOMPARE(r.response.status, 201);
        QCOMPARE(r.response.body, std::string(R"({"ok":true})"));
        QCOMPARE(r.response.header("retry-after").value_or(""), std::string("7"));  // names case-insensitive
        QCOMPARE(r.response.header("X-ANSWER").value_or(""), std::string("forty two"));
        QCOMPARE(r.response.header("Content-Type").value_or(""), std::string("application/json"));
        QVERIFY(!r.response.header("X-Missing"));
        const auto seen = server.requests();
        QCOMPARE(int(seen.size()), 1);
        QCOMPARE(seen[0].method, std::string("POST"));
        QCOMPARE(seen[0].path, std::string("/v1/things"));
        QCOMPARE(seen[0].params.find("x")->second, std::string("1"));
        QCOMPARE(seen[0].body, std::string(R"({"a":1})"));
        QCOMPARE(seen[0].header("Content-Type"), std::string("application/json"));
        QCOMPARE(seen[0].header("X-Custom"), std::string("yes"));
        QCOMPARE(seen[0].header("Expect"), std::string());  // no 100-continue round trip
        // Port closed after stop: the next request is refused (a transport failure, not a status).
        server.stop();
        const HttpResult after = http_post_json(server.url("/"), "{}", {}, 2000, 5000);
        QCOMPARE(after.failure, TransportFailure::refused);
        QCOMPARE(after.response.status, 0);
        QVERIFY(!after.message.empty());
    }

    void large_body_arrives_whole() {
        LocalHttpServer server([](const httplib::Request& req, httplib::Response& res) {
            res.set_content(std::to_string(req.body.size()), "text/plain");
        });
        const std::string big(3 * 1024 * 1024 + 17, 'x');
        const HttpResult r = http_post_json(server.url("/"), big, {}, 2000, 20000);
        QVERIFY2(r.ok(), r.message.c_str());
        QCOMPARE(r.response.body, std::to_string(big.size()));
    }

    void error_statuses_are_responses() {
        LocalHttpServer server([](const httplib::Request& req, httplib::Response& res) {
            res.status = req.path == "/busy" ? 503 : 404;
            res.set_content("nope", "text/plain");
        });
        HttpRequest get;
        get.method = "GET";
        get.url = server.url("/missing");
        const HttpResult r = http_request(get);
        QVERIFY(r.ok());
        QCOMPARE(r.failure, TransportFailure::none);
        QCOMPARE(r.response.status, 404);
        QCOMPARE(r.response.body, std::string("nope"));
        QCOMPARE(server.requests()[0].method, std::string("GET"));
        const HttpResult busy = http_post_json(server.url("/busy"), "{}", {}, 2000, 5000);
        QVERIFY(busy.ok());
        QCOMPARE(busy.response.status, 503);
    }

    void timeout_is_a_transport_failure() {
        std::atomic<bool> release{false};
        LocalHttpServer server([&](const httplib::Request&, httplib::Response& res) {
            sleep_unless(release, 3000);
            res.set_content("late", "text/plain");
        });
        const auto t0 = std::chrono::steady_clock::now();
        const HttpResult r = http_post_json(server.url("/"), "{}", {}, 2000, 300);
        const double elapsed = seconds_since(t0);
        release = true;
        QCOMPARE(r.failure, TransportFailure::timeout);
        QCOMPARE(std::string(transport_failure_name(r.failure)), std::string("timeout"));
        QVERIFY2(elapsed >= 0.29 && elapsed < 2.0, qPrintable(QString::number(elapsed)));
    }

    void streaming_body_callback_gets_each_chunk() {
        LocalHttpServer server([](const httplib::Request&, httplib::Response& res) {
            res.set_chunked_content_provider("text/plain", [](size_t, httplib::DataSink& sink) {
                for (const char* piece : {"alpha ", "beta ", "gamma"}) {
                    sink.write(piece, std::strlen(piece));
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                }
                sink.done();
                return true;
            });
        });
        HttpRequest req;
        req.url = server.url("/stream");
        std::vector<std::string> chunks;
        std::vector<int> statuses;
        req.on_body = [&](int status, std::string_view chunk) {
            chunks.emplace_back(chunk);
            statuses.push_back(status);
            return true;
        };
        const HttpResult r = http_request(req);
        QVERIFY2(r.ok(), r.message.c_str());
        QCOMPARE(r.response.body, std::string("alpha beta gamma"));
        QCOMPARE(chunks, (std::vector<std::string>{"alpha ", "beta ", "gamma"}));
        QCOMPARE(statuses, (std::vector<int>{200, 200, 200}));

        // The callback stops the transfer: cancelled, not an HTTP error.
        HttpRequest stop_early = req;
        int calls = 0;
        stop_early.on_body = [&](int, std::string_view) { return ++calls < 1; };
        const HttpResult s = http_request(stop_early);
        QCOMPARE(s.failure, TransportFailure::cancelled);
        QCOMPARE(calls, 1);
    }

    void cancel_flag_stops_a_waiting_request() {
        std::atomic<bool> release{false};
        LocalHttpServer server([&](const httplib::Request&, httplib::Response& res) {
            sleep_unless(release, 5000);
            res.set_content("late", "text/plain");
        });
        std::atomic<bool> cancel{false};
        HttpRequest req;
        req.url = server.url("/");
        req.timeout_ms = 10000;
        req.cancel = &cancel;
        std::thread canceller([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            cancel = true;
        });
        const auto t0 = std::chrono::steady_clock::now();
        const HttpResult r = http_request(req);
        const double elapsed = seconds_since(t0);
        canceller.join();
        release = true;
        QCOMPARE(r.failure, TransportFailure::cancelled);
        QVERIFY2(elapsed < 2.5, qPrintable(QString::number(elapsed)));
    }

    void tls_and_scheme_failures() {
        LocalHttpServer server([](const httplib::Request&, httplib::Response& res) { res.set_content("plain", "text/plain"); });
        // https:// to a plain-HTTP port: the TLS handshake fails (proof that https goes through TLS).
        const HttpResult tls = http_post_json("https://127.0.0.1:" + std::to_string(server.port()) + "/", "{}", {}, 2000, 5000);
        QCOMPARE(tls.failure, TransportFailure::tls);
        const HttpResult ftp = http_post_json("ftp://127.0.0.1:" + std::to_string(server.port()) + "/", "{}", {}, 2000, 5000);
        QCOMPARE(ftp.failure, TransportFailure::invalid_url);
        QCOMPARE(ftp.message, std::string("only http:// and https:// URLs are supported"));
        QCOMPARE(server.count(), 0);
    }

    void retry_after_values_data() {
        QTest::addColumn<QString>("value");
        QTest::addColumn<double>("expected");  // -1: unparseable
        QTest::newRow("seconds") << "120" << 120.0;
        QTest::newRow("spaces") << "  3 " << 3.0;
        QTest::newRow("zero") << "0" << 0.0;
        QTest::newRow("http-date") << "Wed, 21 Oct 2015 07:28:30 GMT" << 30.0;
        QTest::newRow("date in the past") << "Wed, 21 Oct 2015 07:27:00 GMT" << 0.0;
        QTest::newRow("garbage") << "soon" << -1.0;
        QTest::newRow("negative") << "-5" << -1.0;
        QTest::newRow("empty") << "" << -1.0;
    }
    void retry_after_values() {
        QFETCH(QString, value);
        QFETCH(double, expected);
        const std::time_t now = 1445412480;  // Wed, 21 Oct 2015 07:28:00 GMT
        const auto got = parse_retry_after(value.toStdString(), now);
        if (expected < 0) {
            QVERIFY(!got);
        } else {
            QVERIFY(got);
            QCOMPARE(*got, expected);
        }
    }

    void url_encoding() {
        QCOMPARE(url_encode("2024-06-01"), std::string("2024-06-01"));
        QCOMPARE(url_encode("a b&c=d/é"), std::string("a%20b%26c%3Dd%2F%C3%A9"));
    }
};

QTEST_GUILESS_MAIN(TestHttpClient)
#include "test_http_client.moc"
