// Settings over QSettings (see settings.h). Keys are grouped: window/, projects/, images/, agent/.
#include "ui/settings.h"

#include <QFileInfo>
#include <QSettings>

namespace matrix::ui {

QByteArray Settings::windowGeometry() const { return QSettings().value("window/geometry").toByteArray(); }
void Settings::setWindowGeometry(const QByteArray& g) { QSettings().setValue("window/geometry", g); }
QByteArray Settings::windowState() const { return QSettings().value("window/state").toByteArray(); }
void Settings::setWindowState(const QByteArray& s) { QSettings().setValue("window/state", s); }

QString Settings::lastProject() const { return QSettings().value("projects/last").toString(); }
void Settings::setLastProject(const QString& path) { QSettings().setValue("projects/last", path); }

QStringList Settings::recentProjects() const { return QSettings().value("projects/recent").toStringList(); }

void Settings::addRecentProject(const QString& path) {
    const QString abs = QFileInfo(path).absoluteFilePath();
    QStringList list = recentProjects();
    list.removeAll(abs);
    list.prepend(abs);
    while (list.size() > kMaxRecent) list.removeLast();
    QSettings().setValue("projects/recent", list);
}

void Settings::clearRecentProjects() { QSettings().remove("projects/recent"); }

QStringList Settings::imageRoots() const { return QSettings().value("images/roots").toStringList(); }
void Settings::setImageRoots(const QStringList& roots) { QSettings().setValue("images/roots", roots); }

QString Settings::agentModelDir() const { return QSettings().value("agent/model_dir").toString(); }
void Settings::setAgentModelDir(const QString& dir) { QSettings().setValue("agent/model_dir", dir); }
QString Settings::agentAdapterDir() const { return QSettings().value("agent/adapter_dir").toString(); }
void Settings::setAgentAdapterDir(const QString& dir) { QSettings().setValue("agent/adapter_dir", dir); }
QString Settings::agentEndpointUrl() const { return QSettings().value("agent/endpoint_url").toString(); }
void Settings::setAgentEndpointUrl(const QString& url) { QSettings().setValue("agent/endpoint_url", url); }
QString Settings::agentEndpointModel() const { return QSettings().value("agent/endpoint_model").toString(); }
void Settings::setAgentEndpointModel(const QString& name) { QSettings().setValue("agent/endpoint_model", name); }

bool Settings::firstStart() const { return !QSettings().contains("projects/last"); }

}  // namespace matrix::ui
