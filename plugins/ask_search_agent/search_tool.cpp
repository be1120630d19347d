// The ask_search_agent tool: answers "Search Result:\n..." from, in this order of preference,
//   - a local full-text corpus: tools.json {"ask_search_agent": {"corpus": "/data/wiki.sqlite", "table": "corpus"}},
//     an SQLite file with an FTS5 table (columns title, url, body; see plugins/README.md), ranked by bm25;
//   - a search endpoint: {"endpoint": "http://127.0.0.1:8888/search"} answering SearxNG's JSON
//     (GET ?q=...&format=json -> {"results": [{"title", "url", "content"}]});
//   - results invented by the lent language model, only when the user turns that on by name
//     ({"invented_results": true}): the reference's "api" mode, and then every observation says so.
// Otherwise the tool is unavailable. Up to 5 results, each "k. title (url)\n   snippet".
#include <sqlite3.h>

#include <cctype>
#include <filesystem>
#include <mutex>

#include "core/agent/plugin.h"
#include "tool_support.h"

namespace {

using namespace matrix;
using namespace matrix::agent;

constexpr int k_results = 5;

std::string percent_encode(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += char(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// The query as an FTS5 expression: each word quoted (no FTS syntax from the agent's text), any of them.
std::string fts_query(const std::string& q) {
    std::string out, word;
    auto flush = [&] {
        if (word.empty()) return;
        out += (out.empty() ? "\"" : " OR \"") + word + "\"";
        word.clear();
    };
    for (unsigned char c : q) {
        if (std::isalnum(c) || c >= 0x80) word += char(c);
        else flush();
    }
    flush();
    return out;
}

struct Hit {
    std::string title, url, snippet;
};

std::string format_hits(const std::vector<Hit>& hits, const std::string& note) {
    std::string out = "Search Result:\n" + note;
    if (hits.empty()) return out + "No results.";
    for (size_t i = 0; i < hits.size(); ++i) {
        out += std::to_string(i + 1) + ". " + hits[i].title;
        if (!hits[i].url.empty()) out += " (" + hits[i].url + ")";
        out += "\n   " + hits[i].snippet + (i + 1 < hits.size() ? "\n" : "");
    }
    return out;
}

class SearchTool : public Tool {
public:
    explicit SearchTool(const ToolHost& host) : m_host(host), m_settings(host.tool_settings("ask_search_agent")) {
        if (m_settings.contains("corpus")) {
            open_corpus();
        } else if (m_settings.contains("endpoint")) {
            if (!m_settings["endpoint"].is_string()) m_error = "its \"endpoint\" setting must be a URL";
            else if (!m_host.http) m_error = "this host has no HTTP client for tools";
            else m_backend = "search endpoint " + m_settings["endpoint"].get<std::string>();
        } else if (m_settings.value("invented_results", false) == true) {
            if (!m_host.vlm.described()) m_error = "invented_results is on but no language model is lent to the tools";
            else m_backend = "results invented by " + m_host.vlm.backend + " (invented_results is on)";
        } else {
            m_error = "no search backend configured: set \"corpus\" (an SQLite FTS5 file) or \"endpoint\" (a SearxNG "
                      "search URL) under ask_search_agent in the tool settings";
        }
    }
    ~SearchTool() override {
        if (m_db) sqlite3_close(m_db);
    }

    ToolSpec spec() const override { return matrix_tool_spec("ask_search_agent"); }
    ToolStatus status() const override {
        if (!m_error.empty()) return {false, "none", m_error};
        return {true, m_backend, {}};
    }

    Result<nlohmann::json> call(const nlohmann::json& args, const ToolCallContext&) override {
        MATRIX_TRY(std::string query, plugins::string_arg("ask_search_agent", args, "query"));
        if (!m_error.empty()) return make_error("ask_search_agent is unavailable: " + m_error);
        if (query.find_first_not_of(" \t\n") == std::string::npos) return make_error("ask_search_agent: the query is empty");
        if (m_db) return search_corpus(query);
        if (m_settings.contains("endpoint")) return search_endpoint(query);
        return invent(query);
    }

private:
    void open_corpus() {
        if (!m_settings["corpus"].is_string()) {
            m_error = "its \"corpus\" setting must be a file path";
            return;
        }
        const std::string file = m_settings["corpus"].get<std::string>();
        m_table = m_settings.value("table", std::string("corpus"));
        for (char c : m_table)
            if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
                m_error = "its \"table\" setting must be a plain table name";
                return;
            }
        if (!std::filesystem::exists(file)) {
            m_error = "the search corpus " + file + " does not exist";
            return;
        }
        if (sqlite3_open_v2(file.c_str(), &m_db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
            m_error = "cannot open the search corpus " + file + ": " + sqlite3_errmsg(m_db);
            sqlite3_close(m_db);
            m_db = nullptr;
            return;
        }
        sqlite3_stmt* st = nullptr;
        const std::string probe = "SELECT title, url, body FROM " + m_table + " WHERE " + m_table + " MATCH 'x' LIMIT 0";
        if (sqlite3_prepare_v2(m_db, probe.c_str(), -1, &st, nullptr) != SQLITE_OK) {
            m_error = "the search corpus " + file + " has no FTS5 table " + m_table + "(title, url, body): " + sqlite3_errmsg(m_db);
            sqlite3_close(m_db);
            m_db = nullptr;
        }
        sqlite3_finalize(st);
        sqlite3_stmt* count = nullptr;
        int64_t n = 0;
        if (m_db && sqlite3_prepare_v2(m_db, ("SELECT count(*) FROM " + m_table).c_str(), -1, &count, nullptr) == SQLITE_OK &&
            sqlite3_step(count) == SQLITE_ROW)
            n = sqlite3_column_int64(count, 0);
        sqlite3_finalize(count);
        if (m_db) m_backend = "SQLite FTS5 corpus " + file + " (" + std::to_string(n) + " documents)";
    }

    Result<nlohmann::json> search_corpus(const std::string& query) {
        const std::string expr = fts_query(query);
        if (expr.empty()) return make_error("ask_search_agent: the query has no words to search for");
        const std::string sql = "SELECT title, url, snippet(" + m_table + ", 2, '', '', '...', 32) FROM " + m_table +
                                " WHERE " + m_table + " MATCH ?1 ORDER BY rank LIMIT " + std::to_string(k_results);
        std::lock_guard<std::mutex> lock(m_mutex);
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(m_db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
            return make_error(std::string("ask_search_agent: the corpus query failed: ") + sqlite3_errmsg(m_db));
        sqlite3_bind_text(st, 1, expr.c_str(), -1, SQLITE_TRANSIENT);
        std::vector<Hit> hits;
        auto text = [&](int col) {
            const unsigned char* t = sqlite3_column_text(st, col);
            return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
        };
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) hits.push_back({text(0), text(1), text(2)});
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) return make_error(std::string("ask_search_agent: the corpus query failed: ") + sqlite3_errmsg(m_db));
        return nlohmann::json(format_hits(hits, ""));
    }

    Result<nlohmann::json> search_endpoint(const std::string& query) {
        const std::string base = m_settings["endpoint"].get<std::string>();
        net::HttpRequest req;
        req.method = "GET";
        req.url = base + (base.find('?') == std::string::npos ? "?" : "&") + "q=" + percent_encode(query) + "&format=json";
        req.timeout_ms = m_settings.value("timeout_ms", 30000);
        const net::HttpResult r = m_host.http(req);
        if (!r.ok()) return make_error("ask_search_agent: the search endpoint did not answer: " + r.message);
        if (r.response.status != 200)
            return make_error("ask_search_agent: the search endpoint answered HTTP " + std::to_string(r.response.status));
        const nlohmann::json j = nlohmann::json::parse(r.response.body, nullptr, false);
        if (!j.is_object() || !j.contains("results") || !j["results"].is_array())
            return make_error("ask_search_agent: the search endpoint's answer is not SearxNG JSON ({\"results\": [...]})");
        std::vector<Hit> hits;
        for (const auto& h : j["results"]) {
            if (!h.is_object()) continue;
            hits.push_back({h.value("title", std::string()), h.value("url", std::string()), h.value("content", std::string())});
            if (int(hits.size()) == k_results) break;
        }
        return nlohmann::json(format_hits(hits, ""));
    }

    Result<nlohmann::json> invent(const std::string& query) {
        if (!m_host.vlm.generate) return make_error("ask_search_agent: the language model is not loaded yet");
        auto r = m_host.vlm.generate({tok::ChatMessage::make("user", "Write what a web search for the following query "
                                                                     "would most likely find, as short results:\n" + query)},
                                     512);
        if (!r.ok()) return make_error("ask_search_agent: the language model failed: " + r.error().to_string());
        return nlohmann::json("Search Result:\n[These results were invented by a language model (" + m_host.vlm.backend +
                              "), not found by a search; they may be wrong.]\n" + *r);
    }

    ToolHost m_host;
    nlohmann::json m_settings;
    std::string m_backend, m_error, m_table;
    sqlite3* m_db = nullptr;
    std::mutex m_mutex;
};

void make_tools(const ToolHost& host, PluginTools& out) {
    out.plugin = "ask_search_agent";
    out.version = "1";
    out.tools.push_back(std::make_shared<SearchTool>(host));
}

}  // namespace

MATRIX_TOOL_PLUGIN(make_tools)
