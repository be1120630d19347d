// Settings: the one place the workbench reads and writes QSettings (window layout, last project, recent
// projects, image roots). UI thread only.
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

    bool firstStart() const;  // no project was ever opened
};

}  // namespace matrix::ui
