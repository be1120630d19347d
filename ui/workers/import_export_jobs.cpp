// runImport / runExport: bind the dialogs' requests to core/formats' importers and exporters (see
// import_export_jobs.h). Each call opens its own store connection (it runs on a pool thread).
#include "ui/workers/import_export_jobs.h"

#include <QFileInfo>

#include "core/formats/exporters.h"
#include "core/formats/import_format.h"
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
    auto project = store::Project::open(request.projectPath.toStdString());
    if (!project) {
        out.error = QString::fromStdString(project.error().to_string());
        return out;
    }
    formats::ImportOptions options;
    options.dataset_name = request.dataset.toStdString();
    for (const QString& r : request.imageRoots) options.image_roots.push_back(r.toStdString());
    options.progress = progress;
    const std::string file = request.file.toStdString();
    const formats::ImportFormat format = request.format == DataFormat::Prefx ? formats::ImportFormat::prefx
                                         : request.format == DataFormat::Beam  ? formats::ImportFormat::beam
                                                                               : formats::ImportFormat::mtrace;
    Result<formats::ImportReport> report = formats::import_file(project->db(), format, file, options);
    if (!report) {
        out.error = QString::fromStdString(report.error().to_string());
        return out;
    }
    const formats::ImportReport& r = *report;
    for (const formats::ImportIssue& issue : r.issues)
        if (issue.rejected) out.rejected << QString::fromStdString(issue.to_string());
    out.cancelled = r.cancelled;
    out.ok = !r.cancelled;
    out.summary = QObject::tr("%1: %2 imported, %3 already present, %4 rejected, %5 pairs, %6 missing images")
                      .arg(QFileInfo(request.file).fileName())
                      .arg(r.imported)
                      .arg(r.already_present)
                      .arg(r.rejected + r.syntax_errors)
                      .arg(r.pairs)
                      .arg(r.media_missing);
    if (r.linked_tasks > 0)
        out.summary += QObject::tr(" (%1 pairs attached to tasks of other datasets)").arg(r.linked_tasks);
    return out;
}

JobOutcome runExport(const ExportRequest& request, const Progress& progress) {
    JobOutcome out;
    auto project = store::Project::open(request.projectPath.toStdString());
    if (!project) {
        out.error = QString::fromStdString(project.error().to_string());
        return out;
    }
    formats::ExportOptions options;
    options.status = request.approvedOnly ? "approved" : "all";
    options.overwrite = request.overwrite;
    options.progress = progress;
    const std::string dataset = request.dataset.toStdString(), file = request.file.toStdString();
    auto report = request.format == DataFormat::Prefx ? formats::export_prefx(project->db(), dataset, file, options)
                                                      : formats::export_mtrace(project->db(), dataset, file, options);
    if (!report) {
        out.error = QString::fromStdString(report.error().to_string());
        return out;
    }
    out.cancelled = report->cancelled;
    out.ok = !report->cancelled;
    out.summary = QObject::tr("%1 records written to %2").arg(report->records).arg(request.file);
    if (!report->dataset_info_path.empty())
        out.summary += QObject::tr(" (LLaMA-Factory entry in %1)").arg(QString::fromStdString(report->dataset_info_path));
    return out;
}

}  // namespace matrix::ui
