// RunStepAlignmentModel (see run_step_alignment_model.h).
#include "ui/models/run_step_alignment_model.h"

#include <QBrush>
#include <QColor>

#include "core/eval/gta_metrics.h"
#include "core/eval/py_compat.h"

namespace matrix::ui {

void RunStepAlignmentModel::setTask(const eval::TaskAcrossRuns& task, int baseline) {
    beginResetModel();
    m_task = task;
    m_baseline = baseline >= 0 && size_t(baseline) < task.runs.size() ? baseline : 0;
    endResetModel();
}

int RunStepAlignmentModel::rowCount(const QModelIndex& parent) const {
    if (parent.isValid()) return 0;
    size_t n = m_task.gold.size();
    for (const auto& r : m_task.runs) n = std::max(n, r.steps.size());
    return int(n);
}

int RunStepAlignmentModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : 2 + int(m_task.runs.size());
}

const eval::RunStep* RunStepAlignmentModel::stepAt(int column, int row) const {
    const std::vector<eval::RunStep>* v = nullptr;
    if (column == GoldColumn) v = &m_task.gold;
    else if (column >= 2 && size_t(column - 2) < m_task.runs.size()) v = &m_task.runs[size_t(column - 2)].steps;
    if (!v || row < 0 || size_t(row) >= v->size()) return nullptr;
    return &(*v)[size_t(row)];
}

QString RunStepAlignmentModel::toolCallsText(const eval::RunStep& s) {
    QStringList lines;
    for (const auto& c : s.tool_calls) {
        QStringList args;
        if (c.arguments.is_object()) {
            for (auto it = c.arguments.begin(); it != c.arguments.end(); ++it) {
                QString v = QString::fromStdString(it.value().is_string() ? it.value().dump()
                                                                           : eval::py::str_of(it.value()));
                if (v.size() > 60) v = v.left(57) + "...";
                args << QString::fromStdString(it.key()) + "=" + v;
            }
        }
        lines << QString::fromStdString(c.name) + "(" + args.join(", ") + ")";
    }
    return lines.join('\n');
}

QStringList RunStepAlignmentModel::toolNames(const eval::RunStep& s) {
    QStringList names;
    for (const auto& c : s.tool_calls) {
        // Compare in GTA's vocabulary so "ocr" (agent) and "OCR" (gold) are the same tool.
        const std::string mapped = eval::gta_tool_for_agent_tool(c.name);
        names << QString::fromStdString(mapped.empty() ? c.name : mapped);
    }
    return names;
}

QStringList RunStepAlignmentModel::argumentValues(const eval::RunStep& s) {
    QStringList values;
    for (const auto& c : s.tool_calls) {
        if (c.arguments.is_object()) {
            QStringList one;
            for (auto it = c.arguments.begin(); it != c.arguments.end(); ++it) {
                one << QString::fromStdString(it.value().is_string() ? it.value().get<std::string>()
                                                                      : eval::py::str_of(it.value()));
            }
            one.sort();
            values << one.join(QChar(0x1f));
        } else {
            values << QString::fromStdString(c.arguments.dump());
        }
    }
    return values;
}

const eval::RunStep* RunStepAlignmentModel::referenceFor(int column, int row, bool* beyond) const {
    *beyond = false;
    if (!m_task.gold.empty()) {
        const eval::RunStep* ref = stepAt(GoldColumn, row);
        *beyond = ref == nullptr;  // a step past the end of the gold trajectory
        return ref;
    }
    if (column == runColumn(m_baseline)) return nullptr;
    return stepAt(runColumn(m_baseline), row);
}

RunStepAlignmentModel::Diff RunStepAlignmentModel::diff(int column, int row) const {
    if (column < 2) return Diff::same;
    const eval::RunStep* s = stepAt(column, row);
    if (!s) return Diff::same;
    bool beyond = false;
    const eval::RunStep* ref = referenceFor(column, row, &beyond);
    if (!ref) return beyond ? Diff::tools : Diff::same;
    if (toolNames(*s) != toolNames(*ref)) return Diff::tools;
    if (argumentValues(*s) != argumentValues(*ref)) return Diff::arguments;
    return Diff::same;
}

QString RunStepAlignmentModel::diffText(int column, int row) const {
    const eval::RunStep* s = stepAt(column, row);
    bool beyond = false;
    const eval::RunStep* ref = referenceFor(column, row, &beyond);
    const QString against = m_task.gold.empty() ? tr("the baseline run") : tr("gold");
    switch (diff(column, row)) {
        case Diff::same: return {};
        case Diff::tools:
            if (beyond) return tr("An extra step: the gold trajectory has ended.");
            return tr("Tools differ from %1: %2 instead of %3")
                .arg(against, toolNames(*s).join(", ").isEmpty() ? tr("(none)") : toolNames(*s).join(", "),
                     toolNames(*ref).join(", ").isEmpty() ? tr("(none)") : toolNames(*ref).join(", "));
        case Diff::arguments:
            return tr("Same tools as %1, different arguments:\n%2\nvs\n%3").arg(against, toolCallsText(*s), toolCallsText(*ref));
    }
    return {};
}

QVariant RunStepAlignmentModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid()) return {};
    if (index.column() == StepColumn) {
        if (role == Qt::TextAlignmentRole) return int(Qt::AlignCenter | Qt::AlignTop);
        return role == Qt::DisplayRole ? QVariant(index.row()) : QVariant();
    }
    const eval::RunStep* s = stepAt(index.column(), index.row());
    if (!s) return {};
    if (role == ToolsDifferRole) return diff(index.column(), index.row()) == Diff::tools;
    if (role == DiffRole) return int(diff(index.column(), index.row()));
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
        QString text = toolCallsText(*s);
        const int limit = role == Qt::DisplayRole ? 160 : 4000;
        auto clip = [&](QString t) { return t.size() > limit ? t.left(limit - 3) + "..." : t; };
        if (!s->thought.empty()) text += (text.isEmpty() ? "" : "\n") + clip("Thought: " + QString::fromStdString(s->thought));
        if (!s->observation.empty()) {
            text += (text.isEmpty() ? "" : "\n") + clip((s->is_error ? "Error: " : "-> ") + QString::fromStdString(s->observation));
        }
        if (role == Qt::ToolTipRole) {
            const QString d = diffText(index.column(), index.row());
            if (!d.isEmpty()) text = d + "\n\n" + text;
        }
        return text;
    }
    if (role == Qt::TextAlignmentRole) return int(Qt::AlignLeft | Qt::AlignTop);
    if (role == Qt::ForegroundRole && s->is_error) return QBrush(QColor(170, 0, 0));
    if (role == Qt::BackgroundRole) {
        switch (diff(index.column(), index.row())) {
            case Diff::tools: return QBrush(QColor(255, 214, 153));
            case Diff::arguments: return QBrush(QColor(255, 246, 191));
            case Diff::same: return {};
        }
    }
    return {};
}

QVariant RunStepAlignmentModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    if (section == StepColumn) return tr("Step");
    if (section == GoldColumn) return tr("Gold");
    const size_t run = size_t(section - 2);
    if (run >= m_task.runs.size()) return {};
    const QString l = QString::fromStdString(m_task.runs[run].label);
    return int(run) == m_baseline ? tr("%1 (baseline)").arg(l) : l;
}

}  // namespace matrix::ui
