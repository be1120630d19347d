// Regex-based readers for observation text (see observation_parse.h).
#include "ui/widgets/observation_parse.h"

#include <QRegularExpression>

namespace matrix::ui {

QVector<QRectF> parseBoxes(const QString& observation) {
    static const QRegularExpression re(
        QStringLiteral(R"(\[\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*,\s*)"
                       R"((-?\d+(?:\.\d+)?)\s*\])"));
    QVector<QRectF> boxes;
    auto it = re.globalMatch(observation);
    while (it.hasNext()) {
        const auto m = it.next();
        const double x1 = m.captured(1).toDouble(), y1 = m.captured(2).toDouble();
        const double x2 = m.captured(3).toDouble(), y2 = m.captured(4).toDouble();
        if (x2 > x1 && y2 > y1) boxes.push_back(QRectF(QPointF(x1, y1), QPointF(x2, y2)));
    }
    return boxes;
}

QStringList parseImagePaths(const QString& text) {
    static const QRegularExpression re(QStringLiteral(R"(([\w./\\:~-]+\.(?:png|jpe?g|webp|bmp|gif))\b)"),
                                       QRegularExpression::CaseInsensitiveOption);
    QStringList paths;
    auto it = re.globalMatch(text);
    while (it.hasNext()) {
        const QString p = it.next().captured(1);
        if (!paths.contains(p)) paths << p;
    }
    return paths;
}

}  // namespace matrix::ui
