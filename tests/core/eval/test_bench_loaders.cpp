// Loader tests: the real GTA-1 dataset.json (229 items: 156 objective, 16 subjective, 57 image generation;
// every gold tool call parsed), GAIA metadata.jsonl lines written for this test (GAIA itself is gated), and
// an Agent-X data.json written for this test checked against tests/data/external/bench/agentx_toolmeta.json.
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <map>

#include "core/eval/agentx_loader.h"
#include "core/eval/gaia_loader.h"
#include "core/eval/gta_loader.h"

using namespace matrix::eval;

namespace {
const std::string kShared = MATRIX_SHARED_DIR;
const std::string kData = std::string(MATRIX_SOURCE_DIR) + "/tests/data/bench/";
}  // namespace

class TestBenchLoaders : public QObject {
    Q_OBJECT
private slots:
    void gta_real_dataset() {
        auto r = load_gta(kShared + "/data/gta/dataset.json");
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().to_string().c_str());
        const Benchmark& b = r.value();
        QCOMPARE(b.kind, BenchKind::gta);
        QVERIFY(b.warnings.empty());
        QCOMPARE(int(b.items.size()), 229);
        std::map<AnswerForm, int> forms;
        int tool_calls = 0, user_turns = 0, tool_turns = 0, final_turns = 0, files = 0;
        std::map<std::string, int> by_tool;
        for (const auto& item : b.items) {
            forms[item.form] += 1;
            files += int(item.files.size());
            QVERIFY(!item.query.empty());
            for (const auto& s : item.gold_steps) {
                if (s.role == "user") ++user_turns;
                if (s.role == "tool") ++tool_turns;
                if (s.role == "assistant") {
                    for (const auto& tc : s.tool_calls) {
                        ++tool_calls;
                        by_tool[tc.name] += 1;
                        QVERIFY(tc.arguments.is_object());
                        QVERIFY(!tc.arguments.empty());
                    }
                    if (s.tool_calls.empty()) ++final_turns;
                }
            }
        }
        QCOMPARE(forms[AnswerForm::objective], 156);
        QCOMPARE(forms[AnswerForm::subjective], 16);
        QCOMPARE(forms[AnswerForm::image_generation], 57);
        QCOMPARE(tool_calls, 557);
        QCOMPARE(user_turns, 229);
        QCOMPARE(tool_turns, 555);
        QCOMPARE(final_turns, 213);
        QCOMPARE(files, 249);
        // Per-tool call counts, as counted by Python's json over the same file.
        const std::map<std::string, int> expected_by_tool = {
            {"OCR", 131}, {"ImageDescription", 114}, {"Calculator", 70}, {"CountGivenObject", 50},
            {"GoogleSearch", 44}, {"MathOCR", 20}, {"TextToImage", 19}, {"DrawBox", 18}, {"ImageStylization", 18},
            {"AddText", 18}, {"TextToBbox", 16}, {"Plot", 15}, {"Solver", 14}, {"RegionAttributeDescription", 10}};
        QCOMPARE(by_tool, expected_by_tool);
        // File order is kept and the first item is the beer/menu question with whitelist [["12"]].
        QCOMPARE(b.items.front().id, std::string("0"));
        QCOMPARE(b.items.back().id, std::string("228"));
        QCOMPARE(b.items.front().gold_answer_text, std::string("12"));
        QCOMPARE(b.items.front().gold_steps[1].tool_calls[0].name, std::string("ImageDescription"));
        QCOMPARE(b.items.front().gold_steps[1].tool_calls[0].arguments["image"].get<std::string>(),
                 std::string("image/image_1.jpg"));
        QVERIFY(b.items.front().files[0].resolved.empty());  // images are not shipped with the file
        const BenchItem* bl = b.find("30");
        QVERIFY(bl && bl->gold_answer["blacklist"].size() == 2);
    }

    void gta_missing_file_is_an_error() {
        auto r = load_gta(kData + "no-such-dir/dataset.json");
        QVERIFY(!r.ok());
        QVERIFY(r.error().context.find("no-such-dir") != std::string::npos);
    }

    // One item with a field of the wrong type is a warning naming the file and the item; the others load. A
    // dataset nested 200,000 deep, /dev/zero and a folder are errors, never a crash or a read without end.
    void gta_hostile_files() {
        QTemporaryDir dir;
        const std::string f = dir.path().toStdString() + "/dataset.json";
        {
            std::ofstream out(f);
            out << R"({"1": {"dialogs": [], "gt_answer": null, "files": [{"type": 3, "path": "a.png"}]},
                       "2": {"dialogs": [], "gt_answer": ["x"]}})";
        }
        auto b = load_gta(f);
        QVERIFY2(b.ok(), b.ok() ? "" : b.error().to_string().c_str());
        QCOMPARE(int(b->items.size()), 1);
        QCOMPARE(b->items[0].id, std::string("2"));
        QCOMPARE(b->warnings, std::vector<std::string>{f + ": item 1: files[0].type is not a string (3)"});
        {
            std::ofstream out(f);
            out << std::string(200000, '[') << std::string(200000, ']');
        }
        QCOMPARE(load_gta(f).error().to_string(), f + ": JSON nesting deeper than 512 levels at byte 512");
        QCOMPARE(load_gta("/dev/zero").error().to_string(), std::string("/dev/zero: not a regular file (a device, FIFO or socket)"));
    }

    void gaia_own_lines() {
        auto r = load_gaia(kData + "gaia");
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().to_string().c_str());
        const Benchmark& b = r.value();
        QCOMPARE(int(b.items.size()), 5);
        QCOMPARE(int(b.warnings.size()), 2);  // the non-JSON line and the line without task_id
        QVERIFY(b.warnings[0].find(":5:") != std::string::npos);
        QVERIFY(b.warnings[1].find(":7:") != std::string::npos);
        std::map<int, int> levels;
        for (const auto& i : b.items) levels[i.level] += 1;
        QCOMPARE(levels[1], 2);  // "Level": 1 and "Level": "1"
        QCOMPARE(levels[2], 2);
        QCOMPARE(levels[3], 1);
        const BenchItem* t4 = b.find("t-0004");
        QVERIFY(t4);
        QCOMPARE(t4->gold_answer_text, std::string("Saint Petersburg"));
        QCOMPARE(int(t4->files.size()), 1);
        QVERIFY(!t4->files[0].resolved.empty());  // t-0004.txt lies beside metadata.jsonl
        QCOMPARE(t4->files[0].type, std::string("file"));
        const BenchItem* t3 = b.find("t-0003");
        QVERIFY(t3->files[0].resolved.empty());  // attachment not present: kept unresolved
        QCOMPARE(int(t4->tools.size()), 2);
        QCOMPARE(int(t4->gold_steps.size()), 1 + 3 + 1);  // question, 3 annotator steps, answer
    }

    void agentx_own_file() {
        auto meta = load_agentx_toolmeta(kShared + "/bench/agentx_toolmeta.json");
        QVERIFY(meta.ok());
        QCOMPARE(int(meta->tools.size()), 14);
        auto r = load_agentx(kData + "agentx/data.json", meta.value());
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().to_string().c_str());
        const Benchmark& b = r.value();
        QCOMPARE(int(b.items.size()), 3);
        QCOMPARE(int(b.warnings.size()), 1);
        QVERIFY(b.warnings[0].find("Translator") != std::string::npos);
        const BenchItem* a1 = b.find("ax-001");
        QCOMPARE(a1->gold_answer_text, std::string("$7.00"));  // from the final_answer step
        QCOMPARE(a1->tools, (std::vector<std::string>{"Calculator", "OCR"}));
        const BenchItem* a2 = b.find("ax-002");
        QCOMPARE(a2->tools, (std::vector<std::string>{"ObjectCounter", "RegionDescriber", "SceneDescriber"}));
        QCOMPARE(a2->category, std::string("Subjective"));
        QCOMPARE(b.find("ax-003")->gold_answer_text, std::string("Exit"));
        QCOMPARE(split_tool_field(nlohmann::json("OCR, Calculator;Solver")),
                 (std::vector<std::string>{"OCR", "Calculator", "Solver"}));
    }
};

QTEST_GUILESS_MAIN(TestBenchLoaders)
#include "test_bench_loaders.moc"
