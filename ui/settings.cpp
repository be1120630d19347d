// Settings over QSettings (see settings.h). Keys are grouped: window/, projects/, images/, agent/, slurm/<dock>/,
// synth/.
#include "ui/settings.h"

#include <QFileInfo>
#include <QSettings>

#include <algorithm>

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

jobs::SlurmOptions Settings::slurmOptions(const QString& dock) const {
    QSettings q;
    q.beginGroup(QStringLiteral("slurm/") + dock);
    jobs::SlurmOptions o;
    o.nodes = std::max(1, q.value("nodes", 1).toInt());
    o.gpus_per_node = std::max(0, q.value("gpus_per_node", 0).toInt());
    o.cpus_per_task = std::max(0, q.value("cpus_per_task", 0).toInt());
    o.time = q.value("time").toString().toStdString();
    o.partition = q.value("partition").toString().toStdString();
    o.account = q.value("account").toString().toStdString();
    return o;
}
void Settings::setSlurmOptions(const QString& dock, const jobs::SlurmOptions& o) {
    QSettings q;
    q.beginGroup(QStringLiteral("slurm/") + dock);
    q.setValue("nodes", o.nodes);
    q.setValue("gpus_per_node", o.gpus_per_node);
    q.setValue("cpus_per_task", o.cpus_per_task);
    q.setValue("time", QString::fromStdString(o.time));
    q.setValue("partition", QString::fromStdString(o.partition));
    q.setValue("account", QString::fromStdString(o.account));
}

QString Settings::synthCaptionModel() const { return QSettings().value("synth/caption_model").toString(); }
void Settings::setSynthCaptionModel(const QString& dir) { QSettings().setValue("synth/caption_model", dir); }
QString Settings::synthEmbeddingsModel() const { return QSettings().value("synth/embeddings_model").toString(); }
void Settings::setSynthEmbeddingsModel(const QString& d) { QSettings().setValue("synth/embeddings_model", d); }

bool Settings::firstStart() const { return !QSettings().contains("projects/last"); }

}  // namespace matrix::ui
