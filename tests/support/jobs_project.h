// A small project for job tests (core/jobs): dataset "demo" with three short text-only M-TRACE-style tasks (one
// final step each), so a LoRA SFT step on the tiny Qwen2-VL fixture takes a fraction of a second; and polling
// helpers for a job's row and a run's metrics, read through their own connection as the GUI would.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include <QString>
#include <QtGlobal>
#include <QStringList>

#include "core/jobs/job_repo.h"
#include "core/store/dataset_repo.h"
#include "core/store/media_repo.h"
#include "core/store/project.h"
#include "core/store/run_repo.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"

namespace matrix::testing {

inline const std::string& tiny_model() {
    static const std::string p = std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny/tiny-qwen2vl";
    return p;
}

// `matrix train` arguments for a short LoRA SFT run on make_jobs_project's "demo" data: `max_steps` steps (epochs
// never end it first), a checkpoint every `save_every` steps, seed 7.
inline QStringList jobs_train_args(const QString& db, const QString& out, int max_steps, int save_every) {
    return {"sft", "--db", db, "--dataset", "demo", "--model", QString::fromStdString(tiny_model()), "--out",
            out, "--set", "lora_r=4", "--set", "epochs=100000", "--set", QString("max_steps=%1").arg(max_steps),
            "--set", QString("save_every=%1").arg(save_every), "--set", "seed=7"};
}

// `first_task_image`: also an image linked to the first task (its media row as given).
inline Status make_jobs_project(const std::string& path, const std::optional<store::Media>& first_task_image = {}) {
    auto proj = store::Project::open(path);
    if (!proj.ok()) return proj.error();
    auto& db = proj->db();
    store::Dataset d;
    d.name = "demo";
    d.kind = "mtrace";
    auto ds = store::DatasetRepo(db).create(d);
    if (!ds.ok()) return ds.error();
    auto sys = store::intern_system_prompt(db, "You are an agent.");
    if (!sys.ok()) return sys.error();
    const char* tasks[] = {"Count the boxes.", "Read the sign.", "What is 2+2?"};
    for (int i = 0; i < 3; ++i) {
        store::Task t;
        t.dataset_id = *ds;
        t.record_key = t.external_id = "t" + std::to_string(i);
        t.ordinal = i;
        t.query = tasks[i];
        t.prompt_text = std::string("Task: ") + tasks[i];
        t.verdict = "yes";
        t.system_prompt_id = *sys;
        auto tid = store::TaskRepo(db).insert(t);
        if (!tid.ok()) return tid.error();
        if (i == 0 && first_task_image) {
            auto mid = store::MediaRepo(db).upsert(*first_task_image);
            if (!mid.ok()) return mid.error();
            MATRIX_CHECK(store::MediaRepo(db).link(*tid, "image", 0, *mid));
        }
        store::Trajectory tr;
        tr.task_id = *tid;
        tr.source = "mtrace";
        store::Step s0;
        s0.action = "Thought: answer.\nCode:\n```py\nfinal_answer(" + std::to_string(i) + ")\n```";
        s0.is_final = true;
        tr.steps = {s0};
        auto id = store::TrajectoryRepo(db).insert(tr);
        if (!id.ok()) return id.error();
    }
    return {};
}

// make_jobs_project at DIR/NAME.matrix (its path); a test cannot go on without it, so a failure is fatal with
// the reason.
inline QString jobs_project_at(const QString& dir, const QString& name) {
    const QString db = dir + "/" + name + ".matrix";
    const auto st = make_jobs_project(db.toStdString());
    if (!st.ok()) qFatal("project %s: %s", qPrintable(db), st.error().to_string().c_str());
    return db;
}

// Polls until pred(job) holds or timeout; returns the last row read (nullopt when none could be read).
inline std::optional<jobs::Job> wait_job(const std::string& db_path, int64_t id,
                                         const std::function<bool(const jobs::Job&)>& pred, double timeout_s) {
    auto project = store::Project::open(db_path);
    if (!project.ok()) return std::nullopt;
    std::optional<jobs::Job> last;
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    do {
        auto j = jobs::JobRepo(project->db()).get(id);
        if (j.ok() && *j) {
            last = **j;
            if (pred(*last)) return last;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (std::chrono::steady_clock::now() < until);
    return last;
}

// The job's row as stored now; a test that expects the job aborts with the reason when it cannot be read.
inline jobs::Job job_row(const QString& db_path, int64_t id) {
    auto project = store::Project::open(db_path.toStdString());
    if (!project.ok()) qFatal("%s", project.error().to_string().c_str());
    auto j = jobs::JobRepo(project->db()).get(id);
    if (!j.ok()) qFatal("%s", j.error().to_string().c_str());
    if (!*j) qFatal("no job %lld in %s", (long long)id, qPrintable(db_path));
    return **j;
}

inline size_t loss_points(const std::string& db_path, int64_t run_id) {
    auto project = store::Project::open(db_path);
    if (!project.ok()) return 0;
    auto s = store::RunRepo(project->db()).metric_series(run_id, "loss");
    return s.ok() ? s->size() : 0;
}

}  // namespace matrix::testing
