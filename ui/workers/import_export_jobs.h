// The import and export jobs the dialogs run: each opens its own store connection on the pool thread and calls
// core/formats' importer / exporter with the job's Progress (progress, cancel). Kept apart from the dialogs so
// tests, the demo builder and the benchmark run the same code without a window.
#pragma once

#include <QString>
#include <QStringList>

#include "ui/workers/background_job.h"

namespace matrix::ui {

enum class DataFormat { Mtrace, Prefx, Beam };

struct ImportRequest {
    QString projectPath;
    QString file;         // a JSON file (M-TRACE, Pref-X) or a folder (step sampling)
    DataFormat format = DataFormat::Mtrace;
    QString dataset;      // dataset name; empty: derived from the file name
    QStringList imageRoots;
};

struct ExportRequest {
    QString projectPath;
    QString file;
    DataFormat format = DataFormat::Mtrace;
    QString dataset;      // dataset name
    bool approvedOnly = true;  // Pref-X: only approved pairs
    bool overwrite = false;    // the user agreed to replace an existing file
};

JobOutcome runImport(const ImportRequest& request, const Progress& progress);
JobOutcome runExport(const ExportRequest& request, const Progress& progress);
QString formatName(DataFormat f);

}  // namespace matrix::ui
