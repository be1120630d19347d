// make_demo_project's images (see make_demo.h), drawn with QPainter from the same numbers the observations
// report. Moved out of make_demo.cpp unchanged.
#include <QDir>
#include <QFile>
#include <QFont>
#include <QGuiApplication>
#include <QImage>
#include <QPainter>
#include <QPainterPath>
#include <QTextStream>

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/conversation/action.h"
#include "core/conversation/observation.h"
#include "core/conversation/user_prompt.h"

#include "resources/demo/generator/make_demo.h"

namespace demo {

std::string boxesText(const std::vector<Box>& boxes) {
    std::string s = "[";
    for (size_t i = 0; i < boxes.size(); ++i) {
        const Box& b = boxes[i];
        if (i) s += ", ";
        s += "[" + std::to_string(b.x1) + ", " + std::to_string(b.y1) + ", " + std::to_string(b.x2) + ", " +
             std::to_string(b.y2) + "]";
    }
    return s + "]";
}

QImage canvas(int w, int h, QColor bg = Qt::white) {
    QImage img(w, h, QImage::Format_RGB32);
    img.fill(bg);
    return img;
}

void save(const QImage& img, const QString& name) {
    QDir().mkpath(QFileInfo(g_outDir + "/demo/images/" + name).absolutePath());
    img.save(g_outDir + "/demo/images/" + name, "PNG");
}

QFont font(int px, bool bold = false, const char* family = "DejaVu Sans") {
    QFont f(family);
    f.setPixelSize(px);
    f.setBold(bold);
    return f;
}

// ---------------------------------------------------------------- images

void drawReceipt(const QString& name, const char* shop, const char* address,
                 const std::vector<std::pair<const char*, const char*>>& lines) {
    QImage img = canvas(420, 620, QColor(238, 234, 226));
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(253, 252, 248));
    p.drawRect(30, 20, 360, 580);
    p.setPen(Qt::black);
    p.setFont(font(28, true, "DejaVu Sans Mono"));
    p.drawText(QRect(30, 40, 360, 40), Qt::AlignCenter, shop);
    p.setFont(font(15, false, "DejaVu Sans Mono"));
    p.drawText(QRect(30, 82, 360, 24), Qt::AlignCenter, address);
    int y = 140;
    for (const auto& [left, right] : lines) {
        if (std::string(left) == "-") {
            p.setPen(QPen(Qt::black, 1, Qt::DashLine));
            p.drawLine(50, y - 8, 370, y - 8);
            p.setPen(Qt::black);
            y += 12;
            continue;
        }
        bool strong = std::string(left).rfind("TOTAL", 0) == 0;
        p.setFont(font(strong ? 21 : 18, strong, "DejaVu Sans Mono"));
        p.drawText(QRect(50, y, 320, 30), Qt::AlignLeft | Qt::AlignVCenter, left);
        p.drawText(QRect(50, y, 320, 30), Qt::AlignRight | Qt::AlignVCenter, right);
        y += 36;
    }
    save(img, name);
}

void drawBarChart() {
    QImage img = canvas(640, 480);
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    p.setFont(font(22, true));
    p.drawText(QRect(0, 16, 640, 34), Qt::AlignCenter, "Quarterly sales 2023 (units)");
    const int base = 410, left = 90;
    p.setPen(QPen(Qt::black, 2));
    p.drawLine(left, 70, left, base);
    p.drawLine(left, base, 600, base);
    p.setFont(font(14));
    for (int v = 0; v <= 200; v += 50) {
        int y = base - v * 16 / 10;
        p.drawText(QRect(30, y - 10, 52, 20), Qt::AlignRight | Qt::AlignVCenter, QString::number(v));
        p.setPen(QPen(QColor(220, 220, 220), 1));
        if (v) p.drawLine(left + 1, y, 600, y);
        p.setPen(QPen(Qt::black, 2));
    }
    const char* q[] = {"Q1", "Q2", "Q3", "Q4"};
    const int vals[] = {120, 150, 90, 180};
    for (int i = 0; i < 4; ++i) {
        int x = left + 30 + i * 125, h = vals[i] * 16 / 10;
        p.setPen(Qt::NoPen);
        p.setBrush(QColor(52, 112, 196));
        p.drawRect(x, base - h, 80, h);
        p.setPen(Qt::black);
        p.setFont(font(16, true));
        p.drawText(QRect(x, base - h - 26, 80, 22), Qt::AlignCenter, QString::number(vals[i]));
        p.setFont(font(16));
        p.drawText(QRect(x, base + 8, 80, 22), Qt::AlignCenter, q[i]);
    }
    save(img, "chart_sales.png");
}

void drawPie() {
    QImage img = canvas(640, 480);
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    p.setFont(font(22, true));
    p.drawText(QRect(0, 14, 640, 34), Qt::AlignCenter, "Monthly budget");
    struct Slice {
        const char* label;
        int pct;
        QColor c;
    } slices[] = {{"Rent", 40, QColor(214, 96, 77)},
                  {"Food", 25, QColor(244, 165, 84)},
                  {"Transport", 15, QColor(102, 166, 206)},
                  {"Savings", 20, QColor(96, 178, 110)}};
    QRect r(60, 80, 340, 340);
    int start = 90 * 16;
    int ly = 150;
    for (const auto& s : slices) {
        int span = -s.pct * 360 * 16 / 100;
        p.setPen(QPen(Qt::white, 2));
        p.setBrush(s.c);
        p.drawPie(r, start, span);
        start += span;
        p.setPen(Qt::NoPen);
        p.drawRect(440, ly, 22, 22);
        p.setPen(Qt::black);
        p.setFont(font(18));
        p.drawText(472, ly + 18, QString("%1 %2%").arg(s.label).arg(s.pct));
        ly += 44;
    }
    save(img, "chart_budget.png");
}

void drawLineChart() {
    QImage img = canvas(640, 480);
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    p.setFont(font(22, true));
    p.drawText(QRect(0, 14, 640, 34), Qt::AlignCenter, "Daily high temperature (\u00b0C)");
    const char* days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    const int t[] = {18, 21, 19, 23, 25, 22, 20};
    const int base = 410, left = 80;
    auto yOf = [&](int v) { return base - (v - 10) * 20; };
    p.setPen(QPen(Qt::black, 2));
    p.drawLine(left, 80, left, base);
    p.drawLine(left, base, 610, base);
    p.setFont(font(14));
    for (int v = 10; v <= 26; v += 4) {
        p.drawText(QRect(20, yOf(v) - 10, 52, 20), Qt::AlignRight | Qt::AlignVCenter, QString::number(v));
    }
    QPolygon poly;
    for (int i = 0; i < 7; ++i) poly << QPoint(left + 40 + i * 78, yOf(t[i]));
    p.setPen(QPen(QColor(200, 60, 60), 3));
    p.drawPolyline(poly);
    for (int i = 0; i < 7; ++i) {
        p.setPen(Qt::NoPen);
        p.setBrush(QColor(200, 60, 60));
        p.drawEllipse(poly[i], 6, 6);
        p.setPen(Qt::black);
        p.setFont(font(15, true));
        p.drawText(QRect(poly[i].x() - 20, poly[i].y() - 32, 40, 20), Qt::AlignCenter, QString::number(t[i]));
        p.setFont(font(15));
        p.drawText(QRect(poly[i].x() - 25, base + 8, 50, 20), Qt::AlignCenter, days[i]);
    }
    save(img, "chart_temperature.png");
}

// Red circles and blue squares; returns their boxes.
void drawShapes(std::vector<Box>& circles, std::vector<Box>& squares) {
    QImage img = canvas(640, 480, QColor(245, 245, 240));
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    const int cx[] = {92, 300, 520, 180, 430}, cy[] = {100, 90, 130, 330, 380}, cr[] = {40, 35, 45, 38, 42};
    for (int i = 0; i < 5; ++i) {
        p.setPen(QPen(QColor(120, 20, 20), 2));
        p.setBrush(QColor(220, 50, 47));
        p.drawEllipse(QPoint(cx[i], cy[i]), cr[i], cr[i]);
        circles.push_back({cx[i] - cr[i], cy[i] - cr[i], cx[i] + cr[i], cy[i] + cr[i]});
    }
    const int sx[] = {40, 300, 520}, sy[] = {220, 240, 260}, ss[] = {70, 80, 64};
    for (int i = 0; i < 3; ++i) {
        p.setPen(QPen(QColor(10, 40, 110), 2));
        p.setBrush(QColor(38, 110, 200));
        p.drawRect(sx[i], sy[i], ss[i], ss[i]);
        squares.push_back({sx[i], sy[i], sx[i] + ss[i], sy[i] + ss[i]});
    }
    p.end();
    save(img, "shapes.png");
    // What image_edit returned: the same picture with the squares outlined in yellow.
    QImage edited = img.copy();
    QPainter e(&edited);
    e.setPen(QPen(QColor(255, 210, 0), 6));
    e.setBrush(Qt::NoBrush);
    for (const Box& b : squares) e.drawRect(b.x1 - 6, b.y1 - 6, b.x2 - b.x1 + 12, b.y2 - b.y1 + 12);
    e.end();
    save(edited, "edited/shapes_squares_highlighted.png");
}

std::vector<Box> drawFaces() {
    QImage img = canvas(640, 400, QColor(200, 225, 240));
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    std::vector<Box> boxes;
    const int xs[] = {100, 250, 400, 540}, ys[] = {170, 150, 175, 160}, rs[] = {55, 60, 52, 50};
    const QColor skin[] = {QColor(241, 194, 125), QColor(224, 172, 105), QColor(198, 134, 66), QColor(255, 219, 172)};
    for (int i = 0; i < 4; ++i) {
        p.setPen(Qt::NoPen);
        p.setBrush(QColor(70, 90, 120));
        p.drawRoundedRect(xs[i] - rs[i], ys[i] + rs[i] - 5, rs[i] * 2, 160, 30, 30);  // shoulders
        p.setBrush(skin[i]);
        p.setPen(QPen(QColor(120, 80, 40), 2));
        p.drawEllipse(QPoint(xs[i], ys[i]), rs[i], rs[i] + 8);
        p.setBrush(Qt::black);
        p.drawEllipse(QPoint(xs[i] - rs[i] / 3, ys[i] - 8), 5, 6);
        p.drawEllipse(QPoint(xs[i] + rs[i] / 3, ys[i] - 8), 5, 6);
        p.setBrush(Qt::NoBrush);
        p.drawArc(QRect(xs[i] - 22, ys[i] + 5, 44, 28), 200 * 16, 140 * 16);
        boxes.push_back({xs[i] - rs[i], ys[i] - rs[i] - 8, xs[i] + rs[i], ys[i] + rs[i] + 8});
    }
    save(img, "group_photo.png");
    return boxes;
}

void drawSign(QPainter& p, QRect r, QColor bg, QColor fg, const QStringList& lines, int px) {
    p.setPen(QPen(fg, 4));
    p.setBrush(bg);
    p.drawRoundedRect(r, 10, 10);
    p.setFont(font(px, true));
    p.drawText(r, Qt::AlignCenter, lines.join("\n"));
}

void drawStreetSigns() {
    QImage img = canvas(640, 480, QColor(150, 200, 235));
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(120, 120, 120));
    p.drawRect(308, 60, 24, 420);
    drawSign(p, QRect(120, 80, 400, 80), QColor(0, 110, 60), Qt::white, {"MAIN ST"}, 48);
    drawSign(p, QRect(170, 190, 300, 80), QColor(0, 110, 60), Qt::white, {"5TH AVE"}, 48);
    save(img, "street_signs.png");
}

void drawParkingSign() {
    QImage img = canvas(480, 560, QColor(90, 110, 90));
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(110, 110, 110));
    p.drawRect(228, 400, 24, 160);
    drawSign(p, QRect(90, 40, 300, 360), Qt::white, QColor(200, 20, 20),
             {"NO", "PARKING", "8AM - 6PM", "MON - FRI"}, 40);
    save(img, "parking_sign.png");
}

void drawMenu() {
    QImage img = canvas(640, 480, QColor(40, 44, 40));
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QColor(250, 230, 160));
    p.setFont(font(40, true));
    p.drawText(QRect(0, 20, 640, 60), Qt::AlignCenter, "JOE'S DINER");
    const char* items[][2] = {{"BURGER", "8.50"}, {"FRIES", "3.00"}, {"SODA", "2.25"}, {"SALAD", "6.75"}};
    p.setPen(Qt::white);
    p.setFont(font(32));
    for (int i = 0; i < 4; ++i) {
        QRect r(90, 120 + i * 80, 460, 60);
        p.drawText(r, Qt::AlignLeft | Qt::AlignVCenter, items[i][0]);
        p.drawText(r, Qt::AlignRight | Qt::AlignVCenter, items[i][1]);
    }
    save(img, "menu_board.png");
}

std::vector<Box> drawFruit() {
    QImage img = canvas(640, 480, QColor(250, 240, 225));
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(160, 110, 60));
    p.drawEllipse(QRect(40, 250, 560, 200));  // bowl
    std::vector<Box> apples;
    const int ax[] = {150, 230, 310, 390, 470, 270, 350}, ay[] = {270, 255, 250, 255, 270, 200, 200};
    for (int i = 0; i < 7; ++i) {
        p.setPen(QPen(QColor(110, 10, 10), 2));
        p.setBrush(QColor(200, 30, 40));
        p.drawEllipse(QPoint(ax[i], ay[i]), 42, 40);
        p.setPen(QPen(QColor(90, 60, 20), 4));
        p.drawLine(ax[i], ay[i] - 40, ax[i] + 6, ay[i] - 54);
        apples.push_back({ax[i] - 42, ay[i] - 54, ax[i] + 42, ay[i] + 40});
    }
    p.setPen(QPen(QColor(150, 120, 0), 2));
    p.setBrush(QColor(250, 215, 60));
    QPainterPath banana;
    banana.moveTo(90, 330);
    banana.quadTo(320, 430, 560, 330);
    banana.quadTo(320, 400, 90, 330);
    p.drawPath(banana);
    save(img, "fruit_bowl.png");
    return apples;
}

void drawInvoice() {
    QImage img = canvas(560, 640);
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    p.setFont(font(30, true));
    p.drawText(QRect(40, 30, 480, 44), Qt::AlignLeft, "INVOICE #4471");
    p.setFont(font(16));
    p.drawText(QRect(40, 80, 480, 24), Qt::AlignLeft, "Northwind Supplies Ltd.");
    p.drawText(QRect(40, 104, 480, 24), Qt::AlignLeft, "Due date: 2024-04-30");
    const char* rows[][2] = {{"3 x Widget A @ 12.00", "36.00"},
                             {"2 x Widget B @ 7.50", "15.00"},
                             {"-", ""},
                             {"Subtotal", "51.00"},
                             {"VAT 20%", "10.20"},
                             {"TOTAL DUE", "61.20"}};
    int y = 170;
    for (auto& r : rows) {
        if (std::string(r[0]) == "-") {
            p.drawLine(40, y, 520, y);
            y += 16;
            continue;
        }
        bool strong = std::string(r[0]) == "TOTAL DUE";
        p.setFont(font(strong ? 22 : 19, strong));
        p.drawText(QRect(40, y, 480, 34), Qt::AlignLeft | Qt::AlignVCenter, r[0]);
        p.drawText(QRect(40, y, 480, 34), Qt::AlignRight | Qt::AlignVCenter, r[1]);
        y += 44;
    }
    save(img, "invoice.png");
}

void drawClock() {
    QImage img = canvas(480, 480, QColor(235, 235, 235));
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    QPoint c(240, 240);
    p.setPen(QPen(Qt::black, 8));
    p.setBrush(Qt::white);
    p.drawEllipse(c, 200, 200);
    p.setFont(font(30, true));
    for (int h = 1; h <= 12; ++h) {
        double a = h * M_PI / 6;
        QPoint q(c.x() + int(160 * std::sin(a)), c.y() - int(160 * std::cos(a)));
        p.setPen(Qt::black);
        p.drawText(QRect(q.x() - 25, q.y() - 20, 50, 40), Qt::AlignCenter, QString::number(h));
    }
    // 3:15 -> hour hand at 3.25 h, minute hand at 15 min.
    double ha = 3.25 * M_PI / 6, ma = 15 * M_PI / 30;
    p.setPen(QPen(Qt::black, 12, Qt::SolidLine, Qt::RoundCap));
    p.drawLine(c, QPoint(c.x() + int(95 * std::sin(ha)), c.y() - int(95 * std::cos(ha))));
    p.setPen(QPen(Qt::black, 7, Qt::SolidLine, Qt::RoundCap));
    p.drawLine(c, QPoint(c.x() + int(140 * std::sin(ma)), c.y() - int(140 * std::cos(ma))));
    save(img, "wall_clock.png");
}

std::vector<Box> drawParkingLot() {
    QImage img = canvas(640, 400, QColor(90, 90, 95));
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(Qt::white, 4));
    for (int i = 0; i <= 6; ++i) p.drawLine(20 + i * 100, 60, 20 + i * 100, 300);
    std::vector<Box> cars;
    const int occupied[] = {0, 1, 3, 5};
    const QColor colors[] = {QColor(200, 40, 40), QColor(240, 240, 240), QColor(40, 90, 200), QColor(30, 30, 30)};
    QImage mask = canvas(640, 400, Qt::black);
    QPainter m(&mask);
    for (int k = 0; k < 4; ++k) {
        int x = 20 + occupied[k] * 100 + 15;
        Box b{x, 90, x + 70, 270};
        p.setPen(QPen(Qt::black, 2));
        p.setBrush(colors[k]);
        p.drawRoundedRect(b.x1, b.y1, 70, 180, 16, 16);
        p.setBrush(QColor(120, 170, 210));
        p.drawRect(b.x1 + 10, b.y1 + 30, 50, 30);
        m.setPen(Qt::NoPen);
        m.setBrush(QColor::fromHsv(k * 80, 200, 230));
        m.drawRoundedRect(b.x1, b.y1, 70, 180, 16, 16);
        cars.push_back(b);
    }
    m.end();
    save(img, "parking_lot.png");
    save(mask, "edited/parking_lot_mask.png");
    return cars;
}

void drawKite() {
    QImage img = canvas(512, 512, QColor(160, 205, 250));
    QPainter p(&img);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(70, 160, 70));
    p.drawEllipse(QRect(-200, 360, 900, 400));
    QPolygon kite;
    kite << QPoint(300, 80) << QPoint(360, 160) << QPoint(300, 270) << QPoint(240, 160);
    p.setBrush(QColor(220, 30, 40));
    p.drawPolygon(kite);
    p.setPen(QPen(QColor(60, 60, 60), 2));
    p.drawLine(300, 270, 180, 430);
    save(img, "generated/red_kite.png");
}

void drawScoreTable() {
    QImage img = canvas(560, 400);
    QPainter p(&img);
    p.setFont(font(24, true));
    p.drawText(QRect(0, 16, 560, 36), Qt::AlignCenter, "Math test scores");
    const char* rows[][2] = {{"Student", "Score"}, {"Ana", "88"}, {"Ben", "92"}, {"Chen", "79"}, {"Dara", "95"}};
    for (int i = 0; i < 5; ++i) {
        QRect a(80, 70 + i * 60, 240, 60), b(320, 70 + i * 60, 160, 60);
        p.setPen(QPen(Qt::black, 2));
        p.setBrush(i == 0 ? QColor(220, 228, 240) : QColor(Qt::white));
        p.drawRect(a);
        p.drawRect(b);
        p.setFont(font(22, i == 0));
        p.drawText(a, Qt::AlignCenter, rows[i][0]);
        p.drawText(b, Qt::AlignCenter, rows[i][1]);
    }
    save(img, "score_table.png");
}

}  // namespace demo
