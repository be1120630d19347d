// Tests for step-sampling import (beam_search_data.json folders under tests/data/beam, written for these tests
// following spec section 3): every candidate kept, best path as trajectory, best_step_idx as a string, the
// final error element, pairs chosen = best / rejected = others, the spec section 4 BLEU / format-error
// filter, a bad folder, re-import, and the Pref-X export of sampled pairs.
#include <QtTest>

#include <fstream>

#include "core/formats/beam_import.h"
#include "core/formats/char_bleu.h"
#include "core/formats/exporters.h"
#include "core/store/pair_repo.h"
#include "core/store/project.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"

using namespace matrix;
using namespace matrix::formats;

namespace {
const std::string kDir = std::string(MATRIX_SOURCE_DIR) + "/tests/data/beam";
template <class T>
T must(Result<T> r) {
    if (!r.ok()) qFatal("unexpected error: %s", r.error().to_string().c_str());
    return std::move(r).value();
}
nlohmann::json load(const std::string& p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}
int64_t count(store::Database& db, const std::string& sql) { return must(db.query_int64(sql)); }
std::string strip(std::string s) {
    const std::string tag = "<end_action>";
    if (s.size() >= tag.size() && s.compare(s.size() - tag.size(), tag.size(), tag) == 0) s.resize(s.size() - tag.size());
    return s;
}
}  // namespace

class TestBeamFormat : public QObject {
    Q_OBJECT
private slots:
    void finds_folders_sorted() {
        auto files = find_beam_files(kDir);
        QCOMPARE(files.size(), size_t(3));
        QVERIFY(QString::fromStdString(files[0]).endsWith("task_001/beam_search_data.json"));
        QCOMPARE(find_beam_files(kDir + "/task_002").size(), size_t(1));
    }

    void import_all_candidates() {
        auto p = must(store::Project::open(":memory:"));
        auto r = must(import_beam(p.db(), kDir, {}));
        QCOMPARE(r.records, int64_t(3));
        QCOMPARE(r.imported, int64_t(2));
        QCOMPARE(r.rejected, int64_t(1));
        QCOMPARE(r.issues.size(), size_t(1));
        QCOMPARE(r.issues[0].index, int64_t(2));
        QCOMPARE(QString::fromStdString(r.issues[0].reason),
                 QString("element 1: 'best_step_idx' 7 out of range (beam_size 2)"));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM step_candidates"), int64_t(3 + 3 + 2));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM step_candidates WHERE is_best"), int64_t(3));
        QCOMPARE(r.pairs, int64_t(2 + 2 + 1));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM pairs WHERE origin='sampled'"), int64_t(5));

        store::TaskRepo tasks(p.db());
        auto tid = *must(tasks.find_by_key(r.dataset_id, "beam:task_001"));
        auto task = must(tasks.get(tid));
        QCOMPARE(task->query, std::string("How many cars are in the picture?"));
        QCOMPARE(task->answer.value_or(""), std::string("3"));
        QCOMPARE(task->n_images, 1);
        auto traj = must(store::TrajectoryRepo(p.db()).primary_for_task(tid));
        const auto file = load(kDir + "/task_001/beam_search_data.json");
        QCOMPARE(traj->steps.size(), size_t(2));
        QCOMPARE(*traj->steps[0].action, file[1]["llm_output_1"].get<std::string>());  // best "1" (a string)
        QCOMPARE(traj->steps[0].tool_calls[0].name, std::string("objectlocation"));
        QCOMPARE(traj->steps[0].candidates.size(), size_t(3));
        QVERIFY(traj->steps[0].candidates[1].is_best && !traj->steps[0].candidates[0].is_best);
        QCOMPARE(traj->steps[1].candidates[2].observation.value_or(""), std::string("Error: division by zero"));
        auto extra = nlohmann::json::parse(*traj->steps[0].extra);
        QCOMPARE(extra["best_step_idx"], nlohmann::json("1"));
        QCOMPARE(extra["rank_reason"], file[1]["rank_reason"]);
        QCOMPARE(nlohmann::json::parse(*traj->extra)["error"], nlohmann::json("Reached max iterations."));

        store::PairRepo pairs(p.db());
        store::PairFilter f;
        f.task_id = tid;
        f.step_index = 1;
        auto step2 = must(pairs.list(f));
        QCOMPARE(step2.size(), size_t(2));
        QCOMPARE(step2[0].chosen_action, file[2]["llm_output_0"].get<std::string>());
        QCOMPARE(step2[0].rejected_action, std::string("final_answer(\"3\")<end_action>"));
        QCOMPARE(step2[1].rejected_observation.value_or(""), std::string("Error: division by zero"));
        // The prefix of step 2: the task turn, the best action of step 1 and its observation.
        auto prefix = must(pairs.prefix(step2[0].prefix_id));
        auto history = nlohmann::json::parse(prefix->history);
        QCOMPARE(history.size(), size_t(3));
        QCOMPARE(history[0]["value"], nlohmann::json("<image>\n" + file[0]["task"].get<std::string>()));
        QCOMPARE(history[1]["value"], file[1]["llm_output_1"]);
        QCOMPARE(history[2]["value"], nlohmann::json("[OUTPUT OF STEP 0] Observation:\n3"));

        auto again = must(import_beam(p.db(), kDir, {}));
        QCOMPARE(again.already_present, int64_t(2));
        QCOMPARE(count(p.db(), "SELECT count(*) FROM pairs"), int64_t(5));
    }

    void bleu_filter_selects_as_spec() {
        auto p = must(store::Project::open(":memory:"));
        ImportOptions opt;
        opt.bleu_filter = true;
        auto r = must(import_beam(p.db(), kDir, opt));
        const auto f1 = load(kDir + "/task_001/beam_search_data.json");
        const auto f2 = load(kDir + "/task_002/beam_search_data.json");
        auto bleu = [](const nlohmann::json& c, const nlohmann::json& ref) {
            return char_bleu(strip(c.get<std::string>()), strip(ref.get<std::string>()));
        };
        // Step 1: candidate 0 is a near copy of the best (BLEU >= 0.3, well formed): dropped; candidate 2 differs.
        QVERIFY(bleu(f1[1]["llm_output_0"], f1[1]["llm_output_1"]) >= 0.3);
        QVERIFY(bleu(f1[1]["llm_output_2"], f1[1]["llm_output_1"]) < 0.3);
        // Step 2: candidate 1 has no Thought (format error), candidate 2 an error observation: both kept (<= 2).
        QVERIFY(bleu(f1[2]["llm_output_2"], f1[2]["llm_output_0"]) >= 0.3);
        const int64_t task2 = bleu(f2[1]["llm_output_1"], f2[1]["llm_output_0"]) < 0.3 ? 1 : 0;
        QCOMPARE(r.pairs, int64_t(1 + 2 + task2));
        QCOMPARE(*must(p.db().query_text("SELECT group_concat(json_extract(extra, '$.candidate')) FROM (SELECT extra "
                                         "FROM pairs WHERE record_key LIKE 'beam:task_001:%' ORDER BY ordinal)")),
                 std::string("2,1,2"));
    }

    void exports_sampled_pairs_as_prefx() {
        QTemporaryDir dir;
        auto p = must(store::Project::open(":memory:"));
        (void)must(import_beam(p.db(), kDir, {}));
        ExportOptions opt;
        opt.status = "all";
        const std::string out = (dir.path() + "/pairs.json").toStdString();
        QCOMPARE(must(export_prefx(p.db(), "beam", out, opt)).records, int64_t(5));
        auto got = load(out);
        QCOMPARE(got[0]["images"], nlohmann::json::array({"img/cars.png"}));
        QCOMPARE(got[0]["conversations"].size(), size_t(1));
        QCOMPARE(got[0]["chosen"]["from"], nlohmann::json("gpt"));
        QCOMPARE(got[0]["rejected"]["observation"], nlohmann::json("3"));
        QCOMPARE(got[2]["conversations"].size(), size_t(3));
        QVERIFY(got[2]["chosen"]["value"].get<std::string>().find("<end_action>") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestBeamFormat)
#include "test_beam_format.moc"
