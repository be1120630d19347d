// loadTaskData and image path resolution (see task_data_loader.h).
#include "ui/models/task_data_loader.h"

#include <QDir>
#include <QFileInfo>
#include <nlohmann/json.hpp>

#include "core/formats/media_resolver.h"
#include "core/store/dataset_repo.h"
#include "core/store/media_repo.h"
#include "core/store/pair_repo.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"
#include "ui/widgets/observation_parse.h"

namespace matrix::ui {

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }
QString qs(const std::optional<std::string>& s) { return s ? QString::fromStdString(*s) : QString(); }

bool isBoxTool(const std::string& name) { return name == "objectlocation" || name == "facedetection"; }
}  // namespace

namespace {
formats::MediaResolver resolverFor(const QStringList& roots) {
    std::vector<std::string> r;
    for (const QString& root : roots) r.push_back(root.toStdString());
    return formats::MediaResolver(std::move(r));
}
}  // namespace

QStringList candidatePaths(const QString& path, const QStringList& roots) {
    QStringList out;
    for (const auto& c : resolverFor(roots).locate(path.toStdString()).looked_at) out << qs(c);
    return out;
}

QString resolveImagePath(const QString& path, const QStringList& roots) {
    const auto located = resolverFor(roots).locate(path.toStdString());
    return located.path ? qs(*located.path) : QString();
}

QString formatArguments(const std::string& argumentsJson) {
    nlohmann::ordered_json args = nlohmann::ordered_json::parse(argumentsJson, nullptr, false);  // keep call order
    if (!args.is_object()) return qs(argumentsJson);
    QStringList parts;
    for (auto it = args.begin(); it != args.end(); ++it) {
        QString v;
        if (it->is_object() && it->contains("$expr"))
            v = qs((*it)["$expr"].is_string() ? (*it)["$expr"].get<std::string>() : it->dump());
        else
            v = qs(it->dump());
        parts << (it.key().rfind('$', 0) == 0 ? v : qs(it.key()) + "=" + v);
    }
    return parts.join(", ");
}

QString TrajectoryEntry::label() const {
    QString name;
    if (source == QLatin1String("run"))
        name = status.isEmpty() ? QObject::tr("Run %1").arg(runId) : QObject::tr("Run %1 \u00b7 %2").arg(runId).arg(status);
    else if (source == QLatin1String("mtrace"))
        name = QObject::tr("M-TRACE");
    else if (source == QLatin1String("gold"))
        name = QObject::tr("Gold dialog");
    else if (source == QLatin1String("beam"))
        name = QObject::tr("Step sampling (best path)");
    else if (source == QLatin1String("prefx"))
        name = QObject::tr("Pref-X");
    else
        name = source;
    return steps == 1 ? QObject::tr("%1 \u00b7 1 step").arg(name) : QObject::tr("%1 \u00b7 %2 steps").arg(name).arg(steps);
}

StepData stepData(const store::Step& s) {
    StepData sd;
    sd.index = s.idx;
    sd.action = qs(s.action);
    sd.thought = qs(s.thought);
    sd.code = qs(s.code);
    sd.hasObservation = s.observation.has_value();
    sd.observation = qs(s.observation);
    sd.isError = s.is_error;
    sd.isFinal = s.is_final;
    for (const store::ToolCallRow& c : s.tool_calls) sd.tools.push_back({qs(c.name), formatArguments(c.arguments), c.known});
    return sd;
}

TrajectoryEntry trajectoryEntry(const store::Trajectory& t) {
    TrajectoryEntry e;
    e.id = t.id;
    e.source = qs(t.source);
    e.runId = t.run_id.value_or(0);
    e.steps = t.n_steps;
    if (t.extra) {
        const nlohmann::json extra = nlohmann::json::parse(*t.extra, nullptr, false);
        if (extra.is_object() && extra.contains("status") && extra["status"].is_string()) e.status = qs(extra["status"].get<std::string>());
    }
    return e;
}

TaskData loadTaskData(store::Project& project, qint64 taskId, const QStringList& extraRoots, qint64 trajectoryId) {
    TaskData d;
    auto& db = project.db();
    auto task = store::TaskRepo(db).get(taskId);
    if (!task || !task->has_value()) return d;
    const store::Task& t = **task;
    d.id = t.id;
    d.externalId = qs(t.external_id);
    d.query = qs(t.query);
    d.answer = qs(t.answer);
    d.groundTruth = qs(t.ground_truth);
    d.verdict = qs(t.verdict);
    d.verifierText = qs(t.verifier_text);
    QStringList roots;
    if (auto ds = store::DatasetRepo(db).get(t.dataset_id); ds && ds->has_value()) {
        d.dataset = qs((*ds)->name);
        for (const auto& r : (*ds)->image_roots) roots << qs(r);
    }
    if (auto pr = project.image_roots(); pr)
        for (const auto& r : *pr) roots << qs(r);
    roots << extraRoots;
    roots.removeDuplicates();

    // The task's trajectories; the steps of the one asked for (else the primary one, else the newest run's).
    store::TrajectoryRepo trajectories(db);
    std::optional<store::Trajectory> shown;
    if (auto list = trajectories.list_for_task(taskId); list) {
        for (const store::Trajectory& t : *list) d.trajectories.push_back(trajectoryEntry(t));
        qint64 pick = 0;
        for (const store::Trajectory& t : *list)
            if (t.id == trajectoryId) pick = t.id;
        if (pick == 0 && !list->empty()) pick = list->front().source != "run" ? list->front().id : list->back().id;
        if (pick > 0)
            if (auto t = trajectories.get(pick, true); t && t->has_value()) shown = std::move(**t);
    }
    if (shown) {
        d.trajectoryId = shown->id;
        for (const store::Step& s : shown->steps) d.steps.push_back(stepData(s));
        // A run's answer is its own; a dataset trajectory's fills in a task without one.
        if (shown->source == "run")
            d.answer = qs(shown->final_answer);
        else if (d.answer.isEmpty())
            d.answer = qs(shown->final_answer);
    }

    // Images: the task's own (media rows), then tool outputs from the store and from observations.
    auto media = store::MediaRepo(db).for_task(taskId);
    QStringList seen;
    auto addImage = [&](const QString& label, const QString& path, const std::optional<std::string>& resolved,
                        int step, const QString& error) {
        ViewerImage im;
        im.label = label;
        im.path = path;
        im.step = step;
        im.resolvedPath = resolved && QFileInfo(qs(*resolved)).isFile() ? qs(*resolved) : resolveImagePath(path, roots);
        if (im.resolvedPath.isEmpty()) {
            const QStringList c = candidatePaths(path, roots);
            im.lookedFor = c.isEmpty() ? error : c.join("; ");
        }
        seen << path << QFileInfo(path).fileName();
        d.images.push_back(im);
    };
    if (media) {
        int picture = 0;
        for (const store::TaskMedia& m : *media) {
            if (m.role == "attachment") continue;
            const bool tool = m.role == "tool_output";
            addImage(tool ? QObject::tr("Step %1 output").arg(m.step_index.value_or(0)) : QObject::tr("Picture %1").arg(++picture),
                     qs(m.media.path), m.media.resolved_path, tool ? m.step_index.value_or(0) : -1, qs(m.media.error));
        }
    }
    for (const StepData& s : d.steps) {
        if (s.isError || !s.hasObservation) continue;
        for (const QString& p : parseImagePaths(s.observation)) {
            if (seen.contains(p)) continue;
            addImage(QObject::tr("Step %1 output").arg(s.index), p, std::nullopt, s.index, {});
        }
    }
    // Boxes: observations of objectlocation / facedetection steps, drawn on the image the call named.
    if (shown) {
        for (const store::Step& s : shown->steps) {
            if (s.is_error || !s.observation) continue;
            for (const store::ToolCallRow& c : s.tool_calls) {
                if (!isBoxTool(c.name)) continue;
                const QVector<QRectF> boxes = parseBoxes(qs(*s.observation));
                if (boxes.isEmpty()) continue;
                nlohmann::json args = nlohmann::json::parse(c.arguments, nullptr, false);
                QString target;
                if (args.is_object() && args.contains("image_path") && args["image_path"].is_string())
                    target = QFileInfo(qs(args["image_path"].get<std::string>())).fileName();
                for (ViewerImage& im : d.images) {
                    if (im.step >= 0) continue;
                    if (target.isEmpty() ? d.images.size() == 1 : QFileInfo(im.path).fileName() == target) {
                        im.boxes += boxes;
                        im.stepBoxes[s.idx] += boxes;  // drawn on the step that returned them
                    }
                }
            }
        }
    }
    // Pairs sit on this task (Pref-X linked to it on import), or on a twin task of a pair dataset with the same text.
    QVector<qint64> candidates{taskId};
    if (auto twins = store::TaskRepo(db).pair_dataset_twins(taskId, t.query); twins.ok())
        for (int64_t id : *twins) candidates << id;
    store::PairRepo pairs(db);
    for (qint64 id : candidates) {
        store::PairFilter pf;
        pf.task_id = id;
        if (auto n = pairs.count(pf); n && *n > 0) {
            d.pairCount += int(*n);
            d.pairTaskIds << id;
        }
    }
    // Pairs are for the dataset's trajectory steps, not for an agent run's.
    const bool runShown = shown && shown->source == "run";
    for (qint64 id : runShown ? QVector<qint64>{} : d.pairTaskIds) {
        auto counts = pairs.count_by_step(id);
        if (!counts) break;
        for (const auto& [step, n] : *counts)
            if (step >= 0 && step < d.steps.size()) d.steps[step].pairCount += int(n);
    }
    return d;
}

}  // namespace matrix::ui
