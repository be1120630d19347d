// Evaluation runs (core/eval): throughput and the runner's own cost per item.
//  1. GTA step mode with the gold controller on all 229 items (no model): the harness alone (prompt building,
//     parsing the action back, storing the row, live score), 1 and 2 workers, and the final scoring.
//  2. GTA step mode on the tiny fixture Qwen2-VL (CPU): items/s and steps/s, and the runner's overhead per item
//     = item wall time - time inside the controller.
//  3. GTA end-to-end with a controller that answers at once: the cost of an item around the model (sandbox
//     start, trajectory rows, the result row), i.e. the e2e overhead per item.
// Usage: bench_eval [N_TINY_ITEMS=8] [MAX_NEW_TOKENS=16]. Results: bench/results/eval.md.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>

#include <unistd.h>

#include "core/eval/bench_store.h"
#include "core/eval/gta_loader.h"
#include "core/eval/eval_run.h"
#include "core/store/run_repo.h"
#ifdef MATRIX_HAVE_TORCH
#include "core/agent/local/local_controller.h"
#endif

using namespace matrix;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

double secs(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Times the calls of the controller it wraps.
class TimedController : public agent::Controller {
public:
    TimedController(std::unique_ptr<agent::Controller> inner, double* total, int* calls, std::mutex* m)
        : m_inner(std::move(inner)), m_total(total), m_calls(calls), m_mutex(m) {}
    std::string describe() const override { return m_inner->describe(); }
    Result<std::vector<agent::Candidate>> generate(const std::vector<tok::ChatMessage>& messages,
                                                   const agent::GenerationSettings& settings,
                                                   const std::atomic<bool>* cancel) override {
        const auto t0 = Clock::now();
        auto r = m_inner->generate(messages, settings, cancel);
        std::lock_guard<std::mutex> lock(*m_mutex);
        *m_total += secs(t0);
        ++*m_calls;
        return r;
    }

private:
    std::unique_ptr<agent::Controller> m_inner;
    double* m_total;
    int* m_calls;
    std::mutex* m_mutex;
};

class InstantAnswer : public agent::Controller {
public:
    std::string describe() const override { return "instant answer"; }
    Result<std::vector<agent::Candidate>> generate(const std::vector<tok::ChatMessage>&, const agent::GenerationSettings&,
                                                   const std::atomic<bool>*) override {
        return std::vector<agent::Candidate>{{"Thought: done.\nCode:\n```py\nfinal_answer(\"12\")\n```", "stop", 8}};
    }
};

std::string fresh_project(const std::string& dir, const std::string& name, const eval::Benchmark& b) {
    const std::string path = dir + "/" + name;
    auto project = store::Project::open(path);
    if (!project.ok() || !eval::store_benchmark(*project, b).ok()) return {};
    return path;
}

int64_t create(const std::string& db, eval::EvalSettings s, const std::string& dir) {
    auto project = store::Project::open(db);
    auto id = eval::create_eval_run(*project, s, "bench", dir);
    if (!id.ok()) {
        std::fprintf(stderr, "bench_eval: %s\n", id.error().to_string().c_str());
        std::exit(1);
    }
    return *id;
}

}  // namespace

int main(int argc, char** argv) {
    const int n_tiny = argc > 1 ? std::atoi(argv[1]) : 8;
    const int max_new = argc > 2 ? std::atoi(argv[2]) : 16;
    const std::string dir = (fs::temp_directory_path() / ("bench_eval_" + std::to_string(getpid()))).string();
    fs::create_directories(dir);
    auto b = eval::load_gta(std::string(MATRIX_SHARED_DIR) + "/data/gta/dataset.json");
    if (!b.ok()) {
        std::fprintf(stderr, "bench_eval: %s\n", b.error().to_string().c_str());
        return 1;
    }
    int n_steps_all = 0;
    for (const auto& item : b->items)
        for (const auto& g : item.gold_steps) n_steps_all += g.role == "assistant";

    // 1. The harness alone.
    for (int workers : {1, 2}) {
        const std::string db = fresh_project(dir, "gold" + std::to_string(workers) + ".matrix", *b);
        eval::EvalSettings s;
        s.mode = "step";
        s.controller = {{"kind", "gold"}};
        s.workers = workers;
        const int64_t run = create(db, s, dir);
        double at_last_item = 0;
        const auto t0 = Clock::now();
        eval::EvalEvents ev;
        ev.on_item_done = [&](const eval::EvalProgress& p) {
            if (p.done == p.total) at_last_item = secs(t0);
        };
        auto out = eval::run_eval(db, run, {}, ev);
        const double total = secs(t0);
        if (!out.ok()) return 1;
        std::printf("step, gold controller, %d worker(s): %zu items (%d steps) in %.3f s: %.1f items/s, %.2f ms/item "
                    "(%.3f ms/step); scoring both scorers at the end %.3f s; arg_acc %.1f\n",
                    workers, b->items.size(), n_steps_all, at_last_item, b->items.size() / at_last_item,
                    at_last_item * 1000 / b->items.size(), at_last_item * 1000 / n_steps_all, total - at_last_item,
                    out->metrics["official"]["arg_acc"].get<double>());
    }

#ifdef MATRIX_HAVE_TORCH
    // 2. The tiny model.
    {
        const std::string db = fresh_project(dir, "tiny.matrix", *b);
        eval::EvalSettings s;
        s.mode = "step";
        s.controller = {{"kind", "local"}, {"model", std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny/tiny-qwen2vl"}};
        s.limit = n_tiny;
        s.loop.generation.max_new_tokens = max_new;
        s.loop.generation.groups.front().do_sample = false;
        const int64_t run = create(db, s, dir);
        int n_steps = 0;
        for (int i = 0; i < n_tiny && i < int(b->items.size()); ++i)
            for (const auto& g : b->items[size_t(i)].gold_steps) n_steps += g.role == "assistant";
        double in_model = 0, load_s = 0;
        int calls = 0;
        std::mutex m;
        eval::ControllerSource src;
        src.shared = true;
        src.make = [&]() -> Result<std::unique_ptr<agent::Controller>> {
            const auto t0 = Clock::now();
            agent::LocalControllerOptions o;
            o.model_dir = s.controller["model"];
            MATRIX_TRY(auto local, agent::LocalController::load(o));
            load_s = secs(t0);
            return std::unique_ptr<agent::Controller>(
                std::make_unique<TimedController>(std::move(local), &in_model, &calls, &m));
        };
        double first_item = -1, last_item = 0;
        const auto t0 = Clock::now();
        eval::EvalEvents ev;
        ev.on_item_done = [&](const eval::EvalProgress& p) {
            if (first_item < 0) first_item = secs(t0);
            if (p.done == p.total) last_item = secs(t0);
        };
        auto out = eval::run_eval(db, run, src, ev);
        if (!out.ok()) {
            std::fprintf(stderr, "bench_eval: %s\n", out.error().to_string().c_str());
            return 1;
        }
        const double items_time = last_item - load_s;
        std::printf("step, tiny Qwen2-VL (CPU, greedy, %d new tokens max): %d items (%d steps, %d model calls) in %.2f s "
                    "after a %.2f s load: %.2f items/s, %.2f steps/s; model %.2f s, runner overhead %.2f ms/item "
                    "(%.2f ms/step)\n",
                    max_new, n_tiny, n_steps, calls, items_time, load_s, n_tiny / items_time, n_steps / items_time,
                    in_model, (items_time - in_model) * 1000 / n_tiny, (items_time - in_model) * 1000 / n_steps);
    }
#else
    std::printf("step, tiny Qwen2-VL: not measured (this build has no LibTorch)\n");
#endif

    // 3. End to end around an instant controller: sandbox, rows, scoring per item.
    {
        const std::string db = fresh_project(dir, "e2e.matrix", *b);
        eval::EvalSettings s;
        s.mode = "e2e";
        s.controller = {{"kind", "endpoint"}, {"url", "http://instant"}, {"model", "none"}};
        s.limit = 20;
        s.workers = 1;
        const int64_t run = create(db, s, dir + "/runs");
        eval::ControllerSource src;
        src.shared = false;
        src.make = []() -> Result<std::unique_ptr<agent::Controller>> {
            return std::unique_ptr<agent::Controller>(std::make_unique<InstantAnswer>());
        };
        double last_item = 0;
        const auto t0 = Clock::now();
        eval::EvalEvents ev;
        ev.on_item_done = [&](const eval::EvalProgress& p) {
            if (p.done == p.total) last_item = secs(t0);
        };
        auto out = eval::run_eval(db, run, src, ev);
        if (!out.ok()) {
            std::fprintf(stderr, "bench_eval: %s\n", out.error().to_string().c_str());
            return 1;
        }
        std::printf("e2e, instant controller, 1 worker: 20 items in %.2f s: %.1f ms/item runner overhead (sandbox start, "
                    "one step, trajectory + result rows)\n",
                    last_item, last_item * 1000 / 20);
    }
    std::error_code ec;
    fs::remove_all(dir, ec);
    return 0;
}
