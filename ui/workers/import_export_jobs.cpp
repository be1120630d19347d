// runImport / runExport: bind the dialogs' requests to core/formats' importers and exporters (see
// import_export_jobs.h). Each call opens its own store connection (it runs on a pool thread).
#include "ui/workers/import_export_jobs.h"

#include <QFileInfo>

#include "core/store/project.h"

namespace matrix::ui {

QString formatName(DataFormat f) {
    switch (f) {
    case DataFormat::Mtrace: return QObject::tr("M-TRACE trajectories");
    case DataFormat::Prefx: return QObject::tr("Pref-X pairs");
    case DataFormat::Beam: return QObject::tr("Step sampling (beam_search_data)");
    }
    return {};
}

JobOutcome runImport(const ImportRequest& request, const Progress& progress) {
    JobOutcome out;
    out.error = QObject::tr("the %1 importer is not available in this build yet").arg(formatName(request.format));
    return out;
}

JobOutcome runExport(const ExportRequest& request, const Progress& progress) {
    JobOutcome out;
    out.error = QObject::tr("the %1 exporter is not available in this build yet").arg(formatName(request.format));
    return out;
}

}  // namespace matrix::ui
