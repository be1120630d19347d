// A small project for training tests on the tiny Qwen2-VL fixture: dataset "demo" (3 M-TRACE trajectories with
// verdict yes, two with an image) and "prefs" (3 approved Pref-X pairs on one prefix + 1 pending). The same data
// test_trainer.cpp builds, shared here so the data-parallel tests train on it too.
#pragma once

#include <string>

#include "core/store/dataset_repo.h"
#include "core/store/media_repo.h"
#include "core/store/pair_repo.h"
#include "core/store/project.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"

#include <QtTest>

namespace matrix::testing::demo_project {

using namespace matrix;

inline const std::string kFixture = std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny";
inline const std::string kModel = kFixture + "/tiny-qwen2vl";

struct Demo {
    const char* task;
    const char* image;  // fixture image or nullptr
    int w, h;
    const char* step0;
    const char* obs0;
    const char* step1;
};
inline const Demo kDemos[] = {
    {"How many boxes are in the picture?", "img_a.png", 168, 112,
     "Thought: count the boxes.\nCode:\n```py\nb = objectlocation(object=\"box\", image_path=\"img_a.png\")\nprint(len(b))\n```",
     "3", "Thought: done.\nCode:\n```py\nfinal_answer(3)\n```"},
    {"What colour is the sign?", "img_b.png", 56, 84,
     "Thought: ask the visualizer.\nCode:\n```py\nprint(visualizer(question=\"colour?\", image_path=\"img_b.png\"))\n```",
     "red", "Thought: it is red.\nCode:\n```py\nfinal_answer(\"red\")\n```"},
    {"What is 17 * 3?", nullptr, 0, 0, "Thought: compute it.\nCode:\n```py\nprint(17 * 3)\n```", "51",
     "Thought: the answer is 51.\nCode:\n```py\nfinal_answer(51)\n```"},
};

// A project with dataset "demo" (3 SFT trajectories, verdict yes) and "prefs" (3 approved pairs + 1 pending).
inline void make_project(const std::string& path, const std::string& missing_image = {}) {
    auto proj = store::Project::open(path);
    QVERIFY2(proj.ok(), proj.ok() ? "" : proj.error().to_string().c_str());
    auto& db = proj->db();
    store::DatasetRepo datasets(db);
    store::Dataset d;
    d.name = "demo";
    d.kind = "mtrace";
    auto ds = datasets.create(d);
    QVERIFY(ds.ok());
    auto sys = store::intern_system_prompt(db, "You are an agent. Write a thought and code.");
    QVERIFY(sys.ok());
    store::TaskRepo tasks(db);
    store::TrajectoryRepo trajs(db);
    store::MediaRepo media(db);
    int k = 0;
    for (const auto& demo : kDemos) {
        store::Task t;
        t.dataset_id = *ds;
        t.record_key = t.external_id = "t" + std::to_string(k);
        t.ordinal = k;
        t.query = demo.task;
        t.prompt_text = std::string(demo.image ? "Picture 1: <img>" + std::string(demo.image) + "</img>\n" : "") +
                        "Task: " + demo.task;
        t.verdict = "yes";
        t.system_prompt_id = *sys;
        auto tid = tasks.insert(t);
        QVERIFY2(tid.ok(), tid.ok() ? "" : tid.error().to_string().c_str());
        if (demo.image) {
            store::Media m;
            m.path = demo.image;
            std::string file = missing_image == demo.image ? "/nonexistent/" + m.path : kFixture + "/" + demo.image;
            if (missing_image != demo.image) m.resolved_path = file;
            m.width = demo.w;
            m.height = demo.h;
            auto mid = media.upsert(m);
            QVERIFY(mid.ok());
            QVERIFY(media.link(*tid, "image", 0, *mid).ok());
        }
        store::Trajectory tr;
        tr.task_id = *tid;
        tr.source = "mtrace";
        store::Step s0, s1;
        s0.idx = 0;
        s0.action = demo.step0;
        s0.observation = demo.obs0;
        s1.idx = 1;
        s1.action = demo.step1;
        s1.is_final = true;
        tr.steps = {s0, s1};
        QVERIFY(trajs.insert(tr).ok());
        ++k;
    }
    store::Dataset p;
    p.name = "prefs";
    p.kind = "prefx";
    auto ps = datasets.create(p);
    QVERIFY(ps.ok());
    store::PairRepo pairs(db);
    store::PairPrefix pre;
    pre.system_prompt_id = *sys;
    pre.images = "[\"img_a.png\"]";
    pre.history = R"([{"from":"human","value":"<image>\nTask: How many boxes are in the picture?"}])";
    auto pid = pairs.intern_prefix(pre);
    QVERIFY(pid.ok());
    const char* chosen[] = {"Thought: count the boxes.\nCode:\n```py\nprint(len(objectlocation(object=\"box\", image_path=\"img_a.png\")))\n```<end_action>",
                            "Thought: locate boxes first.\nCode:\n```py\nb = objectlocation(object=\"box\", image_path=\"img_a.png\")\n```<end_action>",
                            "Thought: use the tool.\nCode:\n```py\nprint(objectlocation(object=\"box\", image_path=\"img_a.png\"))\n```<end_action>"};
    const char* rejected[] = {"final_answer(7)<end_action>", "Thought: guess.\nCode:\n```py\nfinal_answer(\"many\")\n```<end_action>",
                              "I think there are boxes.<end_action>"};
    for (int i = 0; i < 4; ++i) {
        store::Pair pr;
        pr.dataset_id = *ps;
        pr.prefix_id = *pid;
        pr.record_key = "p" + std::to_string(i);
        pr.ordinal = i;
        pr.chosen_action = chosen[i % 3];
        pr.rejected_action = rejected[i % 3];
        pr.status = i < 3 ? "approved" : "pending";
        QVERIFY(pairs.insert(pr).ok());
    }
}

}  // namespace matrix::testing::demo_project
