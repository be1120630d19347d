// `matrix stats`: counts of a project (datasets, tasks, trajectories, steps, media and missing, pairs by status)
// and the tool-call histogram, as text or JSON.
#include <iostream>

#include "app/cli/args.h"
#include "app/cli/command.h"
#include "core/store/dataset_repo.h"
#include "core/store/project.h"
#include "core/store/stats.h"

namespace {
const char* kUsage =
    "usage: matrix stats --db FILE [--dataset NAME] [--json]\n"
    "  Counts of datasets, tasks, trajectories, steps, media (and missing), pairs by status, and a histogram\n"
    "  of tool calls by tool name; for the whole project or one dataset.\n"
    "  --json  print one JSON object\n";

int run_stats(int argc, char** argv) {
    matrix::cli::Args args(kUsage, {"db", "dataset"}, {"json"});
    if (!args.parse(argc, argv)) return args.help_requested() ? 0 : 2;
    if (!args.require({"db"}, "stats")) return 2;
    matrix::store::OpenOptions open;
    open.create = false;
    auto project = matrix::store::Project::open(*args.get("db"), open);
    if (!project.ok()) return matrix::cli::fail(project.error().to_string());
    std::optional<int64_t> dataset;
    if (auto name = args.get("dataset")) {
        auto d = matrix::store::DatasetRepo(project->db()).find(*name);
        if (!d.ok()) return matrix::cli::fail(d.error().to_string());
        if (!d.value()) return matrix::cli::fail("no dataset named '" + *name + "'");
        dataset = d.value()->id;
    }
    auto stats = matrix::store::compute_stats(project->db(), dataset);
    if (!stats.ok()) return matrix::cli::fail(stats.error().to_string());
    const auto& s = stats.value();
    if (args.has("json")) {
        std::cout << matrix::store::stats_to_json(s).dump(2) << "\n";
        return 0;
    }
    std::cout << "datasets      " << s.datasets << "\n"
              << "tasks         " << s.tasks << "\n"
              << "trajectories  " << s.trajectories << "\n"
              << "steps         " << s.steps << "\n"
              << "media         " << s.media << " (" << s.media_missing << " missing)\n"
              << "pairs         " << s.pairs << " (pending " << s.pairs_pending << ", approved " << s.pairs_approved
              << ", rejected " << s.pairs_rejected << ")\n"
              << "tool calls    " << s.tool_calls << "\n";
    for (const auto& [name, n] : s.tool_histogram) std::cout << "  " << name << "  " << n << "\n";
    return 0;
}
}  // namespace

MATRIX_CLI_COMMAND("stats", "counts and tool-call histogram of a project", run_stats);
