// Settings: the one place the workbench reads and writes QSettings (window layout, last project, recent
// projects, image roots, the agent dialog's controller, the docks' Slurm forms and local models). UI thread only.
#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

#include "core/jobs/job_repo.h"

namespace matrix::ui {

class Settings {
public:
    static constexpr int kMaxRecent = 8;

    QByteArray windowGeometry() const;
    void setWindowGeometry(const QByteArray& g);
    QByteArray windowState() const;
    void setWindowState(const QByteArray& s);

    QString lastProject() const;
    void setLastProject(const QString& path);
    QStringList recentProjects() const;
    // Moves `path` to the front of the recent list (deduplicated, at most kMaxRecent).
    void addRecentProject(const QString& path);
    void clearRecentProjects();

    // Directories searched for images referenced by relative paths (in addition to the project's own).
    QStringList imageRoots() const;
    void setImageRoots(const QStringList& roots);

    bool firstStart() const;

    // The "Run agent" dialog's controller: local model and adapter folders, or an endpoint and its model name.
    QString agentModelDir() const;
    void setAgentModelDir(const QString& dir);
    QString agentAdapterDir() const;
    void setAgentAdapterDir(const QString& dir);
    QString agentEndpointUrl() const;
    void setAgentEndpointUrl(const QString& url);
    QString agentEndpointModel() const;
    void setAgentEndpointModel(const QString& name);  // no project was ever opened

    // A dock's Slurm form (RunAsForm) as last submitted; `dock`: training | sample | synthesis.
    jobs::SlurmOptions slurmOptions(const QString& dock) const;
    void setSlurmOptions(const QString& dock, const jobs::SlurmOptions& options);
    // The Synthesis dock's local models (`matrix synth run --caption-model DIR --embeddings-model DIR`).
    QString synthCaptionModel() const;
    void setSynthCaptionModel(const QString& dir);
    QString synthEmbeddingsModel() const;
    void setSynthEmbeddingsModel(const QString& dirOrName);
};

}  // namespace matrix::ui
