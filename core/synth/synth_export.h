// Synthesized tasks out as M-TRACE JSON: the records the existing exporter writes (formats::mtrace_export_record:
// id, image, correct, answer, conversations, traj_verification), for the tasks of the output dataset whose
// trajectory the verifier judged, by verdict. `matrix export --format mtrace` writes the whole dataset instead
// (tasks still in the pipeline included). The importer reads the file back to the same records.
#pragma once

#include <string>

#include "core/formats/exporters.h"
#include "core/store/database.h"

namespace matrix::synth {

// verdict: "yes" (default: what M-TRACE keeps), "no", or "all" (every verified task).
Result<formats::ExportReport> export_synth(store::Database& db, const std::string& dataset, const std::string& out_path,
                                           const std::string& verdict = "yes", bool overwrite = false);

}  // namespace matrix::synth
