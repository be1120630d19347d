// DemoProject implementation (see demo_project.h).
#include "ui/models/demo_project.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>

#include "core/eval/demo_runs.h"
#include "core/store/pair_repo.h"
#include "core/store/project.h"
#include "ui/workers/import_export_jobs.h"

static void initMatrixResources() { Q_INIT_RESOURCE(resources); }

namespace matrix::ui {

namespace {
const char* kVersionKey = "demo_version";
}

QString DemoProject::folder() {
    const QByteArray env = qgetenv("MATRIX_DEMO_DIR");
    if (!env.isEmpty()) return QString::fromLocal8Bit(env);
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppDataLocation)).filePath(QStringLiteral("demo"));
}

QString DemoProject::projectPath() { return QDir(folder()).filePath(QStringLiteral("demo.matrix")); }

bool DemoProject::isBuilt() {
    if (!QFileInfo::exists(projectPath())) return false;
    store::OpenOptions o;
    o.create = false;
    auto p = store::Project::open(projectPath().toStdString(), o);
    if (!p) return false;
    auto v = p->setting(kVersionKey);
    return v && v->has_value() && **v == std::to_string(kVersion);
}

JobOutcome DemoProject::build(const Progress& progress) {
    initMatrixResources();
    JobOutcome out;
    const QString dir = folder();
    QDir().mkpath(dir);
    // Copy the demo files out of the resources (images must be real files for the viewer and the resolver).
    QDirIterator it(QStringLiteral(":/demo"), QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString src = it.next();
        const QString dst = QDir(dir).filePath(src.mid(QStringLiteral(":/demo/").size()));
        QDir().mkpath(QFileInfo(dst).absolutePath());
        QFile::remove(dst);
        if (!QFile::copy(src, dst)) {
            out.error = QObject::tr("cannot write %1").arg(dst);
            return out;
        }
        QFile::setPermissions(dst, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther);
    }
    const QString db = projectPath();
    for (const QString& suffix : {QString(), QStringLiteral("-wal"), QStringLiteral("-shm")}) QFile::remove(db + suffix);

    struct Part {
        const char* file;
        DataFormat format;
        const char* dataset;
    };
    const Part parts[] = {{"mtrace_demo_documents.json", DataFormat::Mtrace, "demo-documents"},
                          {"mtrace_demo_scenes.json", DataFormat::Mtrace, "demo-scenes"},
                          {"prefx_demo.json", DataFormat::Prefx, "demo-prefx"}};
    QStringList summaries;
    for (const Part& part : parts) {
        ImportRequest req;
        req.projectPath = db;
        req.file = QDir(dir).filePath(QString::fromLatin1(part.file));
        req.format = part.format;
        req.dataset = QString::fromLatin1(part.dataset);
        req.imageRoots = {dir};
        JobOutcome o = runImport(req, progress);
        out.rejected += o.rejected;
        if (!o.ok) {
            out.error = o.error.isEmpty() ? o.summary : o.error;
            return out;
        }
        summaries << o.summary;
    }
    auto project = store::Project::open(db.toStdString());
    if (!project) {
        out.error = QString::fromStdString(project.error().to_string());
        return out;
    }
    (void)project->set_image_roots({dir.toStdString()});
    // A few pairs already reviewed, so the progress counter and the status chart show every state.
    store::PairRepo pairs(project->db());
    if (auto list = pairs.list({}, 0, 6); list) {
        // Reason = why the rejected action is worse; the last pair is discarded with a note.
        const char* reasons[] = {"premature answer", "wrong tool", "wrong argument", "hallucinated content",
                                 "ignores image", "format error"};
        for (size_t i = 0; i < list->size(); ++i) {
            const int64_t id = (*list)[i].id;
            if (i + 1 < list->size()) {
                (void)pairs.set_status(id, "approved");
                (void)pairs.set_rejection_reason(id, std::string(reasons[i]));
            } else {
                (void)pairs.set_status(id, "rejected", std::string(reasons[i]));
                (void)pairs.set_note(id, std::string("a bare format error teaches little here; keep the tool-choice pair"));
            }
        }
    }
    // Two GTA step-by-step runs (gold replay and a perturbed copy) so Run Comparison has content at once.
    auto runs = eval::add_demo_eval_runs(db.toStdString(), QDir(dir).filePath(QStringLiteral("gta_demo.json")).toStdString());
    if (!runs) {
        out.error = QString::fromStdString(runs.error().to_string());
        return out;
    }
    summaries << QObject::tr("%1 evaluation runs").arg(runs->size());
    (void)project->set_setting(kVersionKey, std::to_string(kVersion));
    out.ok = true;
    out.summary = QObject::tr("Demo project built: %1").arg(summaries.join(QStringLiteral("; ")));
    return out;
}

}  // namespace matrix::ui
