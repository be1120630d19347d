// The demo project's evaluation runs (see demo_runs.h).
#include "core/eval/demo_runs.h"

#include "core/eval/bench_store.h"
#include "core/eval/gta_loader.h"
#include "core/eval/eval_run.h"

namespace matrix::eval {

Result<std::vector<int64_t>> add_demo_eval_runs(const std::string& db_path, const std::string& gta_json,
                                                const std::string& dataset_name) {
    std::vector<int64_t> ids;
    {
        MATRIX_TRY(store::Project project, store::Project::open(db_path));
        MATRIX_TRY(eval::Benchmark b, eval::load_gta(gta_json));
        eval::StoreBenchmarkOptions o;
        o.dataset_name = dataset_name;
        MATRIX_TRY(auto stored, eval::store_benchmark(project, b, o));
        (void)stored;
        for (const char* kind : {"gold", "perturbed"}) {
            EvalSettings s;
            s.name = std::string(kind == std::string("gold") ? "gold replay" : "perturbed replay") + " (demo)";
            s.dataset = dataset_name;
            s.mode = "step";
            s.controller = {{"kind", kind}};
            MATRIX_TRY(int64_t id, create_eval_run(project, s, s.name, ""));
            ids.push_back(id);
        }
    }
    for (int64_t id : ids) {
        MATRIX_TRY(EvalOutcome out, run_eval(db_path, id, {}));
        if (out.status != "finished") return make_error("demo eval run " + std::to_string(id) + " did not finish");
    }
    return ids;
}

}  // namespace matrix::eval
