// RunStepAlignmentModel (see run_step_alignment_model.h).
#include "ui/models/run_step_alignment_model.h"

#include <QBrush>
#include <QColor>

#include "core/bench/gta_metrics.h"
#include "core/bench/py_compat.h"

namespace matrix::ui {

void RunStepAlignmentModel::setTask(const bench::TaskSideBySide& task) {
    beginResetModel();
    m_task = task;
    endResetModel();
}

int RunStepAlignmentModel::rowCount(const QModelIndex& parent) const {
    if (parent.isValid()) return 0;
    return int(std::max({m_task.gold.size(), m_task.steps_a.size(), m_task.steps_b.size()}));
}

int RunStepAlignmentModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

const bench::RunStep* RunStepAlignmentModel::stepAt(int column, int row) const {
    const std::vector<bench::RunStep>* v = column == GoldColumn ? &m_task.gold
                                           : column == AColumn  ? &m_task.steps_a
                                           : column == BColumn  ? &m_task.steps_b : nullptr;
    if (!v || row < 0 || size_t(row) >= v->size()) return nullptr;
    return &(*v)[size_t(row)];
}

QString RunStepAlignmentModel::toolCallsText(const bench::RunStep& s) {
    QStringList lines;
    for (const auto& c : s.tool_calls) {
        QStringList args;
        if (c.arguments.is_object()) {
            for (auto it = c.arguments.begin(); it != c.arguments.end(); ++it) {
                QString v = QString::fromStdString(it.value().is_string() ? it.value().dump()
                                                                           : bench::py::str_of(it.value()));
                if (v.size() > 60) v = v.left(57) + "...";
                args << QString::fromStdString(it.key()) + "=" + v;
            }
        }
        lines << QString::fromStdString(c.name) + "(" + args.join(", ") + ")";
    }
    return lines.join('\n');
}

QStringList RunStepAlignmentModel::toolNames(const bench::RunStep& s) {
    QStringList names;
    for (const auto& c : s.tool_calls) {
        // Compare in GTA's vocabulary so "ocr" (agent) and "OCR" (gold) are the same tool.
        const std::string mapped = bench::gta_tool_for_agent_tool(c.name);
        names << QString::fromStdString(mapped.empty() ? c.name : mapped);
    }
    return names;
}

bool RunStepAlignmentModel::differs(int column, int row) const {
    if (column != AColumn && column != BColumn) return false;
    const bench::RunStep* s = stepAt(column, row);
    if (!s) return false;
    const bench::RunStep* ref = !m_task.gold.empty() ? stepAt(GoldColumn, row)
                                                     : stepAt(column == AColumn ? BColumn : AColumn, row);
    if (!ref) return !m_task.gold.empty();  // a step beyond the gold trajectory
    return toolNames(*s) != toolNames(*ref);
}

QVariant RunStepAlignmentModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid()) return {};
    if (index.column() == StepColumn) {
        if (role == Qt::TextAlignmentRole) return int(Qt::AlignCenter | Qt::AlignTop);
        return role == Qt::DisplayRole ? QVariant(index.row()) : QVariant();
    }
    const bench::RunStep* s = stepAt(index.column(), index.row());
    if (!s) return {};
    if (role == ToolsDifferRole) return differs(index.column(), index.row());
    if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
        QString text = toolCallsText(*s);
        const int limit = role == Qt::DisplayRole ? 160 : 4000;
        auto clip = [&](QString t) { return t.size() > limit ? t.left(limit - 3) + "..." : t; };
        if (!s->thought.empty()) text += (text.isEmpty() ? "" : "\n") + clip("Thought: " + QString::fromStdString(s->thought));
        if (!s->observation.empty()) {
            text += (text.isEmpty() ? "" : "\n") + clip((s->is_error ? "Error: " : "-> ") + QString::fromStdString(s->observation));
        }
        return text;
    }
    if (role == Qt::TextAlignmentRole) return int(Qt::AlignLeft | Qt::AlignTop);
    if (role == Qt::ForegroundRole && s->is_error) return QBrush(QColor(170, 0, 0));
    if (role == Qt::BackgroundRole && differs(index.column(), index.row())) return QBrush(QColor(255, 236, 179));
    return {};
}

QVariant RunStepAlignmentModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case StepColumn: return tr("Step");
        case GoldColumn: return tr("Gold");
        case AColumn: return tr("Run A");
        case BColumn: return tr("Run B");
    }
    return {};
}

}  // namespace matrix::ui
