// ToolBadges: the tool calls parsed from a step's code as coloured badges ("objectlocation(object, image_path)"),
// known MATRIX tools in one colour per tool, unknown functions marked, final_answer highlighted. Plain data in.
#pragma once

#include <QLabel>
#include <QString>
#include <QVector>

namespace matrix::ui {

struct ToolBadge {
    QString name;
    QString arguments;  // short, human-readable ("object=\"apple\", image_path=...")
    bool known = true;
};

class ToolBadges : public QLabel {
    Q_OBJECT
public:
    explicit ToolBadges(QWidget* parent = nullptr);
    void setBadges(const QVector<ToolBadge>& badges);
    const QVector<ToolBadge>& badges() const { return m_badges; }
    static QColor colorFor(const QString& tool);

private:
    QVector<ToolBadge> m_badges;
};

}  // namespace matrix::ui
