// Tests for core/serve's torch-free parts: parsing chat-completion bodies (fields, defaults, every validation error
// with its param), the answers' JSON shapes (completion, chunk, usage chunk, models, error), the stop-string filter
// over streamed pieces (a stop string split across pieces, held-back prefixes released, the earliest stop wins),
// base64 / data URLs, and file:// URLs confined to the image roots (".." and symlinks included).
#include <QtTest>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/serve/chat_protocol.h"
#include "core/serve/image_url.h"
#include "core/serve/stop_filter.h"

using namespace matrix::serve;
using nlohmann::json;

class TestChatProtocol : public QObject {
    Q_OBJECT
private slots:
    void parse_full_request() {
        const std::string body = R"({"model": "m", "messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": [{"type": "text", "text": "look"},
                                         {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}]},
            {"role": "assistant", "content": null}],
            "temperature": 0, "top_p": 0.5, "top_k": 7, "repetition_penalty": 1.1, "max_tokens": 9,
            "stop": "END", "n": 3, "seed": 42, "stream": true, "stream_options": {"include_usage": true},
            "return_token_ids": true, "unknown_field": {"ignored": 1}})";
        ParsedRequest p = parse_chat_completion(body);
        QVERIFY(p.request.has_value());
        const ChatCompletionRequest& r = *p.request;
        QCOMPARE(r.model, std::string("m"));
        QCOMPARE(r.messages.size(), size_t(3));
        QCOMPARE(r.messages[1].parts.size(), size_t(2));
        QVERIFY(!r.messages[1].parts[0].is_image);
        QCOMPARE(r.messages[1].parts[0].text, std::string("look"));
        QVERIFY(r.messages[1].parts[1].is_image);
        QCOMPARE(r.messages[1].parts[1].image_url, std::string("data:image/png;base64,AA=="));
        QCOMPARE(r.messages[2].parts.size(), size_t(0));
        QVERIFY(r.greedy());
        QCOMPARE(r.top_p, 0.5);
        QCOMPARE(r.top_k, int64_t(7));
        QCOMPARE(r.repetition_penalty, 1.1);
        QCOMPARE(*r.max_tokens, int64_t(9));
        QCOMPARE(r.stop, std::vector<std::string>({"END"}));
        QCOMPARE(r.n, int64_t(3));
        QCOMPARE(*r.seed, uint64_t(42));
        QVERIFY(r.stream && r.include_usage && r.return_token_ids);
    }

    void parse_defaults() {
        ParsedRequest p = parse_chat_completion(R"({"messages": [{"role": "user", "content": "hi"}],
                                                    "max_completion_tokens": 5, "top_k": -1, "stop": ["a", "b"]})");
        QVERIFY(p.request.has_value());
        QCOMPARE(p.request->model, std::string());
        QCOMPARE(p.request->temperature, 1.0);
        QVERIFY(!p.request->greedy());
        QCOMPARE(p.request->top_k, int64_t(0));
        QCOMPARE(*p.request->max_tokens, int64_t(5));
        QCOMPARE(p.request->n, int64_t(1));
        QVERIFY(!p.request->seed.has_value());
        QVERIFY(!p.request->stream);
        QCOMPARE(p.request->stop.size(), size_t(2));
    }

    void parse_errors_data() {
        QTest::addColumn<QString>("body");
        QTest::addColumn<QString>("param");
        QTest::newRow("not json") << "{\"messages\": " << "";
        QTest::newRow("array") << "[]" << "";
        QTest::newRow("no messages") << "{}" << "messages";
        QTest::newRow("empty messages") << R"({"messages": []})" << "messages";
        QTest::newRow("model not string") << R"({"model": 3, "messages": [{"role": "user", "content": "x"}]})" << "model";
        QTest::newRow("message not object") << R"({"messages": ["x"]})" << "messages[0]";
        QTest::newRow("no role") << R"({"messages": [{"content": "x"}]})" << "messages[0].role";
        QTest::newRow("content number") << R"({"messages": [{"role": "user", "content": 3}]})" << "messages[0].content";
        QTest::newRow("part type") << R"({"messages": [{"role": "user", "content": [{"type": "audio"}]}]})"
                                   << "messages[0].content[0].type";
        QTest::newRow("image no url") << R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]})"
                                      << "messages[0].content[0].image_url";
        QTest::newRow("temperature type") << R"({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"})"
                                          << "temperature";
        QTest::newRow("temperature range") << R"({"messages": [{"role": "user", "content": "x"}], "temperature": 2.5})"
                                           << "temperature";
        QTest::newRow("top_p zero") << R"({"messages": [{"role": "user", "content": "x"}], "top_p": 0})" << "top_p";
        QTest::newRow("top_k float") << R"({"messages": [{"role": "user", "content": "x"}], "top_k": 1.5})" << "top_k";
        QTest::newRow("max_tokens zero") << R"({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0})"
                                         << "max_tokens";
        QTest::newRow("n too big") << R"({"messages": [{"role": "user", "content": "x"}], "n": 129})" << "n";
        QTest::newRow("stream not bool") << R"({"messages": [{"role": "user", "content": "x"}], "stream": 1})" << "stream";
        QTest::newRow("stop number") << R"({"messages": [{"role": "user", "content": "x"}], "stop": 3})" << "stop";
        QTest::newRow("stop empty") << R"({"messages": [{"role": "user", "content": "x"}], "stop": [""]})" << "stop";
        QTest::newRow("penalty zero") << R"({"messages": [{"role": "user", "content": "x"}], "repetition_penalty": 0})"
                                      << "repetition_penalty";
    }
    void parse_errors() {
        QFETCH(QString, body);
        QFETCH(QString, param);
        ParsedRequest p = parse_chat_completion(body.toStdString());
        QVERIFY(!p.request.has_value());
        QCOMPARE(p.error.status, 400);
        QCOMPARE(p.error.type, std::string("invalid_request_error"));
        QCOMPARE(QString::fromStdString(p.error.param), param);
        QVERIFY(!p.error.message.empty());
        json e = json::parse(error_body(p.error));
        QCOMPARE(e["error"]["message"].get<std::string>(), p.error.message);
        QVERIFY(e["error"]["code"].is_null());
        if (param.isEmpty()) QVERIFY(e["error"]["param"].is_null());
        else QCOMPARE(QString::fromStdString(e["error"]["param"].get<std::string>()), param);
    }

    void answers() {
        ResponseMeta meta{"chatcmpl-1", 1700000000, "m"};
        std::vector<ChoiceOut> choices{{"hello", "stop", {5, 6}}, {"bye \xff", "length", {7}}};
        std::vector<int64_t> prompt{1, 2, 3};
        json c = json::parse(completion_body(meta, choices, {3, 3}, &prompt));
        QCOMPARE(c["object"].get<std::string>(), std::string("chat.completion"));
        QCOMPARE(c["choices"][1]["index"].get<int>(), 1);
        QCOMPARE(c["choices"][0]["message"]["role"].get<std::string>(), std::string("assistant"));
        QCOMPARE(c["choices"][0]["finish_reason"].get<std::string>(), std::string("stop"));
        QCOMPARE(c["choices"][1]["message"]["content"].get<std::string>(), std::string("bye \xEF\xBF\xBD"));  // U+FFFD
        QCOMPARE(c["choices"][0]["token_ids"].get<std::vector<int64_t>>(), std::vector<int64_t>({5, 6}));
        QCOMPARE(c["prompt_token_ids"].get<std::vector<int64_t>>(), prompt);
        QCOMPARE(c["usage"]["total_tokens"].get<int>(), 6);
        QVERIFY(!json::parse(completion_body(meta, choices, {3, 3})).contains("prompt_token_ids"));

        ChunkDelta d;
        d.index = 2;
        d.content = "x";
        json k = json::parse(chunk_body(meta, d));
        QCOMPARE(k["object"].get<std::string>(), std::string("chat.completion.chunk"));
        QCOMPARE(k["choices"][0]["index"].get<int>(), 2);
        QCOMPARE(k["choices"][0]["delta"], json({{"content", "x"}}));
        QVERIFY(k["choices"][0]["finish_reason"].is_null());
        ChunkDelta f;
        f.finish_reason = "length";
        QCOMPARE(json::parse(chunk_body(meta, f))["choices"][0]["delta"], json::object());
        json u = json::parse(usage_chunk_body(meta, {4, 2}));
        QCOMPARE(u["choices"], json::array());
        QCOMPARE(u["usage"]["total_tokens"].get<int>(), 6);
        json m = json::parse(models_body({"a", "b"}, 5));
        QCOMPARE(m["data"][1]["id"].get<std::string>(), std::string("b"));
        QCOMPARE(m["data"][0]["object"].get<std::string>(), std::string("model"));
        QCOMPARE(sse_event("[DONE]"), std::string("data: [DONE]\n\n"));
    }

    void stop_filter_data() {
        QTest::addColumn<QStringList>("stops");
        QTest::addColumn<QStringList>("pieces");
        QTest::addColumn<QStringList>("sent");  // what each push returns, then finish()
        QTest::addColumn<bool>("stopped");
        QTest::newRow("no stops") << QStringList{} << QStringList{"ab", "c"} << QStringList{"ab", "c", ""} << false;
        QTest::newRow("whole") << QStringList{"END"} << QStringList{"xyEND", "more"} << QStringList{"xy", "", ""} << true;
        QTest::newRow("split") << QStringList{"END"} << QStringList{"abE", "N", "Dzz"} << QStringList{"ab", "", "", ""} << true;
        QTest::newRow("false alarm") << QStringList{"END"} << QStringList{"abE", "Nx", "y"} << QStringList{"ab", "ENx", "y", ""} << false;
        QTest::newRow("held at end") << QStringList{"END"} << QStringList{"abEN"} << QStringList{"ab", "EN"} << false;
        QTest::newRow("earliest wins") << QStringList{"cd", "b"} << QStringList{"abcd"} << QStringList{"a", ""} << true;
        QTest::newRow("overlapping prefixes") << QStringList{"aab"} << QStringList{"xaa", "aab"} << QStringList{"x", "aa", ""} << true;
    }
    void stop_filter() {
        QFETCH(QStringList, stops);
        QFETCH(QStringList, pieces);
        QFETCH(QStringList, sent);
        QFETCH(bool, stopped);
        std::vector<std::string> s;
        for (auto& x : stops) s.push_back(x.toStdString());
        StopFilter f(s);
        QStringList got;
        for (auto& p : pieces) got << QString::fromStdString(f.push(p.toStdString()));
        got << QString::fromStdString(f.finish());
        QCOMPARE(got, sent);
        QCOMPARE(f.stopped(), stopped);
        QCOMPARE(QString::fromStdString(f.text()), sent.join(""));
    }

    void base64_and_data_urls() {
        QCOMPARE(*base64_decode("aGVsbG8gd29ybGQ="), std::string("hello world"));
        QCOMPARE(*base64_decode("aGVsbG8gd29ybGQ"), std::string("hello world"));  // padding optional
        QCOMPARE(*base64_decode("aGVs\nbG8="), std::string("hello"));
        QCOMPARE(*base64_decode("-_8="), std::string("\xfb\xff"));  // URL-safe alphabet
        QVERIFY(!base64_decode("ab$c").ok());
        QVERIFY(!base64_decode("a").ok());
        auto d = parse_data_url("data:image/png;base64,aGk=");
        QVERIFY(d.ok());
        QCOMPARE(d->mime, std::string("image/png"));
        QCOMPARE(d->bytes, std::string("hi"));
        QVERIFY(!parse_data_url("data:image/png,hi").ok());  // not base64
        QVERIFY(!parse_data_url("data:image/png;base64").ok());
        QVERIFY(!parse_data_url("http://x/a.png").ok());
    }

    void file_urls() {
        namespace fs = std::filesystem;
        QTemporaryDir tmp;
        const fs::path root = fs::path(tmp.path().toStdString()) / "root";
        const fs::path outside = fs::path(tmp.path().toStdString()) / "outside";
        fs::create_directories(root / "sub");
        fs::create_directories(outside);
        std::ofstream(root / "sub" / "a b.png") << "x";
        std::ofstream(outside / "secret.png") << "x";
        fs::create_symlink(outside / "secret.png", root / "link.png");
        const std::vector<std::string> roots{root.string()};
        auto ok = resolve_file_url("file://" + (root / "sub").string() + "/a%20b.png", roots);
        QVERIFY2(ok.ok(), ok.ok() ? "" : ok.error().to_string().c_str());
        QCOMPARE(*ok, (root / "sub" / "a b.png").string());
        QVERIFY(resolve_file_url("file://localhost" + (root / "sub" / "a%20b.png").string(), roots).ok());
        QVERIFY(!resolve_file_url("file://" + (root / "sub" / ".." / ".." / "outside" / "secret.png").string(), roots).ok());
        QVERIFY(!resolve_file_url("file://" + (root / "link.png").string(), roots).ok());  // symlink out of the root
        QVERIFY(!resolve_file_url("file://" + (outside / "secret.png").string(), roots).ok());
        QVERIFY(!resolve_file_url("file://" + (root / "missing.png").string(), roots).ok());
        QVERIFY(!resolve_file_url("file://" + (root / "sub" / "a%20b.png").string(), {}).ok());  // no roots: none
        QVERIFY(!resolve_file_url("file://relative/a.png", roots).ok());
        // A root that is a prefix of another folder's name does not admit that folder.
        fs::create_directories(fs::path(root.string() + "2"));
        std::ofstream(fs::path(root.string() + "2") / "b.png") << "x";
        QVERIFY(!resolve_file_url("file://" + root.string() + "2/b.png", roots).ok());
    }
};

QTEST_GUILESS_MAIN(TestChatProtocol)
#include "test_chat_protocol.moc"
