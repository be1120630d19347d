// Rich-text rendering of ToolBadges (see tool_badges.h).
#include "ui/widgets/tool_badges.h"

#include <QHash>

namespace matrix::ui {

ToolBadges::ToolBadges(QWidget* parent) : QLabel(parent) {
    setTextFormat(Qt::RichText);
    setWordWrap(true);
    setTextInteractionFlags(Qt::TextSelectableByMouse);
}

QColor ToolBadges::colorFor(const QString& tool) {
    static const QHash<QString, QColor> colors = {
        {"visualizer", QColor(52, 112, 196)},     {"objectlocation", QColor(200, 110, 0)},
        {"facedetection", QColor(160, 60, 160)},  {"segmentation", QColor(0, 140, 140)},
        {"image_edit", QColor(190, 60, 90)},      {"image_generator", QColor(120, 80, 200)},
        {"ask_search_agent", QColor(40, 140, 60)}, {"inspect_file_as_text", QColor(100, 100, 40)},
        {"ocr", QColor(90, 90, 160)},              {"final_answer", QColor(20, 20, 20)},
    };
    return colors.value(tool, QColor(150, 40, 40));
}

void ToolBadges::setBadges(const QVector<ToolBadge>& badges) {
    m_badges = badges;
    if (badges.isEmpty()) {
        setText(QStringLiteral("<span style='color:#888'>%1</span>").arg(tr("no tool calls")));
        return;
    }
    QString html;
    for (const ToolBadge& b : badges) {
        const QColor c = b.known ? colorFor(b.name) : QColor(150, 40, 40);
        QString args = b.arguments;
        if (args.size() > 60) args = args.left(57) + QStringLiteral("...");
        html += QStringLiteral("<span style='background-color:%1; color:white; font-weight:bold;'>&nbsp;%2%3&nbsp;</span>"
                               "<span style='color:#555'>(%4)</span>&nbsp;&nbsp; ")
                    .arg(c.name(), b.name.toHtmlEscaped(), b.known ? QString() : tr(" ?"), args.toHtmlEscaped());
    }
    setText(html);
    QStringList tips;
    for (const ToolBadge& b : badges)
        tips << QStringLiteral("%1(%2)%3").arg(b.name, b.arguments, b.known ? QString() : tr("  [unknown tool]"));
    setToolTip(tips.join('\n'));
}

}  // namespace matrix::ui
