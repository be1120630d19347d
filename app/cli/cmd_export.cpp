// `matrix export`: a dataset back to M-TRACE JSON or Pref-X JSON (+ the LLaMA-Factory dataset_info.json entry).
#include <iostream>

#include "app/cli/args.h"
#include "app/cli/command.h"
#include "core/formats/exporters.h"
#include "core/store/project.h"

namespace {
const char* kUsage =
    "usage: matrix export --db FILE --format mtrace|prefx --dataset NAME --out FILE [--status approved|all] [--force]\n"
    "  Writes dataset NAME of project FILE to --out (atomically: a temporary file, then renamed).\n"
    "  --force           replace --out when it exists (never the project database or an import source)\n"
    "  --format mtrace   M-TRACE JSON: the dataset's tasks and trajectories in import order\n"
    "  --format prefx    Pref-X JSON: the dataset's pairs, and their entry in dataset_info.json beside --out\n"
    "                    (LLaMA-Factory: formatting sharegpt, ranking true)\n"
    "  --status S        prefx: which pairs: approved (default), pending, rejected or all\n"
    "  --no-dataset-info prefx: do not write dataset_info.json\n";

int run_export(int argc, char** argv) {
    matrix::cli::Args args(kUsage, {"db", "format", "dataset", "out", "status"}, {"no-dataset-info", "force"});
    if (!args.parse(argc, argv)) return args.help_requested() ? 0 : 2;
    if (!args.require({"db", "format", "dataset", "out"}, "export")) return 2;
    const std::string format = *args.get("format");
    if (format != "mtrace" && format != "prefx") {
        std::cerr << "matrix export: unknown --format '" << format << "' (mtrace or prefx)\n";
        return 2;
    }
    matrix::store::OpenOptions open;
    open.create = false;
    auto project = matrix::store::Project::open(*args.get("db"), open);
    if (!project.ok()) return matrix::cli::fail(project.error().to_string());
    matrix::formats::ExportOptions options;
    options.status = args.get_or("status", "approved");
    options.write_dataset_info = !args.has("no-dataset-info");
    options.overwrite = args.has("force");
    auto report = format == "mtrace"
                      ? matrix::formats::export_mtrace(project->db(), *args.get("dataset"), *args.get("out"), options)
                      : matrix::formats::export_prefx(project->db(), *args.get("dataset"), *args.get("out"), options);
    if (!report.ok()) return matrix::cli::fail("export failed: " + report.error().to_string());
    std::cout << "wrote " << report->records << " records to " << *args.get("out") << "\n";
    if (!report->dataset_info_path.empty()) std::cout << "updated " << report->dataset_info_path << "\n";
    return 0;
}
}  // namespace

MATRIX_CLI_COMMAND("export", "export a dataset as M-TRACE or Pref-X JSON", run_export);
