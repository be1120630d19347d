// `matrix synth` end to end with the built binary against a scripted, deterministic OpenAI-compatible teacher on
// 127.0.0.1 (chat completions and /v1/embeddings): the six stages over a project whose seed examples are real
// M-TRACE tasks, with exact counts and contents at every stage (tasks with their needs, the CSV files the
// teacher's programs wrote in the sandbox, the image chosen by embedding similarity, the query rewritten by the
// second verifier round, trajectories whose observations come from the real file-reading tool, verdicts), the
// accounting against what the server served, export -> import -> export identical; `kill -9` in the middle of the
// trajectories stage and resume (no unit twice, none lost, no request paid twice); a malformed teacher answer at
// each stage (no JSON, wrong fields, empty, huge) rejected with its reason while the job goes on; the token budget
// pausing a job; the lexical fallback without an embeddings endpoint.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <condition_variable>
#include <csignal>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/store/project.h"
#include "core/store/trajectory_repo.h"
#include "core/synth/synth_job.h"
#include "tests/support/cli_run.h"
#include "tests/support/local_http_server.h"
#include "tests/support/scripted_teacher.h"

using namespace matrix;
using matrix::testing::run_matrix;
using json = nlohmann::json;

namespace {

const QString k_mtrace = QStringLiteral(MATRIX_SHARED_DIR "/data/mtrace/mtrace-subset-60.json");
const QString k_images = QStringLiteral(MATRIX_SHARED_DIR "/data/images");
// The first task of the subset, written differently: the same after normalisation (a duplicate).
const char* k_duplicate = "calculate the monthly cost of my utility bills based on the following  $50 for electricity, "
                          "$30 for water and $40 for internet";

std::string all_text(const json& message) { return matrix::testing::ScriptedTeacher::all_text(message); }

std::string first_match(const std::string& text, const std::string& pattern) {
    std::smatch m;
    const std::regex re(pattern);
    return std::regex_search(text, m, re) ? m[1].str() : std::string();
}

// Bag of words hashed into 32 dimensions: captions that share words with a query are close to it.
std::vector<double> embed_text(const std::string& text) {
    std::vector<double> v(32, 0.0);
    std::string w;
    auto flush = [&] {
        if (w.size() > 2) {
            uint64_t h = 1469598103934665603ull;
            for (unsigned char c : w) h = (h ^ c) * 1099511628211ull;
            v[h % 32] += 1;
        }
        w.clear();
    };
    for (unsigned char c : text + " ") {
        if (std::isalnum(c)) w += static_cast<char>(std::tolower(c));
        else flush();
    }
    return v;
}

struct Tally {
    int64_t requests = 0, prompt_tokens = 0, completion_tokens = 0;
};

}  // namespace

class TestCmdSynth : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<testing::LocalHttpServer> m_server;
    std::mutex m_mutex;
    std::map<std::string, Tally> m_tally;     // by what the request was (queries, file_content, ..., agent, embeddings)
    std::map<std::string, int> m_bodies;      // request body -> times answered
    std::set<std::string> m_malformed;        // kinds answered with a malformed reply
    std::map<std::string, int> m_calls;       // requests seen by kind
    std::string m_block_kind;                 // the m_block_at-th request of this kind waits until released
    int m_block_at = -1;
    bool m_blocked = false, m_release = false;
    std::condition_variable m_cv;
    int m_delay_ms = 0;

    std::string kind_of(const json& req) { return matrix::testing::ScriptedTeacher::kind_of(req); }

    std::string malformed(const std::string& kind) {
        if (kind == "queries") return "I would rather not write any tasks today.";  // no JSON
        if (kind == "file_content") return "```json\n{\"information\": \"x\", \"file\": {\"file_numbers\": 1}}\n```";
        if (kind == "file_code") return "";                                          // empty
        if (kind == "verify_files") return "{\"correct\": \"yes\", \"thought\": \"" + std::string(6000, 'a') + "\"}";  // huge
        return "```json\n{\"thought\": \"unsure\", \"correct\": \"maybe\"}\n```";     // wrong fields
    }

    std::string answer(const std::string& kind, const json& req) {
        const std::string user = all_text(req["messages"].back());
        if (kind == "queries") {
            const std::string b = std::to_string(req.value("seed", int64_t(0)));
            json list = json::array({
                {{"query", "Sum the Amount column of the attached sales table for batch " + b + "."},
                 {"tools", {"inspect_file_as_text"}}, {"needs", "file"}},
                {{"query", "What is the total on the receipt in the photo for batch " + b + "?"},
                 {"tools", {"visualizer", "ocr"}}, {"needs", "image"}},
                {{"query", "What is 17 times 23 for batch " + b + "?"}, {"tools", json::array()}, {"needs", "none"}},
                {{"query", k_duplicate}, {"tools", json::array()}, {"needs", "none"}},
                {{"query", "A task without its needs for batch " + b}, {"tools", json::array()}},
            });
            return "Here they are:\n```json\n" + list.dump(2) + "\n```";
        }
        if (kind == "file_content")
            return "### json start\n" + json{{"information", "the amounts"}, {"information from Internet", ""},
                                              {"information from files", "the Amount column"},
                                              {"file", {{"file_numbers", 1}, {"file_information", {{"file_1", {{"file_type", ".csv"},
                                              {"file_content", "items a, b, c with amounts 10, 20 and 12"}}}}}}}}.dump() + "\n### json end";
        if (kind == "file_code") {
            const std::string name = first_match(user, "file named (\\S+) in the current");
            return "Extended content: three items with amounts.\n```python\nwith open('" + name +
                   "', 'w') as f:\n    f.write('item,Amount\\na,10\\nb,20\\nc,12\\n')\n```";
        }
        if (kind == "verify_files") {
            const bool table = user.find("sales table") != std::string::npos;
            const bool updated = user.find("Give the answer in dollars.") != std::string::npos;
            if (table && !updated) {
                const std::string q = first_match(user, "Task: ([^\\n]+)");
                return "```json\n" + json{{"thought", "the unit is missing"}, {"correct", "no"},
                                          {"updated_query", q + " Give the answer in dollars."}}.dump() + "\n```";
            }
            return "```json\n" + json{{"thought", "the files fit"}, {"correct", "yes"}, {"updated_query", ""}}.dump() + "\n```";
        }
        if (kind == "verify_trajectory") {
            if (user.find("receipt") != std::string::npos)
                return "```json\n{\"thought\": \"the agent never looked at the photo\", \"correct\": \"no\"}\n```";
            return "```json\n{\"thought\": \"the tools fit and the answer follows\", \"correct\": \"yes\"}\n```";
        }
        // The agent: step 1 works, step 2 answers.
        int assistant_turns = 0;
        for (const auto& m : req["messages"]) assistant_turns += m.value("role", "") == "assistant";
        const std::string task = all_text(req["messages"][1]);
        if (assistant_turns == 0) {
            const std::string path = first_match(task, "Attachment: ([^;]+);");
            if (task.find("sales table") != std::string::npos)
                return "Thought: I read the table.\nCode:\n```py\nprint(inspect_file_as_text(file_path=\"" + path + "\"))\n```";
            if (task.find("receipt") != std::string::npos)
                return "Thought: I guess.\nCode:\n```py\nprint(1 + 2)\n```";
            return "Thought: I multiply.\nCode:\n```py\nprint(17 * 23)\n```";
        }
        if (task.find("sales table") != std::string::npos) return "Thought: 10 + 20 + 12.\nCode:\n```py\nfinal_answer(\"42\")\n```";
        if (task.find("receipt") != std::string::npos) return "Thought: done.\nCode:\n```py\nfinal_answer(\"3\")\n```";
        return "Thought: done.\nCode:\n```py\nfinal_answer(\"391\")\n```";
    }

    void handle(const httplib::Request& http, httplib::Response& res) {
        const json req = json::parse(http.body, nullptr, false);
        if (http.path == "/v1/embeddings") {
            json data = json::array();
            int64_t words = 0;
            for (size_t i = 0; i < req["input"].size(); ++i) {
                const std::string t = req["input"][i].get<std::string>();
                data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", embed_text(t)}});
                words += static_cast<int64_t>(std::count(t.begin(), t.end(), ' ') + 1);
            }
            {
                std::lock_guard<std::mutex> lock(m_mutex);
                Tally& t = m_tally["embeddings"];
                ++t.requests;
                t.prompt_tokens += words;
                ++m_bodies[http.body];
            }
            res.set_content(json{{"object", "list"}, {"data", data}, {"model", req.value("model", "")},
                                 {"usage", {{"prompt_tokens", words}, {"total_tokens", words}}}}.dump(),
                            "application/json");
            return;
        }
        const std::string kind = kind_of(req);
        bool drop = false;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            if (++m_calls[kind] == m_block_at && kind == m_block_kind) {
                m_blocked = true;
                m_cv.notify_all();
                m_cv.wait(lock, [&] { return m_release; });
                drop = true;  // its client was killed: never delivered, never paid
            }
        }
        if (m_delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(m_delay_ms));
        std::string content;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            content = m_malformed.count(kind) ? malformed(kind) : answer(kind, req);
        }
        const int64_t prompt_tokens = static_cast<int64_t>(http.body.size() / 4);
        const int64_t completion_tokens = static_cast<int64_t>(content.size() / 4 + 1);
        if (!drop) {
            std::lock_guard<std::mutex> lock(m_mutex);
            Tally& t = m_tally[kind];
            ++t.requests;
            t.prompt_tokens += prompt_tokens;
            t.completion_tokens += completion_tokens;
            ++m_bodies[http.body];
        }
        json choice = {{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", "stop"}};
        res.set_content(json{{"id", "c"}, {"object", "chat.completion"}, {"model", req.value("model", "")},
                             {"choices", {choice}},
                             {"usage", {{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens},
                                        {"total_tokens", prompt_tokens + completion_tokens}}}}.dump(),
                        "application/json");
    }

    void reset_server_state() {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_tally.clear();
        m_bodies.clear();
        m_malformed.clear();
        m_calls.clear();
        m_block_kind.clear();
        m_block_at = -1;
        m_blocked = m_release = false;
        m_delay_ms = 0;
    }

    QString fresh_project(const QString& name) {
        const QString db = m_dir.path() + "/" + name + "/p.matrix";
        QDir().mkpath(m_dir.path() + "/" + name);
        auto r = run_matrix({"import", "--db", db, "--format", "mtrace", "--dataset", "seeds", k_mtrace});
        if (r.code != 0) qFatal("import: %s", r.err.constData());
        return db;
    }

    QString pool() const { return m_dir.path() + "/pool"; }

    testing::CliRun stage(const QString& db, const QString& name, QStringList extra = {}) {
        QStringList args = {"synth", "run", "--db", db, "--stage", name, "--endpoint",
                            QString::fromStdString(m_server->url("/v1")), "--endpoint-model", "teacher", "--seed", "7",
                            "--set", "retry_base_delay_ms=10"};
        if (name == "queries") args << "--seed-dataset" << "seeds";
        if (name == "images") args << "--image-pool" << pool();
        return run_matrix(args + extra, QProcessEnvironment::systemEnvironment(), 600000);
    }

    testing::CliRun stage_run(const QString& db, const QString& name, QStringList extra = {}) {
        return stage(db, name, std::move(extra));
    }

    static int64_t count(store::Project& p, const std::string& sql) {
        auto n = p.db().query_int64(sql);
        if (!n.ok()) qFatal("%s: %s", sql.c_str(), n.error().to_string().c_str());
        return *n;
    }

    static std::vector<std::string> column(store::Project& p, const std::string& sql) {
        std::vector<std::string> out;
        auto st = p.db().prepare(sql);
        if (!st.ok()) qFatal("%s", st.error().to_string().c_str());
        while (*st->step()) out.push_back(st->column_text(0));
        return out;
    }

    // Paid tokens and requests per synth stage as the project recorded them must equal what the server served.
    void check_accounting(store::Project& p) {
        Tally served;
        std::lock_guard<std::mutex> lock(m_mutex);
        for (const auto& [kind, t] : m_tally) {
            served.requests += t.requests;
            served.prompt_tokens += t.prompt_tokens;
            served.completion_tokens += t.completion_tokens;
        }
        QCOMPARE(count(p, "SELECT count(*) FROM synth_usage WHERE cached=0"), served.requests);
        QCOMPARE(count(p, "SELECT COALESCE(SUM(prompt_tokens),0) FROM synth_usage WHERE cached=0"), served.prompt_tokens);
        QCOMPARE(count(p, "SELECT COALESCE(SUM(completion_tokens),0) FROM synth_usage WHERE cached=0"), served.completion_tokens);
        for (const auto& [body, n] : m_bodies) QCOMPARE(n, 1);  // no request paid twice
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_server = std::make_unique<testing::LocalHttpServer>(
            [this](const httplib::Request& q, httplib::Response& r) { handle(q, r); });
        QDir().mkpath(pool());
        QVERIFY(QFile::copy(k_images + "/receipt.jpg", pool() + "/receipt.jpg"));
        QVERIFY(QFile::copy(k_images + "/menu.jpeg", pool() + "/menu.jpeg"));
        QVERIFY(QFile::copy(k_images + "/statue.jpg", pool() + "/statue.jpg"));
        std::ofstream(pool().toStdString() + "/captions.json")
            << json{{"receipt.jpg", "a shop receipt with prices and the total at the bottom"},
                    {"menu.jpeg", "a restaurant menu with dishes and prices"}}.dump();
        std::ofstream(pool().toStdString() + "/statue.txt") << "a bronze statue in a city square\n";
    }

    void cleanup() {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_release = true;
        m_cv.notify_all();
    }

    void whole_pipeline() {
        reset_server_state();
        const QString db = fresh_project("pipeline");
        // queries: 2 rounds of 5 answers: 3 kept each, the duplicate of a seed task and the one without "needs" rejected.
        auto q = stage(db, "queries", {"--limit", "2"});
        QVERIFY2(q.code == 0, q.err.constData());
        QVERIFY2(q.out.contains("stage queries: finished, 2 units, 2 done, 0 rejected, 0 failed"), q.out.constData());
        auto p = store::Project::open(db.toStdString());
        QVERIFY(p.ok());
        QCOMPARE(count(*p, "SELECT count(*) FROM tasks t JOIN datasets d ON d.id=t.dataset_id WHERE d.name='synth'"), int64_t(6));
        for (const char* needs : {"file", "image", "none"})
            QCOMPARE(count(*p, std::string("SELECT count(*) FROM tasks WHERE json_extract(extra,'$.synth.needs')='") + needs + "'"),
                     int64_t(2));
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_rejects WHERE stage='queries' AND reason='duplicate'"), int64_t(2));
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_rejects WHERE stage='queries' AND reason='wrong fields' AND "
                           "detail='''needs'' is missing'"), int64_t(2));
        // Each row records model, prompt (name + hash) and seed; each task too.
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_items WHERE stage='queries' AND model='teacher' AND "
                           "prompt_name='queries' AND length(prompt_sha256)=64 AND seed>0"), int64_t(2));
        QCOMPARE(count(*p, "SELECT count(*) FROM tasks WHERE json_extract(extra,'$.synth.model')='teacher' AND "
                           "json_extract(extra,'$.synth.prompt')='queries'"), int64_t(6));
        const auto none_prompts = column(*p, "SELECT prompt_text FROM tasks WHERE json_extract(extra,'$.synth.needs')='none' ORDER BY id");
        QCOMPARE(int(none_prompts.size()), 2);
        QVERIFY(std::regex_match(none_prompts[0], std::regex("Task: What is 17 times 23 for batch [0-9]+\\?\n")));

        // files: one CSV each, written by the teacher's program in the sandbox, attached to the task.
        auto f = stage(db, "files");
        QVERIFY2(f.code == 0, f.err.constData());
        QVERIFY2(f.out.contains("stage files: finished, 2 units, 2 done, 0 rejected, 0 failed"), f.out.constData());
        const auto file_paths = column(*p, "SELECT m.resolved_path FROM task_media tm JOIN media m ON m.id=tm.media_id "
                                           "JOIN tasks t ON t.id=tm.task_id WHERE t.source='synth' AND tm.role='attachment' "
                                           "ORDER BY tm.task_id");
        QCOMPARE(int(file_paths.size()), 2);
        for (const auto& path : file_paths) {
            std::ifstream in(path);
            std::stringstream ss;
            ss << in.rdbuf();
            QCOMPARE(ss.str(), std::string("item,Amount\na,10\nb,20\nc,12\n"));
            QVERIFY(QString::fromStdString(path).startsWith(m_dir.path() + "/pipeline/p.media/synth/task-"));
        }
        const auto file_prompts = column(*p, "SELECT prompt_text FROM tasks WHERE json_extract(extra,'$.synth.needs')='file' ORDER BY id");
        QVERIFY(std::regex_match(file_prompts[0], std::regex("Task: Sum the Amount column of the attached sales table for "
                                                             "batch [0-9]+\\.\nAttachment: synth/task-[0-9]+/file1\\.csv; ")));

        // images: the receipt, by cosine similarity of the scripted embeddings (one request for the pool's captions,
        // one per task).
        auto i = stage(db, "images", {"--embeddings-endpoint", QString::fromStdString(m_server->url("/v1")),
                                      "--embeddings-model", "embedder"});
        QVERIFY2(i.code == 0, i.err.constData());
        QVERIFY2(i.out.contains("stage images: finished, 2 units, 2 done"), i.out.constData());
        QCOMPARE(column(*p, "SELECT DISTINCT m.path FROM task_media tm JOIN media m ON m.id=tm.media_id JOIN tasks t ON "
                            "t.id=tm.task_id WHERE t.source='synth' AND tm.role='image'"),
                 std::vector<std::string>{"synth/images/receipt.jpg"});
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_items WHERE stage='images' AND "
                           "json_extract(output,'$.ranking') LIKE 'embeddings %'"), int64_t(2));
        QCOMPARE(m_tally["embeddings"].requests, int64_t(3));
        const auto image_prompts = column(*p, "SELECT prompt_text FROM tasks WHERE json_extract(extra,'$.synth.needs')='image' ORDER BY id");
        QVERIFY(std::regex_match(image_prompts[0], std::regex("Picture 1: <img>synth/images/receipt\\.jpg</img>\nTask: What is "
                                                              "the total on the receipt in the photo for batch [0-9]+\\?\n"
                                                              "Attachment: synth/images/receipt\\.jpg; ")));

        // verify-files: the tables' tasks fail round 1 and pass round 2 with the updated query; the photos pass at once.
        auto v = stage(db, "verify-files");
        QVERIFY2(v.code == 0, v.err.constData());
        QVERIFY2(v.out.contains("stage verify-files: finished, 4 units, 4 done, 0 rejected"), v.out.constData());
        QCOMPARE(m_tally["verify_files"].requests, int64_t(6));
        const auto rewritten = column(*p, "SELECT query FROM tasks WHERE json_extract(extra,'$.synth.needs')='file' ORDER BY id");
        for (const auto& qtext : rewritten)
            QVERIFY2(std::regex_match(qtext, std::regex("Sum the Amount column of the attached sales table for batch [0-9]+\\. "
                                                        "Give the answer in dollars\\.")), qtext.c_str());
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_items WHERE stage='verify-files' AND "
                           "json_array_length(output,'$.rounds')=2"), int64_t(2));

        // trajectories: 2 steps each; the table's observation comes from the real inspect_file_as_text tool.
        auto t = stage(db, "trajectories", {"--workers", "2"});
        QVERIFY2(t.code == 0, t.err.constData());
        QVERIFY2(t.out.contains("stage trajectories: finished, 6 units, 6 done, 0 rejected, 0 failed"), t.out.constData());
        QCOMPARE(m_tally["agent"].requests, int64_t(12));
        QCOMPARE(count(*p, "SELECT count(*) FROM trajectories WHERE source='synth' AND n_steps=2"), int64_t(6));
        QCOMPARE(column(*p, "SELECT answer FROM tasks WHERE json_extract(extra,'$.synth.needs') IS NOT NULL ORDER BY id"),
                 (std::vector<std::string>{"42", "3", "391", "42", "3", "391"}));
        const auto table_obs = column(*p, "SELECT s.observation FROM steps s JOIN trajectories tr ON tr.id=s.trajectory_id "
                                          "JOIN tasks t ON t.id=tr.task_id WHERE tr.source='synth' AND s.idx=0 AND "
                                          "json_extract(t.extra,'$.synth.needs')='file'");
        QCOMPARE(int(table_obs.size()), 2);
        for (const auto& o : table_obs) QVERIFY2(o.find("| a | 10 |") != std::string::npos, o.c_str());
        QCOMPARE(column(*p, "SELECT DISTINCT s.observation FROM steps s JOIN trajectories tr ON tr.id=s.trajectory_id "
                            "JOIN tasks t ON t.id=tr.task_id WHERE tr.source='synth' AND s.idx=0 AND "
                            "json_extract(t.extra,'$.synth.needs')='none'"), std::vector<std::string>{"391\n"});

        // verify-trajectories: the photo tasks are judged wrong.
        auto vt = stage(db, "verify-trajectories");
        QVERIFY2(vt.code == 0, vt.err.constData());
        QVERIFY2(vt.out.contains("stage verify-trajectories: finished, 6 units, 4 done, 2 rejected"), vt.out.constData());
        QCOMPARE(count(*p, "SELECT count(*) FROM tasks WHERE verdict='yes' AND source='synth'"), int64_t(4));
        QCOMPARE(count(*p, "SELECT count(*) FROM tasks WHERE verdict='no' AND source='synth'"), int64_t(2));
        QCOMPARE(column(*p, "SELECT DISTINCT verifier_text FROM tasks WHERE verdict='no' AND source='synth'"),
                 std::vector<std::string>{"```json\n{\"thought\": \"the agent never looked at the photo\", \"correct\": \"no\"}\n```"});

        check_accounting(*p);

        // status: counts per stage and the accounting with a price.
        QCOMPARE(run_matrix({"synth", "price", "--db", db, "--model", "teacher", "--prompt", "1", "--completion", "2"}).code, 0);
        auto st = store::Project::open(db.toStdString());
        auto status = synth::synth_status(st->db(), "synth");
        QVERIFY(status.ok());
        const std::vector<std::array<int64_t, 4>> expected = {{2, 6, 4, 0}, {2, 2, 0, 0}, {2, 2, 0, 0},
                                                              {4, 4, 0, 0}, {6, 6, 0, 0}, {6, 4, 2, 0}};
        double cost = 0;
        for (size_t k = 0; k < 6; ++k) {
            const auto& s = status->stages[k];
            QCOMPARE((std::array<int64_t, 4>{s.in, s.out, s.rejected, s.pending}), expected[k]);
            for (const auto& u : s.usage)
                if (u.model == "teacher") cost += (u.prompt_tokens * 1.0 + u.completion_tokens * 2.0) / 1e6;
        }
        QCOMPARE(status->stages[0].reasons, (std::map<std::string, int64_t>{{"duplicate", 2}, {"wrong fields", 2}}));
        QCOMPARE(status->stages[5].reasons, (std::map<std::string, int64_t>{{"verifier: no", 2}}));
        QVERIFY(std::abs(status->cost - cost) < 1e-12);
        QVERIFY(cost > 0);
        // The drill-down behind the counts: the items of each, with their status and reasons.
        {
            auto rejected = synth::synth_stage_items(st->db(), "synth", "verify-trajectories", "rejected");
            QVERIFY2(rejected.ok(), rejected.ok() ? "" : rejected.error().to_string().c_str());
            QCOMPARE(rejected->size(), size_t(2));
            auto out = synth::synth_stage_items(st->db(), "synth", "verify-trajectories", "out");
            QVERIFY(out.ok());
            QCOMPARE(out->size(), size_t(4));
            auto in = synth::synth_stage_items(st->db(), "synth", "verify-trajectories", "in");
            QVERIFY(in.ok());
            QCOMPARE(in->size(), size_t(6));
            std::map<std::string, int> statuses;
            for (const auto& it : *in) {
                ++statuses[it.status];
                QVERIFY(it.task_id > 0);
                QVERIFY(!it.query.empty());
                if (it.status == "rejected") QVERIFY2(it.reason.rfind("verifier: no", 0) == 0, it.reason.c_str());
            }
            QCOMPARE(statuses, (std::map<std::string, int>{{"done", 4}, {"rejected", 2}}));
            for (const auto& it : *rejected) {
                QCOMPARE(it.status, std::string("rejected"));
                QVERIFY2(it.reason.rfind("verifier: no", 0) == 0, it.reason.c_str());
            }
            auto queries = synth::synth_stage_items(st->db(), "synth", "queries", "rejected");
            QVERIFY(queries.ok());
            QCOMPARE(queries->size(), size_t(4));  // 2 duplicates, 2 with wrong fields: never tasks
            for (const auto& it : *queries) QCOMPARE(it.task_id, int64_t(0));
            QVERIFY(!synth::synth_stage_items(st->db(), "synth", "nope", "in").ok());
        }
        auto status_cli = run_matrix({"synth", "status", "--db", db});
        QCOMPARE(status_cli.code, 0);
        QVERIFY2(status_cli.out.contains("    rejected 2: verifier: no"), status_cli.out.constData());

        // A second run of a finished stage does nothing and pays nothing.
        auto again = stage(db, "trajectories");
        QVERIFY2(again.out.contains("stage trajectories: finished, 0 units, 0 done"), again.out.constData());

        // export -> import -> export: the same records; `correct` and `traj_verification` as M-TRACE carries them.
        const QString out = m_dir.path() + "/pipeline/synth.json";
        auto ex = run_matrix({"synth", "export", "--db", db, "--out", out});
        QVERIFY2(ex.code == 0, ex.err.constData());
        QCOMPARE(ex.out, QByteArray("records 4\n"));
        std::ifstream in(out.toStdString());
        const json records = json::parse(in);
        QCOMPARE(int(records.size()), 4);
        for (const auto& r : records) {
            QCOMPARE(r["correct"].get<std::string>(), std::string("yes"));
            QCOMPARE(r["traj_verification"].get<std::string>(),
                     std::string("```json\n{\"thought\": \"the tools fit and the answer follows\", \"correct\": \"yes\"}\n```"));
            QCOMPARE(r["conversations"][0]["from"].get<std::string>(), std::string("system"));
            QCOMPARE(int(r["conversations"].size()), 5);  // system, user, gpt, human (observation), gpt (final answer)
        }
        const QString back_db = m_dir.path() + "/pipeline/back.matrix";
        auto im = run_matrix({"import", "--db", back_db, "--format", "mtrace", "--dataset", "back",
                              "--image-root", m_dir.path() + "/pipeline/p.media", out});
        QVERIFY2(im.code == 0, im.err.constData());
        const QString out2 = m_dir.path() + "/pipeline/back.json";
        auto ex2 = run_matrix({"export", "--db", back_db, "--format", "mtrace", "--dataset", "back", "--out", out2});
        QVERIFY2(ex2.code == 0, ex2.err.constData());
        std::ifstream in2(out2.toStdString());
        QCOMPARE(json::parse(in2), records);
        // The imported tasks are lossless: rebuilt from rows, not kept raw.
        auto bp = store::Project::open(back_db.toStdString());
        QCOMPARE(count(*bp, "SELECT count(*) FROM tasks WHERE extra LIKE '%\"raw\"%'"), int64_t(0));
        QCOMPARE(count(*bp, "SELECT count(*) FROM media WHERE resolved_path IS NULL"), int64_t(0));
    }

    void kill_in_trajectories_and_resume() {
        reset_server_state();
        const QString db = fresh_project("killed");
        QCOMPARE(stage(db, "queries", {"--limit", "2"}).code, 0);
        QCOMPARE(stage(db, "files").code, 0);
        QCOMPARE(stage(db, "images").code, 0);  // lexical fallback: no embeddings endpoint
        QCOMPARE(stage(db, "verify-files").code, 0);
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_block_kind = "agent";
            m_block_at = 6;  // the second step of the third task
        }
        QProcess proc;
        proc.start(testing::matrix_binary(), {"synth", "run", "--db", db, "--stage", "trajectories", "--endpoint",
                                              QString::fromStdString(m_server->url("/v1")), "--endpoint-model", "teacher",
                                              "--seed", "7"});
        QVERIFY(proc.waitForStarted());
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            QVERIFY(m_cv.wait_for(lock, std::chrono::seconds(300), [&] { return m_blocked; }));
        }
        // Every answered request is recorded before the next one is made; the blocked one is never answered.
        auto p = store::Project::open(db.toStdString());
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_usage WHERE stage='trajectories'"), int64_t(5));
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_items WHERE stage='trajectories'"), int64_t(2));
        ::kill(static_cast<pid_t>(proc.processId()), SIGKILL);
        QVERIFY(proc.waitForFinished(30000));
        QCOMPARE(proc.exitStatus(), QProcess::CrashExit);
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_release = true;
            m_cv.notify_all();
        }
        // The third task kept its first step (run trajectory), not yet a synth trajectory.
        QCOMPARE(count(*p, "SELECT count(*) FROM trajectories WHERE source='synth'"), int64_t(2));
        QCOMPARE(count(*p, "SELECT count(*) FROM steps s JOIN trajectories t ON t.id=s.trajectory_id WHERE t.source='run'"),
                 int64_t(5));

        auto resumed = stage(db, "trajectories");
        QVERIFY2(resumed.code == 0, resumed.err.constData());
        QVERIFY2(resumed.out.contains("stage trajectories: finished, 4 units, 4 done, 0 rejected, 0 failed"), resumed.out.constData());
        // No unit twice, none lost; the resumed task asked only for its second step (7 requests, not 8).
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_items WHERE stage='trajectories'"), int64_t(6));
        QCOMPARE(count(*p, "SELECT count(*) FROM trajectories WHERE source='synth' AND n_steps=2"), int64_t(6));
        QCOMPARE(count(*p, "SELECT count(*) FROM (SELECT task_id FROM trajectories WHERE source='synth' GROUP BY task_id "
                           "HAVING count(*) > 1)"), int64_t(0));
        QCOMPARE(count(*p, "SELECT count(*) FROM trajectories WHERE source='run'"), int64_t(6));
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_usage WHERE stage='trajectories'"), int64_t(12));
        QCOMPARE(m_tally["agent"].requests, int64_t(12));  // 5 + 7: the blocked one was never delivered, so asked again
        check_accounting(*p);
        QCOMPARE(column(*p, "SELECT answer FROM tasks WHERE source='synth' ORDER BY id"),
                 (std::vector<std::string>{"42", "3", "391", "42", "3", "391"}));
        // The lexical fallback said so.
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_items WHERE stage='images' AND prompt_name='lexical-fallback' AND "
                           "json_extract(output,'$.image')='synth/images/receipt.jpg'"), int64_t(2));
    }

    // kill -9 while the teacher holds a request of the stage, then run the stage again: every unit exactly once,
    // the requests answered before the kill not paid again (the request cache), the accounting equal to what the
    // server delivered.
    void kill_mid_stage_and_resume_data() {
        QTest::addColumn<QString>("stage");
        QTest::addColumn<QString>("kind");            // the request held
        QTest::addColumn<int>("at");                  // its position among that kind's requests
        QTest::addColumn<int>("usage_before");        // the stage's requests recorded when the kill lands
        QTest::addColumn<int>("units_before");        // units finished then
        QTest::addColumn<int>("units_after");         // units after the resumed run
        QTest::addColumn<int>("cached_after");        // requests the resumed run got from the cache
        QTest::newRow("queries") << "queries" << "queries" << 2 << 1 << 1 << 3 << 0;
        QTest::newRow("files") << "files" << "file_code" << 2 << 3 << 1 << 2 << 1;
        QTest::newRow("verify-files") << "verify-files" << "verify_files" << 2 << 1 << 0 << 4 << 1;
        QTest::newRow("verify-trajectories") << "verify-trajectories" << "verify_trajectory" << 3 << 2 << 2 << 6 << 0;
    }
    void kill_mid_stage_and_resume() {
        QFETCH(QString, stage);
        QFETCH(QString, kind);
        QFETCH(int, at);
        QFETCH(int, usage_before);
        QFETCH(int, units_before);
        QFETCH(int, units_after);
        QFETCH(int, cached_after);
        reset_server_state();
        const QString db = fresh_project("kill-" + stage);
        const QStringList order = {"queries", "files", "images", "verify-files", "trajectories", "verify-trajectories"};
        for (const QString& before : order) {
            if (before == stage) break;
            auto r = stage_run(db, before, before == "queries" ? QStringList{"--limit", "2"} : QStringList{});
            QVERIFY2(r.code == 0, r.err.constData());
        }
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_block_kind = kind.toStdString();
            m_block_at = at;
            m_calls.clear();
        }
        QStringList args = {"synth", "run", "--db", db, "--stage", stage, "--endpoint",
                            QString::fromStdString(m_server->url("/v1")), "--endpoint-model", "teacher", "--seed", "7"};
        if (stage == "queries") args << "--seed-dataset" << "seeds" << "--limit" << "3";
        QProcess proc;
        proc.start(testing::matrix_binary(), args);
        QVERIFY(proc.waitForStarted());
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            QVERIFY(m_cv.wait_for(lock, std::chrono::seconds(300), [&] { return m_blocked; }));
        }
        auto p = store::Project::open(db.toStdString());
        const std::string st = stage.toStdString();
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_usage WHERE stage='" + st + "'"), int64_t(usage_before));
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_items WHERE stage='" + st + "'"), int64_t(units_before));
        ::kill(static_cast<pid_t>(proc.processId()), SIGKILL);
        QVERIFY(proc.waitForFinished(30000));
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_release = true;
            m_cv.notify_all();
        }
        const int64_t tasks_before = count(*p, "SELECT count(*) FROM tasks WHERE source='synth'");
        auto resumed = stage_run(db, stage, stage == "queries" ? QStringList{"--limit", "3"} : QStringList{});
        QVERIFY2(resumed.code == 0, resumed.err.constData());
        QVERIFY2(resumed.out.contains(QString("stage %1: finished, %2 units").arg(stage).arg(units_after - units_before).toUtf8()),
                 resumed.out.constData());
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_items WHERE stage='" + st + "'"), int64_t(units_after));
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_usage WHERE stage='" + st + "' AND cached=1"), int64_t(cached_after));
        if (stage == "queries") {
            QCOMPARE(tasks_before, int64_t(3));
            QCOMPARE(count(*p, "SELECT count(*) FROM tasks WHERE source='synth'"), int64_t(9));
            QCOMPARE(count(*p, "SELECT count(DISTINCT query) FROM tasks WHERE source='synth'"), int64_t(9));
        } else {
            QCOMPARE(count(*p, "SELECT count(*) FROM tasks WHERE source='synth'"), tasks_before);
        }
        if (stage == "files")
            QCOMPARE(count(*p, "SELECT count(*) FROM task_media tm JOIN tasks t ON t.id=tm.task_id WHERE t.source='synth' "
                               "AND tm.role='attachment'"), int64_t(2));
        if (stage == "verify-trajectories")
            QCOMPARE(count(*p, "SELECT count(*) FROM tasks WHERE source='synth' AND verdict<>'unknown'"), int64_t(6));
        check_accounting(*p);
    }

    void budget_pauses_and_a_dead_endpoint_stores_nothing() {
        reset_server_state();
        const QString db = fresh_project("budget");
        // A round's bound (its prompt's bytes + max_tokens) is more than 10 tokens: nothing is asked, exit 3; more
        // budget carries on (test_cmd_synth_budget checks the admission figures with 4 workers).
        auto q = stage(db, "queries", {"--limit", "3", "--budget-tokens", "10"});
        QCOMPARE(q.code, 3);
        QVERIFY2(q.out.contains("stage queries: paused, 3 units, 0 done"), q.out.constData());
        QVERIFY2(q.err.contains("token budget reached (0 of 10 paid tokens; the next request could take up to "), q.err.constData());
        QCOMPARE(m_tally["queries"].requests, int64_t(0));
        auto q2 = stage(db, "queries", {"--limit", "3"});
        QCOMPARE(q2.code, 0);
        QVERIFY2(q2.out.contains("stage queries: finished, 3 units, 3 done"), q2.out.constData());
        // An endpoint that never answers: units fail (infrastructure) and stay pending; nothing is stored as data.
        auto dead = run_matrix({"synth", "run", "--db", db, "--stage", "files", "--endpoint", "http://127.0.0.1:9/v1",
                                "--endpoint-model", "teacher", "--set", "retry_attempts=2", "--set", "retry_base_delay_ms=10"});
        QCOMPARE(dead.code, 0);
        QVERIFY2(dead.out.contains("stage files: finished, 3 units, 0 done, 0 rejected, 3 failed"), dead.out.constData());
        QVERIFY2(dead.out.contains("failed (infrastructure: "), dead.out.constData());
        auto p = store::Project::open(db.toStdString());
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_items WHERE stage='files'"), int64_t(0));
        QCOMPARE(count(*p, "SELECT count(*) FROM synth_rejects WHERE stage='files'"), int64_t(0));
        // Bad arguments: one clear line.
        auto bad = run_matrix({"synth", "run", "--db", db, "--stage", "nope", "--endpoint", "x", "--endpoint-model", "m"});
        QCOMPARE(bad.code, 1);
        QVERIFY2(bad.err.startsWith("matrix: synth run: unknown stage \"nope\""), bad.err.constData());
    }
    void malformed_answers_are_rejected_with_their_reason() {
        reset_server_state();
        const QString db = fresh_project("malformed");
        QCOMPARE(stage(db, "queries", {"--limit", "1"}).code, 0);  // 3 good tasks
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_malformed = {"queries", "file_content", "verify_files", "verify_trajectory"};
        }
        // queries: no JSON in round 2; the job goes on and says why.
        auto q = stage(db, "queries", {"--limit", "2"});
        QCOMPARE(q.code, 0);
        QVERIFY2(q.out.contains("queries round-1: rejected, 0 out, 1 rejected (no JSON: I would rather not write any tasks today.)"),
                 q.out.constData());
        // files: wrong fields.
        auto f = stage(db, "files");
        QCOMPARE(f.code, 0);
        QVERIFY2(f.out.contains("rejected, 0 out, 1 rejected (wrong fields: 'file.file_information' is missing or empty)"),
                 f.out.constData());
        // file code: an empty answer (a task whose content answer was good).
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_malformed = {"file_code"};
        }
        auto p = store::Project::open(db.toStdString());
        QVERIFY(p->db().exec("DELETE FROM synth_items WHERE stage='files'").ok());
        QVERIFY(p->db().exec("DELETE FROM synth_rejects WHERE stage='files'").ok());
        QVERIFY(p->db().exec("DELETE FROM request_cache").ok());  // else the same request gets the cached answer
        auto f2 = stage(db, "files");
        QVERIFY2(f2.out.contains("rejected, 0 out, 1 rejected (empty answer: file1.csv: )"), f2.out.constData());
        // Let the file through, then a huge verifier answer.
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_malformed = {"verify_files", "verify_trajectory"};
        }
        QVERIFY(p->db().exec("DELETE FROM synth_items WHERE stage='files'").ok());
        QVERIFY(p->db().exec("DELETE FROM request_cache").ok());
        QCOMPARE(stage(db, "files").code, 0);
        auto v = stage(db, "verify-files", {"--set", "max_answer_chars=5000"});
        QCOMPARE(v.code, 0);
        QVERIFY2(v.out.contains("rejected, 0 out, 1 rejected (answer too long: round 1: 6033 characters, limit 5000)"),
                 v.out.constData());
        // trajectories for the task that needs nothing, then a verdict that is neither yes nor no.
        QCOMPARE(stage(db, "trajectories").code, 0);
        auto vt = stage(db, "verify-trajectories");
        QCOMPARE(vt.code, 0);
        QVERIFY2(vt.out.contains("rejected, 0 out, 1 rejected (wrong fields: 'correct' is \"maybe\", not yes or no)"),
                 vt.out.constData());
        QCOMPARE(count(*p, "SELECT count(*) FROM tasks WHERE source='synth' AND verdict='unknown'"), int64_t(3));
        auto status = synth::synth_status(p->db(), "synth");
        QVERIFY(status.ok());
        QCOMPARE(status->stages[0].reasons, (std::map<std::string, int64_t>{{"duplicate", 1}, {"no JSON", 1}, {"wrong fields", 1}}));
        QCOMPARE(status->stages[3].reasons, (std::map<std::string, int64_t>{{"answer too long", 1}}));
        QCOMPARE(status->stages[5].reasons, (std::map<std::string, int64_t>{{"wrong fields", 1}}));
    }

};

QTEST_GUILESS_MAIN(TestCmdSynth)
#include "test_cmd_synth.moc"
