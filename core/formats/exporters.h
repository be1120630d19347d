// Exports a dataset back to the published formats: M-TRACE JSON (tasks in import order, each record rebuilt
// from the store so that import -> export gives the same JSON values record for record), and Pref-X JSON
// (pairs with the chosen status, approved by default) plus the LLaMA-Factory dataset_info.json entry that
// reads it (formatting sharegpt, ranking true). Output files are written atomically.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/store/database.h"
#include "core/util/progress.h"

namespace matrix::formats {

struct ExportOptions {
    std::string status = "approved";  // Pref-X: approved | pending | rejected | all
    bool write_dataset_info = true;   // Pref-X: merge the entry into dataset_info.json beside the output
    Progress progress;                // done/total in records; cancel between records
    // Replace an existing output file (the CLI's --force; the GUI asks first). Never the project's own database
    // (or its -wal/-shm), nor a file a dataset of the project was imported from: those are refused always.
    bool overwrite = false;
};

// Where an export may write: the real target of `out_path` (a symbolic link is followed, so the link stays and
// its target is replaced), or an error naming the path and the reason.
Result<std::string> export_target(store::Database& db, const std::string& out_path, bool overwrite);

struct ExportReport {
    int64_t records = 0;
    std::string dataset_info_path;  // empty when not written
    bool cancelled = false;
};

Result<ExportReport> export_mtrace(store::Database& db, const std::string& dataset, const std::string& out_path,
                                   const ExportOptions& options = {});
Result<ExportReport> export_prefx(store::Database& db, const std::string& dataset, const std::string& out_path,
                                  const ExportOptions& options = {});

// The dataset_info.json entry for a Pref-X file: {"file_name", "formatting": "sharegpt", "ranking": true,
// "columns": {"messages": "conversations", "chosen", "rejected", "images", "system"}}.
nlohmann::ordered_json llamafactory_prefx_entry(const std::string& file_name);

}  // namespace matrix::formats
