// A small project file for the GUI tests, written with the store's repos (no importer needed): dataset "docs"
// with 4 tasks (one image missing, one with objectlocation boxes, one with an error step) and dataset "pairs"
// with 4 Pref-X pairs linked to the first two tasks. Shared by tests/ui/test_*.cpp (header only).
#pragma once

#include <QDir>
#include <QImage>
#include <QTemporaryDir>
#include <QtTest>

#include "core/store/dataset_repo.h"
#include "core/store/media_repo.h"
#include "core/store/pair_repo.h"
#include "core/store/project.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"

namespace matrix::test {

template <class T>
T must(Result<T> r) {
    if (!r.ok()) qFatal("unexpected error: %s", r.error().to_string().c_str());
    return std::move(r).value();
}
inline void must(Status s) {
    if (!s.ok()) qFatal("unexpected error: %s", s.error().to_string().c_str());
}

struct UiFixture {
    QTemporaryDir dir;
    QString path;
    int64_t docs = 0, pairsDataset = 0;
    std::vector<int64_t> tasks, pairs;

    static store::Step step(int idx, const std::string& thought, const std::string& code, const std::string& obs,
                            const std::string& tool, const std::string& args, bool error = false) {
        store::Step s;
        s.idx = idx;
        s.thought = thought;
        s.code = code;
        s.action = "Thought: " + thought + "\n\nCode:\n```py\n" + code + "\n```";
        if (!obs.empty()) s.observation = obs;
        s.is_error = error;
        if (!tool.empty()) {
            store::ToolCallRow c;
            c.name = tool;
            c.arguments = args;
            c.known = true;
            s.tool_calls.push_back(c);
            s.is_final = tool == "final_answer";
        }
        return s;
    }

    UiFixture() {
        path = dir.filePath("ui.matrix");
        QImage img(200, 100, QImage::Format_RGB32);
        img.fill(Qt::white);
        img.save(dir.filePath("shapes.png"));
        auto project = must(store::Project::open(path.toStdString()));
        auto& db = project.db();
        store::DatasetRepo ds(db);
        auto dataset = [](const char* name, const char* kind) {
            store::Dataset d;
            d.name = name;
            d.kind = kind;
            return d;
        };
        docs = must(ds.create(dataset("docs", "mtrace")));
        pairsDataset = must(ds.create(dataset("pairs", "prefx")));
        store::TaskRepo tr(db);
        store::TrajectoryRepo trj(db);
        store::MediaRepo media(db);
        struct Spec {
            const char* id;
            const char* query;
            const char* verdict;
            const char* image;  // as written; nullptr: none
            bool present;
            std::vector<store::Step> steps;
        };
        std::vector<Spec> specs = {
            {"t-shapes", "How many red circles are in the image?", "yes", "data/x/shapes.png", true,
             {step(0, "Locate the circles.", "boxes = objectlocation(object=\"red circle\", image_path=\"shapes.png\")\nprint(boxes)",
                   "[[10, 10, 50, 50], [100, 20, 140, 60]]", "objectlocation",
                   R"({"object":"red circle","image_path":"shapes.png"})"),
              step(1, "Two circles.", "final_answer(2)", "", "final_answer", R"({"answer":2})")}},
            {"t-market", "What fruit is sold at the middle stall?", "unknown", "data/x/street_market.jpg", false,
             {step(0, "Ask the visualizer.", "print(visualizer(question=\"fruit?\", image_path=\"street_market.jpg\"))",
                   "Oranges.", "visualizer", R"({"question":"fruit?","image_path":"street_market.jpg"})"),
              step(1, "Oranges.", "final_answer(\"Oranges\")", "", "final_answer", R"({"answer":"Oranges"})")}},
            {"t-invoice", "When is the invoice due?", "no", nullptr, false,
             {step(0, "Read it as text.", "inspect_file_as_text(file_path=\"invoice.png\")",
                   "UnsupportedFormatException: png", "inspect_file_as_text", R"({"file_path":"invoice.png"})", true),
              step(1, "Use the visualizer.", "print(visualizer(question=\"due?\", image_path=\"invoice.png\"))",
                   "Due 2024-04-30.", "visualizer", R"({"question":"due?","image_path":"invoice.png"})"),
              step(2, "Done.", "final_answer(\"2024-04-30\")", "", "final_answer", R"({"answer":"2024-04-30"})")}},
            {"t-run", "I ran 5 km and 7.5 km. Total?", "yes", nullptr, false,
             {step(0, "Add.", "print(5 + 7.5)", "12.5", "", ""),
              step(1, "Done.", "final_answer(12.5)", "", "final_answer", R"({"answer":12.5})")}},
        };
        store::Transaction tx(db);
        int ord = 0;
        for (auto& sp : specs) {
            store::Task t;
            t.dataset_id = docs;
            t.record_key = sp.id;
            t.external_id = sp.id;
            t.ordinal = ord++;
            t.query = sp.query;
            t.verdict = sp.verdict;
            t.answer = "answer of " + std::string(sp.id);
            const int64_t id = must(tr.insert(t));
            tasks.push_back(id);
            if (sp.image) {
                store::Media m;
                m.path = sp.image;
                if (sp.present) m.resolved_path = dir.filePath("shapes.png").toStdString();
                else m.error = "not found under the image roots";
                must(media.link(id, "image", 0, must(media.upsert(m)), std::string("<image_00>")));
            }
            store::Trajectory traj;
            traj.task_id = id;
            traj.source = "mtrace";
            traj.steps = sp.steps;
            must(trj.insert(traj));
            must(tr.refresh_counters(id));
        }
        store::PairRepo pr(db);
        store::PairPrefix prefix;
        prefix.history = R"([{"from":"human","value":"<image>\nTask: How many red circles are in the image?\n Attachment: shapes.png; "}])";
        const int64_t prefixId = must(pr.intern_prefix(prefix));
        for (int i = 0; i < 4; ++i) {
            store::Pair p;
            p.dataset_id = pairsDataset;
            p.prefix_id = prefixId;
            p.task_id = tasks[size_t(i / 2)];
            p.step_index = 0;
            p.record_key = "p" + std::to_string(i);
            p.ordinal = i;
            p.chosen_action = "Thought: Locate the circles.\n\nCode:\n```py\nboxes = objectlocation(object=\"red circle\", image_path=\"shapes.png\")\nprint(boxes)\n```";
            p.chosen_observation = "[[10, 10, 50, 50]]";
            p.rejected_action = "Thought: Guess.\n\nCode:\n```py\nfinal_answer(" + std::to_string(3 + i) + ")\n```";
            p.rejected_observation = std::to_string(3 + i);
            pairs.push_back(must(pr.insert(p)));
        }
        must(tx.commit());
    }

    store::Pair pair(int i) {
        auto project = must(store::Project::open(path.toStdString()));
        return *must(store::PairRepo(project.db()).get(pairs[size_t(i)]));
    }
};

}  // namespace matrix::test
