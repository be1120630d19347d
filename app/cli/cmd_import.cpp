// `matrix import`: M-TRACE / Pref-X / step-sampling data into a project file. Exit 0 when every record was
// imported (or already present), 1 when any was rejected (the good ones stay imported), 2 on usage errors.
// One stderr line per rejected record / warning: FILE: record N (byte B): REASON.
#include <iostream>

#include "app/cli/args.h"
#include "app/cli/command.h"
#include "app/cli/record_limit_option.h"
#include "core/formats/import_format.h"
#include "core/store/project.h"

namespace {
const char* kUsage =
    "usage: matrix import --db FILE --format mtrace|prefx|beam [--dataset NAME] [--image-root DIR]... PATH\n"
    "  Imports PATH into the project FILE (created when absent).\n"
    "  --format mtrace   M-TRACE trajectories JSON (a JSON array; large files stream; truncated files import\n"
    "                    their whole records)\n"
    "  --format prefx    Pref-X preference pairs (LLaMA-Factory ShareGPT ranking JSON)\n"
    "  --format beam     step-sampling output: a folder of task folders with beam_search_data.json\n"
    "  --dataset NAME    dataset to import into (default: PATH's file name without extension)\n"
    "  --image-root DIR  where to look for the images records refer to (repeatable; the project's\n"
    "                    image_roots setting is used too). Missing images are stored as missing.\n"
    "  --bleu-filter     beam: rejected = candidates with char-BLEU < 0.3 against the best, plus at most 2\n"
    "                    with a format error or an error observation (default: every other candidate)\n"
    "  --no-link         prefx: give every prompt a task of the Pref-X dataset, even when a task of another\n"
    "                    dataset has the same system prompt, task text and image count (default: the pair is\n"
    "                    attached to that task, e.g. the M-TRACE task it was cut from)\n"
    "  --batch N         records per transaction (default 5000)\n"
    "  --max-record-bytes N  a record longer than N bytes (an array element; a beam task's file) is refused\n"
    "                    with its size and not parsed; the rest is imported (default 16 MiB, 0 = no limit)\n"
    "  --quiet           no progress line\n"
    "Re-importing the same file adds nothing. Exit status: 0 all records imported, 1 some rejected or a\n"
    "fatal error, 2 usage error.\n";

int run_import(int argc, char** argv) {
    matrix::cli::Args args(kUsage, {"db", "format", "dataset", "image-root", "batch", "max-record-bytes"}, {"bleu-filter", "quiet", "no-link"});
    if (!args.parse(argc, argv)) return args.help_requested() ? 0 : 2;
    if (!args.require({"db", "format"}, "import")) return 2;
    if (args.positionals().size() != 1) {
        std::cerr << "matrix import: expected exactly one PATH (see --help)\n";
        return 2;
    }
    const std::string format = *args.get("format");
    const auto import_format = matrix::formats::parse_import_format(format);
    if (!import_format) {
        std::cerr << "matrix import: unknown --format '" << format << "' (mtrace, prefx or beam)\n";
        return 2;
    }
    const auto max_record_bytes = matrix::cli::max_record_bytes_arg(args, "import");
    if (!max_record_bytes) return 2;
    const std::string path = args.positionals()[0];
    auto project = matrix::store::Project::open(*args.get("db"));
    if (!project.ok()) return matrix::cli::fail(project.error().to_string());

    matrix::formats::ImportOptions options;
    options.dataset_name = args.get_or("dataset", "");
    options.image_roots = args.get_all("image-root");
    options.bleu_filter = args.has("bleu-filter");
    options.link_existing_tasks = !args.has("no-link");
    options.max_record_bytes = *max_record_bytes;
    if (auto b = args.get("batch")) options.batch_size = std::max(1, std::atoi(b->c_str()));
    const bool quiet = args.has("quiet");
    int last_percent = -1;
    options.progress.report = [&](int64_t done, int64_t total, const std::string& what) {
        if (quiet || total <= 0) return;
        int percent = int(100 * done / total);
        if (percent == last_percent) return;
        last_percent = percent;
        std::cerr << "\rimporting " << percent << "% (" << what << ")" << std::flush;
    };

    auto report = matrix::formats::import_file(project->db(), *import_format, path, options);
    if (!quiet && last_percent >= 0) std::cerr << "\n";
    if (!report.ok()) return matrix::cli::fail("import failed: " + report.error().to_string());
    const auto& r = report.value();
    for (const auto& issue : r.issues) std::cerr << issue.to_string() << "\n";
    std::cout << "records " << r.records << ", imported " << r.imported << ", already present " << r.already_present
              << ", rejected " << r.rejected << ", syntax errors " << r.syntax_errors;
    if (format != "mtrace") std::cout << ", pairs " << r.pairs;
    if (format == "prefx") std::cout << ", attached to existing tasks " << r.linked_tasks;
    std::cout << ", missing media " << r.media_missing << "\n";
    return r.all_imported() ? 0 : 1;
}
}  // namespace

MATRIX_CLI_COMMAND("import", "import M-TRACE / Pref-X / step-sampling data into a project", run_import);
