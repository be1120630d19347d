// The tool plugins that answer from data or services the user configures: ask_search_agent over a local SQLite
// FTS5 corpus, over a search endpoint (a local HTTP server speaking SearxNG's JSON) and in the invented-results
// mode that must say so; image_generator and image_edit over an OpenAI-compatible images endpoint (a local
// server); and each one's "unavailable" without configuration.
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <fstream>

#include <opencv2/imgcodecs.hpp>

#include "core/net/http_client.h"
#include "tests/support/local_http_server.h"
#include "tests/support/tool_plugins.h"

using namespace matrix;

namespace {

std::string base64(const std::string& in) {
    static const char* chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
        for (int k = 3; k >= 0; --k) out += chars[(v >> (6 * k)) & 63];
    }
    if (i + 1 == in.size()) {
        const uint32_t v = uint8_t(in[i]) << 16;
        out += std::string{chars[(v >> 18) & 63], chars[(v >> 12) & 63], '=', '='};
    } else if (i + 2 == in.size()) {
        const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
        out += std::string{chars[(v >> 18) & 63], chars[(v >> 12) & 63], chars[(v >> 6) & 63], '='};
    }
    return out;
}

agent::ToolHost host_with(const nlohmann::json& settings) {
    agent::ToolHost h;
    h.settings = settings;
    h.http = [](const net::HttpRequest& r) { return net::http_request(r); };
    return h;
}

}  // namespace

class TestNetworkTools : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::string m_corpus;

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_corpus = m_dir.filePath("corpus.sqlite").toStdString();
        sqlite3* db = nullptr;
        QCOMPARE(sqlite3_open(m_corpus.c_str(), &db), SQLITE_OK);
        const char* sql =
            "CREATE VIRTUAL TABLE corpus USING fts5(title, url, body);"
            "INSERT INTO corpus VALUES ('Paris', 'https://example.org/paris', 'Paris is the capital and largest city of France.');"
            "INSERT INTO corpus VALUES ('Lyon', 'https://example.org/lyon', 'Lyon is a city in France on the Rhone.');"
            "INSERT INTO corpus VALUES ('Berlin', 'https://example.org/berlin', 'Berlin is the capital of Germany.');";
        char* err = nullptr;
        QCOMPARE(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK);
        sqlite3_close(db);
    }

    void search_in_a_local_corpus() {
        agent::ToolRegistry tools = test::build_tool_plugins(host_with({{"ask_search_agent", {{"corpus", m_corpus}}}}));
        QCOMPARE(tools.find("ask_search_agent")->status().backend, "SQLite FTS5 corpus " + m_corpus + " (3 documents)");
        auto r = test::call_tool(tools, "ask_search_agent", {{"query", "What is the capital of France?"}}, "");
        QVERIFY2(r.ok(), test::error_of(r).c_str());
        // bm25: Paris has "capital" and "France"; Berlin and Lyon one each (shorter Berlin first).
        QCOMPARE(r->get<std::string>(),
                 std::string("Search Result:\n"
                             "1. Paris (https://example.org/paris)\n   Paris is the capital and largest city of France.\n"
                             "2. Berlin (https://example.org/berlin)\n   Berlin is the capital of Germany.\n"
                             "3. Lyon (https://example.org/lyon)\n   Lyon is a city in France on the Rhone."));
        // FTS syntax in the query is taken as words.
        auto odd = test::call_tool(tools, "ask_search_agent", {{"query", "Germany\" OR NEAR(( *"}}, "");
        QVERIFY2(odd.ok(), test::error_of(odd).c_str());
        QCOMPARE(odd->get<std::string>().substr(0, 26), std::string("Search Result:\n1. Berlin ("));
        QCOMPARE(test::call_tool(tools, "ask_search_agent", {{"query", "zebra"}}, "")->get<std::string>(),
                 std::string("Search Result:\nNo results."));
        QCOMPARE(test::error_of(test::call_tool(tools, "ask_search_agent", {{"query", "?!"}}, "")),
                 std::string("ask_search_agent: the query has no words to search for"));
        QCOMPARE(test::error_of(test::call_tool(tools, "ask_search_agent", {{"query", 1}}, "")),
                 std::string("ask_search_agent: query must be a string, got a number"));
    }

    void search_unavailable() {
        agent::ToolRegistry none = test::build_tool_plugins(host_with(nlohmann::json::object()));
        const std::string why = "no search backend configured: set \"corpus\" (an SQLite FTS5 file) or \"endpoint\" (a "
                                "SearxNG search URL) under ask_search_agent in the tool settings";
        QCOMPARE(none.find("ask_search_agent")->status().reason, why);
        QCOMPARE(test::error_of(test::call_tool(none, "ask_search_agent", {{"query", "x"}}, "")), "ask_search_agent is unavailable: " + why);
        agent::ToolRegistry missing = test::build_tool_plugins(host_with({{"ask_search_agent", {{"corpus", "/no/such.sqlite"}}}}));
        QCOMPARE(missing.find("ask_search_agent")->status().reason, std::string("the search corpus /no/such.sqlite does not exist"));
        agent::ToolRegistry table = test::build_tool_plugins(host_with({{"ask_search_agent", {{"corpus", m_corpus}, {"table", "docs"}}}}));
        const std::string expected = "the search corpus " + m_corpus + " has no FTS5 table docs(title, url, body): ";
        QCOMPARE(table.find("ask_search_agent")->status().reason.substr(0, expected.size()), expected);
    }

    void search_endpoint_and_invented_results() {
        testing::LocalHttpServer server([](const httplib::Request& req, httplib::Response& res) {
            if (req.get_param_value("q") == "fail") {
                res.status = 500;
                return;
            }
            res.set_content(nlohmann::json{{"results", {{{"title", "Result for " + req.get_param_value("q")}, {"url", "http://r/1"}, {"content", "snippet"}}}}}.dump(),
                            "application/json");
        });
        const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/search";
        agent::ToolRegistry tools = test::build_tool_plugins(host_with({{"ask_search_agent", {{"endpoint", url}}}}));
        QCOMPARE(tools.find("ask_search_agent")->status().backend, "search endpoint " + url);
        auto r = test::call_tool(tools, "ask_search_agent", {{"query", "tea & cake?"}}, "");
        QVERIFY2(r.ok(), test::error_of(r).c_str());
        QCOMPARE(r->get<std::string>(), std::string("Search Result:\n1. Result for tea & cake? (http://r/1)\n   snippet"));
        QCOMPARE(server.requests().back().params.find("format")->second, std::string("json"));
        QCOMPARE(test::error_of(test::call_tool(tools, "ask_search_agent", {{"query", "fail"}}, "")),
                 std::string("ask_search_agent: the search endpoint answered HTTP 500"));

        agent::ToolHost inventing = host_with({{"ask_search_agent", {{"invented_results", true}}}});
        inventing.vlm.backend = "stand-in model";
        inventing.vlm.generate = [](const std::vector<tok::ChatMessage>&, int) -> Result<std::string> { return std::string("1. Something"); };
        agent::ToolRegistry invented = test::build_tool_plugins(inventing);
        QCOMPARE(invented.find("ask_search_agent")->status().backend, std::string("results invented by stand-in model (invented_results is on)"));
        QCOMPARE(test::call_tool(invented, "ask_search_agent", {{"query", "q"}}, "")->get<std::string>(),
                 std::string("Search Result:\n[These results were invented by a language model (stand-in model), not found by a "
                             "search; they may be wrong.]\n1. Something"));
    }

    void images_endpoint() {
        std::vector<uchar> png;
        cv::imencode(".png", cv::Mat(24, 32, CV_8UC3, cv::Scalar(0, 128, 255)), png);
        const std::string png_bytes(png.begin(), png.end());
        std::map<std::string, std::string> parts;  // multipart fields of the last edit request
        testing::LocalHttpServer server([&](const httplib::Request& req, httplib::Response& res) {
            if (req.is_multipart_form_data())
                for (const char* f : {"prompt", "n", "size", "model", "image"}) parts[f] = req.get_file_value(f).content;
            res.set_content(nlohmann::json{{"data", {{{"b64_json", base64(png_bytes)}}}}}.dump(), "application/json");
        });
        const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/v1";
        ::setenv("MATRIX_TEST_IMAGES_KEY", "sekret", 1);
        const nlohmann::json endpoint = {{"url", url}, {"model", "painter"}, {"api_key_env", "MATRIX_TEST_IMAGES_KEY"}, {"size", "256x256"}};
        agent::ToolRegistry tools =
            test::build_tool_plugins(host_with({{"image_generator", {{"endpoint", endpoint}}}, {"image_edit", {{"endpoint", endpoint}}}}));
        QCOMPARE(tools.find("image_generator")->status().backend, "images endpoint " + url + " (painter)");
        const std::string dir = m_dir.path().toStdString();
        auto made = test::call_tool(tools, "image_generator", {{"prompt", "an orange square"}}, dir, 2);
        QVERIFY2(made.ok(), test::error_of(made).c_str());
        QCOMPARE(made->get<std::string>(), dir + "/image_generator_step2_0.png");
        QCOMPARE(cv::imread(made->get<std::string>()).size(), cv::Size(32, 24));
        const auto seen = server.requests().back();
        QCOMPARE(seen.path, std::string("/v1/images/generations"));
        QCOMPARE(seen.header("Authorization"), std::string("Bearer sekret"));
        QCOMPARE(nlohmann::json::parse(seen.body),
                 (nlohmann::json{{"prompt", "an orange square"}, {"n", 1}, {"size", "256x256"}, {"response_format", "b64_json"}, {"model", "painter"}}));

        auto edited = test::call_tool(tools, "image_edit", {{"prompt", "make it blue"}, {"image_path", "image_generator_step2_0.png"}}, dir, 3);
        QVERIFY2(edited.ok(), test::error_of(edited).c_str());
        QCOMPARE(edited->get<std::string>(), dir + "/image_edit_step3_0.png");
        const auto edit = server.requests().back();
        QCOMPARE(edit.path, std::string("/v1/images/edits"));
        QVERIFY(edit.header("Content-Type").rfind("multipart/form-data; boundary=", 0) == 0);
        QCOMPARE(parts["prompt"], std::string("make it blue"));
        QCOMPARE(parts["model"], std::string("painter"));
        QCOMPARE(parts["size"], std::string("256x256"));
        QCOMPARE(parts["image"], png_bytes);  // the image went as a file part
        QCOMPARE(test::error_of(test::call_tool(tools, "image_edit", {{"prompt", "x"}, {"image_path", "none.png"}}, dir)),
                 std::string("image_edit: no such file: none.png"));
        ::unsetenv("MATRIX_TEST_IMAGES_KEY");

        agent::ToolRegistry none = test::build_tool_plugins(host_with(nlohmann::json::object()));
        QCOMPARE(test::error_of(test::call_tool(none, "image_generator", {{"prompt", "x"}}, dir)),
                 std::string("image_generator is unavailable: no images endpoint configured (set an OpenAI-compatible images "
                             "endpoint under image_generator in the tool settings)"));
        QCOMPARE(none.find("image_edit")->status().available, false);
    }
};

QTEST_MAIN(TestNetworkTools)
#include "test_network_tools.moc"
