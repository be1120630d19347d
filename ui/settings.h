// Settings: the one place the workbench reads and writes QSettings (window layout, last project, recent
// projects, image roots, the agent dialog's controller). UI thread only.
#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

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
};

}  // namespace matrix::ui
