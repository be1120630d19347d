// make_demo_project: renders the demo project's images with QPainter and writes its M-TRACE and Pref-X files.
// Everything an observation says about an image (text read, boxes [x1,y1,x2,y2], counts) is computed from the
// same numbers the image is drawn from, so the trajectories are consistent with what the viewer shows.
// Output is deterministic; the results are committed under resources/demo/ (run it again after editing).
// Actions, observation and error turns and task turns are written by core/conversation, like the agent's.
// Usage: make_demo_project <resources-dir>   (with QT_QPA_PLATFORM=offscreen on a headless machine)
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

namespace conversation = matrix::conversation;
using ojson = nlohmann::ordered_json;

namespace {

const char* kImgPrefix = "data/matrix-demo/images/";     // as in the <img> tags and `image` field
const char* kAttachPrefix = "data/demo-agent/images/";   // as in "Attachment:" (differs, like the real data)
QString g_outDir;

struct Box {
    int x1, y1, x2, y2;
};

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

// ---------------------------------------------------------------- trajectories

struct Step {
    std::string thought;
    std::string code;
    std::string observation;  // printed output (or error message when error)
    bool error = false;
    bool rawAction = false;  // `thought` is the whole assistant turn (a format error: no Code block)
};

struct Rejected {
    int step;
    std::string action;  // full assistant text (Thought/Code)
    std::string observation;
};

struct Task {
    std::string id;
    std::string dataset;  // which M-TRACE file
    std::vector<std::string> images;  // file names under images/
    std::string task;
    std::vector<Step> steps;  // last one calls final_answer
    std::string answer;
    std::string correct;  // yes / no / unknown
    std::string verification;
    std::vector<Rejected> rejected;
};

std::string img(const std::string& name) { return std::string(kImgPrefix) + name; }
std::string att(const std::string& name) { return std::string(kAttachPrefix) + name; }

std::string actionText(const Step& s) {
    if (s.rawAction) return s.thought;
    return conversation::render_action(s.thought, s.code);
}
std::string action(const std::string& thought, const std::string& code) {
    return conversation::render_action(thought, code);
}
// Pref-X's form of an action.
std::string prefxAction(const std::string& action) { return action + std::string(conversation::k_end_action); }

// What the agent printed ends with a newline (print's); an error turn is the runtime's.
std::string observationTurn(int k, const Step& s) {
    if (s.error) return conversation::render_error_turn(k, s.observation);
    return conversation::render_observation(k, s.observation + "\n");
}

std::string verification(const std::string& thought, const std::string& correct) {
    return "```json\n{\n\"thought\": \"" + thought + "\",\n\"correct\": \"" + correct + "\"\n}\n```";
}

// The missing-fence parsing error as M-TRACE has it, without parsing_error's ". Make sure to provide correct
// code" tail (the committed demo files were made so).
const std::string kParseError = std::string(conversation::k_parsing_error_prefix) +
                                conversation::code_blob_error("'NoneType' object has no attribute 'group'");

std::vector<Task> buildTasks(const std::vector<Box>& circles, const std::vector<Box>& squares,
                             const std::vector<Box>& faces, const std::vector<Box>& apples,
                             const std::vector<Box>& cars) {
    std::vector<Task> t;
    const std::string R1 = "receipt_cafe.png", R2 = "receipt_market.png";

    t.push_back({"dm7Qa2Lx", "documents", {R1}, "What is the total amount paid on this receipt, including tax?",
                 {{"I will use the `visualizer` tool to read the receipt and find the total amount, including tax.",
                   "total = visualizer(question=\"What is the total amount on this receipt, including tax?\", "
                   "image_path=\"" + att(R1) + "\")\nprint(total)",
                   "The receipt from CAFE LUNA lists Espresso 3.20, Croissant 2.80 and Orange Juice 4.50. The "
                   "subtotal is 10.50, tax is 0.84 and the TOTAL is 11.34."},
                  {"The receipt's total including tax is 11.34. I will return it as the final answer.",
                   "final_answer(\"11.34\")", ""}},
                 "11.34", "yes",
                 verification("The agent read the total of 11.34 from the receipt with the visualizer tool, which "
                              "matches the subtotal 10.50 plus tax 0.84. The answer is correct.", "yes"),
                 {{0, action("The receipt total is probably the sum of the items.", "final_answer(\"10.50\")"),
                   "10.50"},
                  {0, action("I will locate the total on the receipt.",
                             "boxes = objectlocation(object=\"total\", image_path=\"" + att(R1) + "\")\nprint(boxes)"),
                   "[]"}}});

    t.push_back({"mK4v9TzR", "documents", {R1, R2}, "How much did I spend in total across these two receipts?",
                 {{"I need the total of each receipt. I will read the first receipt with the `visualizer` tool.",
                   "total_1 = visualizer(question=\"What is the total on this receipt?\", image_path=\"" + att(R1) +
                       "\")\nprint(total_1)",
                   "The TOTAL on the CAFE LUNA receipt is 11.34 (subtotal 10.50 plus tax 0.84)."},
                  {"The first receipt totals 11.34. Now I will read the second receipt.",
                   "total_2 = visualizer(question=\"What is the total on this receipt?\", image_path=\"" + att(R2) +
                       "\")\nprint(total_2)",
                   "The GREEN MARKET receipt lists Apples 1kg 3.40, Bread 2.10, Milk 2L 1.90 and Eggs x12 3.60, "
                   "with a TOTAL of 11.00."},
                  {"I will add the two totals.", "combined = 11.34 + 11.00\nprint(round(combined, 2))", "22.34"},
                  {"The two receipts add up to 22.34.", "final_answer(\"22.34\")", ""}},
                 "22.34", "yes",
                 verification("Both receipt totals (11.34 and 11.00) were read correctly and summed to 22.34.",
                              "yes"),
                 {{2, action("I will add the two totals.", "combined = 11.34 + 10.50\nprint(combined)"), "21.84"},
                  {1, action("The second receipt is probably similar to the first, so I will assume 11.34.",
                             "total_2 = 11.34\nprint(total_2)"),
                   "11.34"}}});

    t.push_back({"ch8Ws1Pe", "documents", {"chart_sales.png"},
                 "Which quarter had the highest sales in this chart, and by how many units did it exceed the lowest "
                 "quarter?",
                 {{"I will ask the `visualizer` tool for the value of every bar in the chart.",
                   "values = visualizer(question=\"What are the sales values for each quarter in this bar chart?\", "
                   "image_path=\"" + att("chart_sales.png") + "\")\nprint(values)",
                   "The bar chart 'Quarterly sales 2023 (units)' shows Q1: 120, Q2: 150, Q3: 90 and Q4: 180 units."},
                  {"Now I will find the highest and lowest quarters and their difference.",
                   "sales = {\"Q1\": 120, \"Q2\": 150, \"Q3\": 90, \"Q4\": 180}\nbest = max(sales, key=sales.get)\n"
                   "worst = min(sales, key=sales.get)\nprint(best, worst, sales[best] - sales[worst])",
                   "Q4 Q3 90"},
                  {"Q4 is the highest quarter and exceeds Q3, the lowest, by 90 units.",
                   "final_answer(\"Q4, exceeding the lowest quarter (Q3) by 90 units\")", ""}},
                 "Q4, exceeding the lowest quarter (Q3) by 90 units", "yes",
                 verification("The values read from the chart are right and the difference 180 - 90 = 90 is "
                              "correct.", "yes"),
                 {{0, action("I will search the web for the quarterly sales.",
                             "result = ask_search_agent(query=\"What were the quarterly sales in 2023?\")\n"
                             "print(result)"),
                   "I could not find a single answer: quarterly sales figures for 2023 depend on the company."},
                  {0, "Thought: The tallest bar is Q4, so Q4 had the highest sales. It exceeds Q1 by 60 units.",
                   "Error in code parsing: no code block"},
                  {1, action("Now I will compute the difference.",
                             "print(\"Q4\", 180 - 120)"),
                   "Q4 60"}}});

    t.push_back({"bd3Nc7Yq", "documents", {"chart_budget.png"},
                 "My monthly income is $3,000. Using the budget pie chart, how much do I put into savings each month?",
                 {{"I will read the share of each category from the pie chart with the `visualizer` tool.",
                   "shares = visualizer(question=\"What percentage does each category have in this pie chart?\", "
                   "image_path=\"" + att("chart_budget.png") + "\")\nprint(shares)",
                   "The 'Monthly budget' pie chart shows Rent 40%, Food 25%, Transport 15% and Savings 20%."},
                  {"Savings is 20% of the income. I will compute 20% of 3000.",
                   "savings = 3000 * 0.20\nprint(savings)", "600.0"},
                  {"20% of $3,000 is $600.", "final_answer(\"$600\")", ""}},
                 "$600", "yes",
                 verification("The savings share of 20% was read correctly from the chart; 20% of 3000 is 600.",
                              "yes"),
                 {{1, action("Savings look like a quarter of the pie.", "savings = 3000 * 0.25\nprint(savings)"),
                   "750.0"},
                  {1, action("I will compute the savings.", "savings = 3000 * 20\nprint(savings)"), "60000"}}});

    t.push_back({"tp5Hs0Vb", "documents", {"chart_temperature.png"},
                 "What is the average daily high temperature over the week shown in this chart?",
                 {{"I will read the seven daily values from the line chart.",
                   "temps = visualizer(question=\"What is the temperature for each day in this line chart?\", "
                   "image_path=\"" + att("chart_temperature.png") + "\")\nprint(temps)",
                   "The chart 'Daily high temperature (\u00b0C)' shows Mon 18, Tue 21, Wed 19, Thu 23, Fri 25, "
                   "Sat 22, Sun 20."},
                  {"I will compute the mean of the seven values.",
                   "import statistics\nvalues = [18, 21, 19, 23, 25, 22, 20]\nprint(statistics.mean(values))",
                   "21.142857142857142"},
                  {"The weekly average is about 21.1 \u00b0C.", "final_answer(\"21.1 \u00b0C\")", ""}},
                 "21.1 \u00b0C", "yes",
                 verification("The agent read all seven values and averaged them correctly (148 / 7 = 21.14).",
                              "yes"),
                 {{1, action("I will average the hottest and coldest days.", "print((18 + 25) / 2)"), "21.5"}}});

    t.push_back({"sh2Rc6Ku", "scenes", {"shapes.png"}, "How many red circles are in the image?",
                 {{"I will use `objectlocation` to find all red circles in the image.",
                   "boxes = objectlocation(object=\"red circle\", image_path=\"" + att("shapes.png") +
                       "\")\nprint(boxes)",
                   boxesText(circles)},
                  {"I will count the bounding boxes.", "print(len(boxes))", std::to_string(circles.size())},
                  {"There are 5 red circles.", "final_answer(5)", ""}},
                 "5", "yes",
                 verification("The detector found 5 red circles, which matches the image.", "yes"),
                 {{0, action("I will detect the circles as faces.",
                             "boxes = facedetection(image_path=\"" + att("shapes.png") + "\")\nprint(boxes)"),
                   "[]"},
                  {0, action("I will locate the circles.",
                             "boxes = objectlocation(object=\"red circle\", image_path=\"shapes.jpg\")\nprint(boxes)"),
                   "FileNotFoundError: [Errno 2] No such file or directory: 'shapes.jpg'"},
                  {1, action("I will count the shapes.", "print(len(boxes) + 3)"), "8"}}});

    t.push_back({"hl9Bq3Zd", "scenes", {"shapes.png"},
                 "Highlight the blue squares in this image with a yellow outline and tell me how many there are.",
                 {{"First I will locate the blue squares with `objectlocation`.",
                   "squares = objectlocation(object=\"blue square\", image_path=\"" + att("shapes.png") +
                       "\")\nprint(squares)",
                   boxesText(squares)},
                  {"There are 3 blue squares. I will ask `image_edit` to outline them in yellow.",
                   "edited = image_edit(prompt=\"Draw a thick yellow outline around each blue square at " +
                       boxesText(squares) + "\", image_path=\"" + att("shapes.png") + "\")\nprint(edited)",
                   img("edited/shapes_squares_highlighted.png")},
                  {"The squares are highlighted; I will report the count and the edited image.",
                   "final_answer(\"There are 3 blue squares; the highlighted image is " +
                       img("edited/shapes_squares_highlighted.png") + "\")",
                   ""}},
                 "There are 3 blue squares; the highlighted image is " + img("edited/shapes_squares_highlighted.png"),
                 "yes",
                 verification("The agent located the 3 blue squares and edited the image as asked.", "yes"),
                 {{1, action("I will generate a new picture with highlighted squares.",
                             "path = image_generator(prompt=\"three blue squares with yellow outlines\")\nprint(path)"),
                   img("generated/squares_0193.png")}}});

    t.push_back({"fc6Tn8Jw", "scenes", {"group_photo.png"}, "How many people are in this photo?",
                 {{"I will detect the faces in the photo with `facedetection`.",
                   "faces = facedetection(image_path=\"" + att("group_photo.png") + "\")\nprint(faces)",
                   boxesText(faces)},
                  {"Four faces were detected, so there are 4 people.", "final_answer(4)", ""}},
                 "4", "yes", verification("Four faces were detected, matching the four people in the image.", "yes"),
                 {{0, action("I will ask the search agent.",
                             "print(ask_search_agent(query=\"How many people are in a typical group photo?\"))"),
                   "Group photos usually have between 3 and 10 people."},
                  {1, action("Four faces were detected.", "final_answer(5)"), "5"}}});

    t.push_back({"st1Gx4Mo", "scenes", {"street_signs.png"}, "Which two streets meet at this corner?",
                 {{"I will read the street signs with the `visualizer` tool.",
                   "signs = visualizer(question=\"What do the street signs say?\", image_path=\"" +
                       att("street_signs.png") + "\")\nprint(signs)",
                   "There are two green street signs on the pole. The upper one reads 'MAIN ST' and the lower one "
                   "reads '5TH AVE'."},
                  {"The corner is where Main St meets 5th Ave.", "final_answer(\"Main St and 5th Ave\")", ""}},
                 "Main St and 5th Ave", "yes", verification("Both sign texts were read correctly.", "yes"),
                 {{1, action("The signs name the streets.", "final_answer(\"Main St and Broadway\")"),
                   "Main St and Broadway"}}});

    t.push_back({"pk7Lr2Ea", "scenes", {"parking_sign.png"}, "Can I park here on Saturday at 10am?",
                 {{"I will read the parking sign with the `visualizer` tool.",
                   "rules = visualizer(question=\"What does this parking sign say?\", image_path=\"" +
                       att("parking_sign.png") + "\")\nprint(rules)",
                   "The sign reads 'NO PARKING 8AM - 6PM MON - FRI' in red letters on a white background."},
                  {"The restriction applies Monday to Friday only, so parking on Saturday at 10am is allowed.",
                   "final_answer(\"Yes. The sign forbids parking only Monday to Friday, 8 AM to 6 PM.\")", ""}},
                 "Yes. The sign forbids parking only Monday to Friday, 8 AM to 6 PM.", "yes",
                 verification("The sign text was read correctly and the reasoning about Saturday is right.", "yes"),
                 {{1, action("It is a no-parking sign.", "final_answer(\"No, parking is not allowed here.\")"),
                   "No, parking is not allowed here."}}});

    t.push_back({"mn4Dq9Sc", "documents", {"menu_board.png"}, "How much would two burgers and a soda cost?",
                 {{"I will read the prices from the menu board with the `visualizer` tool.",
                   "menu = visualizer(question=\"What items and prices are on this menu?\", image_path=\"" +
                       att("menu_board.png") + "\")\nprint(menu)",
                   "JOE'S DINER menu: BURGER 8.50, FRIES 3.00, SODA 2.25, SALAD 6.75."},
                  {"Two burgers at 8.50 and one soda at 2.25.", "cost = 2 * 8.50 + 2.25\nprint(cost)", "19.25"},
                  {"The order costs 19.25.", "final_answer(\"$19.25\")", ""}},
                 "$19.25", "yes", verification("Prices read correctly; 2 x 8.50 + 2.25 = 19.25.", "yes"),
                 {{1, action("Two burgers and a soda.", "cost = 8.50 + 2.25\nprint(cost)"), "10.75"},
                  {1, action("Burgers usually cost about 10 dollars.", "cost = 2 * 10 + 2.25\nprint(cost)"),
                   "22.25"}}});

    {
        std::vector<Box> seen(apples.begin(), apples.end() - 1);  // the detector misses the back-right apple
        t.push_back({"fr0Yb5Hn", "scenes", {"fruit_bowl.png"}, "How many apples are in the bowl?",
                     {{"I will locate the apples with `objectlocation`.",
                       "apples = objectlocation(object=\"apple\", image_path=\"" + att("fruit_bowl.png") +
                           "\")\nprint(apples)",
                       boxesText(seen)},
                      {"I will count the detected apples.", "print(len(apples))", std::to_string(seen.size())},
                      {"There are 6 apples in the bowl.", "final_answer(6)", ""}},
                     "6", "no",
                     verification("The image shows 7 apples (two in the back row); the detector missed one, so the "
                                  "answer 6 conflicts with the image content.", "no"),
                     {{2, action("The detector may miss overlapping apples; I will check with the visualizer.",
                                 "print(visualizer(question=\"How many apples are in the bowl?\", image_path=\"" +
                                     att("fruit_bowl.png") + "\"))"),
                       "There are 7 red apples in the bowl: five in the front row and two behind them."}}});
    }

    t.push_back({"iv2Kp7Wf", "documents", {"invoice.png"}, "When is this invoice due and what is the total due?",
                 {{"I will read the invoice file as text.",
                   "text = inspect_file_as_text(file_path=\"" + att("invoice.png") +
                       "\", question=\"What is the due date and total due?\")\nprint(text)",
                   conversation::execution_error("UnsupportedFormatException: Could not convert '" + att("invoice.png") +
                                         "' to Markdown. The formats ['.png'] are not supported."),
                   true},
                  {"`inspect_file_as_text` does not handle images. I will use the `visualizer` tool instead.",
                   "info = visualizer(question=\"What is the due date and the total due on this invoice?\", "
                   "image_path=\"" + att("invoice.png") + "\")\nprint(info)",
                   "INVOICE #4471 from Northwind Supplies Ltd. Due date: 2024-04-30. 3 x Widget A @ 12.00 = 36.00, "
                   "2 x Widget B @ 7.50 = 15.00, Subtotal 51.00, VAT 20% 10.20, TOTAL DUE 61.20."},
                  {"The invoice is due on 2024-04-30 with a total of 61.20.",
                   "final_answer(\"Due 2024-04-30; total due 61.20\")", ""}},
                 "Due 2024-04-30; total due 61.20", "yes",
                 verification("After an error with the wrong tool the agent read the date and total correctly.",
                              "yes"),
                 {{0, action("I will read the invoice with the visualizer.",
                             "info = visualizer(question=\"What is the due date and the total due on this invoice?\", "
                             "image_path=\"" + att("invoice.png") + "\")\nprint(info)"),
                   "INVOICE #4471 ... Due date: 2024-04-30 ... TOTAL DUE 61.20."}}});

    t.push_back({"mk5Vt1Jr", "scenes", {"street_market.jpg"},
                 "What fruit is the vendor at the middle stall selling?",
                 {{"I will ask the `visualizer` tool about the middle stall.",
                   "fruit = visualizer(question=\"What fruit is sold at the middle stall?\", image_path=\"" +
                       att("street_market.jpg") + "\")\nprint(fruit)",
                   "The middle stall has crates piled high with oranges; a hand-written sign above them reads "
                   "'2 for 1'."},
                  {"The middle stall sells oranges.", "final_answer(\"Oranges\")", ""}},
                 "Oranges", "unknown",
                 verification("The image could not be checked, so the verdict is unknown.", "unknown"),
                 {}});

    t.push_back({"rn8Cz3Xa", "documents", {},
                 "I ran 5 km on Monday, 7.5 km on Wednesday and 10 km on Saturday. What is my weekly total, and my "
                 "average per day over the 7-day week?",
                 {{"I will add the distances and divide by 7.",
                   "total = 5 + 7.5 + 10\naverage = total / 7\nprint(\"Total:\", total, \"Average:\", round(average, 2))",
                   "Total: 22.5 Average: 3.21"},
                  {"The total is 22.5 km and the daily average is 3.21 km.",
                   "final_answer(\"Total 22.5 km; average 3.21 km per day\")", ""}},
                 "Total 22.5 km; average 3.21 km per day", "yes",
                 verification("The arithmetic is correct.", "yes"),
                 {{0, action("I will average over the three running days.",
                             "print((5 + 7.5 + 10) / 3)"),
                   "7.5"}}});

    t.push_back({"bp3Ue6Ks", "documents", {},
                 "What is the boiling point of water at sea level in Fahrenheit, and what is it in Kelvin?",
                 {{"I will ask the search agent for the boiling point of water at sea level.",
                   "info = ask_search_agent(query=\"What is the boiling point of water at sea level in Celsius and "
                   "Fahrenheit?\")\nprint(info)",
                   "At sea level (1 atm) water boils at 100 \u00b0C, which is 212 \u00b0F."},
                  {"I will convert 100 \u00b0C to Kelvin.", "print(100 + 273.15)", "373.15"},
                  {"Water boils at 212 \u00b0F, which is 373.15 K.",
                   "final_answer(\"212 \u00b0F, or 373.15 K\")", ""}},
                 "212 \u00b0F, or 373.15 K", "yes", verification("Both values are correct.", "yes"),
                 {{1, action("I will convert to Kelvin.", "print(212 + 273.15)"), "485.15"}}});

    t.push_back({"ck4Wm0Gt", "scenes", {"wall_clock.png"},
                 "What time does this clock show, and how many minutes are left until 4 o'clock?",
                 {{"Thought: The clock seems to show a quarter past three, so 45 minutes are left.", "", kParseError,
                   true, true},
                  {"I must use a code block. I will read the clock with the `visualizer` tool.",
                   "time_shown = visualizer(question=\"What time does this clock show?\", image_path=\"" +
                       att("wall_clock.png") + "\")\nprint(time_shown)",
                   "The analog wall clock shows 3:15: the minute hand points at 3 and the hour hand is just past 3."},
                  {"From 3:15 to 4:00 there are 45 minutes.", "print(60 - 15)", "45"},
                  {"The clock shows 3:15 and 45 minutes remain until 4:00.",
                   "final_answer(\"3:15; 45 minutes until 4 o'clock\")", ""}},
                 "3:15; 45 minutes until 4 o'clock", "yes",
                 verification("After a format error the agent read the time correctly and computed 45 minutes.",
                              "yes"),
                 {{1, action("I will ask about the clock.",
                             "print(visualizer(question=\"What time is it now?\", image_path=\"clock.png\"))"),
                   "FileNotFoundError: [Errno 2] No such file or directory: 'clock.png'"}}});

    t.push_back({"pl6Ay2Qv", "scenes", {"parking_lot.png"},
                 "How many cars are parked, and how many of the 6 spots are still free? Also give me a segmentation "
                 "mask of the cars.",
                 {{"I will locate the cars with `objectlocation`.",
                   "cars = objectlocation(object=\"car\", image_path=\"" + att("parking_lot.png") + "\")\nprint(cars)",
                   boxesText(cars)},
                  {"Four cars were found. I will segment them using their boxes.",
                   "mask = segmentation(image_path=\"" + att("parking_lot.png") + "\", prompt=cars)\nprint(mask)",
                   img("edited/parking_lot_mask.png")},
                  {"4 cars occupy 4 of the 6 spots, leaving 2 free.",
                   "final_answer(\"4 cars are parked and 2 spots are free; mask: " + img("edited/parking_lot_mask.png") +
                       "\")",
                   ""}},
                 "4 cars are parked and 2 spots are free; mask: " + img("edited/parking_lot_mask.png"), "yes",
                 verification("Four cars and two free spots match the image; the mask was produced.", "yes"),
                 {{1, action("Four cars were found.", "final_answer(\"4 cars, 2 free spots\")"),
                   "4 cars, 2 free spots"}}});

    t.push_back({"kt9Ho4Fe", "scenes", {},
                 "Generate an image of a red kite flying over a green hill and give me the file path.",
                 {{"I will use `image_generator` with a descriptive prompt.",
                   "path = image_generator(prompt=\"A red diamond-shaped kite flying in a clear blue sky over a "
                   "green hill, simple flat illustration\")\nprint(path)",
                   img("generated/red_kite.png")},
                  {"The image was generated.", "final_answer(\"" + img("generated/red_kite.png") + "\")", ""}},
                 img("generated/red_kite.png"), "yes", verification("The image was generated as requested.", "yes"),
                 {}});

    t.push_back({"sc1Jd8Np", "documents", {"score_table.png"},
                 "Who scored highest on the math test, and what is the class average?",
                 {{"I will read the table with the `visualizer` tool.",
                   "table = visualizer(question=\"List every student and score in this table.\", image_path=\"" +
                       att("score_table.png") + "\")\nprint(table)",
                   "Math test scores: Ana 88, Ben 92, Chen 79, Dara 95."},
                  {"I will find the top scorer and the average.",
                   "scores = {\"Ana\": 88, \"Ben\": 92, \"Chen\": 79, \"Dara\": 95}\n"
                   "top = max(scores, key=scores.get)\nprint(top, sum(scores.values()) / len(scores))",
                   "Dara 88.5"},
                  {"Dara scored highest; the average is 88.5.",
                   "final_answer(\"Dara (95); class average 88.5\")", ""}},
                 "Dara (95); class average 88.5", "yes", verification("Correct top scorer and average.", "yes"),
                 {{1, action("I will compute the average of the scores.",
                             "scores = [88, 92, 79, 95]\nprint(max(scores), sum(scores) / 3)"),
                   "95 118.0"},
                  {2, action("The top scorer is Ben.", "final_answer(\"Ben (92); class average 88.5\")"),
                   "Ben (92); class average 88.5"}}});
    return t;
}

std::string firstUserTurn(const Task& t) {
    std::string s;
    for (size_t i = 0; i < t.images.size(); ++i)
        s += "Picture " + std::to_string(i + 1) + ": <img>" + img(t.images[i]) + "</img>\n";
    s += conversation::task_turn(t.task) + "\n";
    if (!t.images.empty()) {
        s += "Attachment: ";
        for (const auto& i : t.images) s += att(i) + "; ";
    }
    return s;
}

ojson mtraceRecord(const Task& t, const std::string& system) {
    ojson r;
    r["id"] = t.id;
    if (t.images.empty())
        r["image"] = ojson::object();
    else if (t.images.size() == 1)
        r["image"] = img(t.images[0]);
    else {
        ojson o = ojson::object();
        for (size_t i = 0; i < t.images.size(); ++i) {
            char key[32];
            std::snprintf(key, sizeof key, "<image_%02zu>", i);
            o[key] = img(t.images[i]);
        }
        r["image"] = o;
    }
    r["correct"] = t.correct;
    r["answer"] = t.answer;
    ojson conv = ojson::array();
    conv.push_back({{"from", "system"}, {"value", system}});
    conv.push_back({{"from", "user"}, {"value", firstUserTurn(t)}});
    for (size_t k = 0; k < t.steps.size(); ++k) {
        conv.push_back({{"from", "assistant"}, {"value", actionText(t.steps[k])}});
        if (k + 1 < t.steps.size())
            conv.push_back({{"from", "user"}, {"value", observationTurn(int(k), t.steps[k])}});
    }
    r["conversations"] = conv;
    r["traj_verification"] = t.verification;
    return r;
}

std::string stepObservation(const Task& t, size_t k) {
    const Step& s = t.steps[k];
    if (k + 1 == t.steps.size()) return t.answer;  // final_answer's output
    return s.observation;
}

ojson prefxRecord(const Task& t, const Rejected& rej, const std::string& system) {
    ojson r;
    ojson images = ojson::array();
    for (const auto& i : t.images) images.push_back(img(i));
    r["images"] = images;
    r["system"] = system;
    std::string task = conversation::task_turn(t.task) + "\n";
    if (!t.images.empty()) {
        task += " Attachment: ";
        for (const auto& i : t.images) task += att(i) + "; ";
    }
    const std::string first = conversation::prefx_task_turn(t.images.size(), task);
    ojson conv = ojson::array();
    conv.push_back({{"from", "human"}, {"value", first}});
    for (int k = 0; k < rej.step; ++k) {
        conv.push_back({{"from", "gpt"}, {"value", prefxAction(actionText(t.steps[size_t(k)]))}});
        conv.push_back({{"from", "human"}, {"value", observationTurn(k, t.steps[size_t(k)])}});
    }
    r["conversations"] = conv;
    r["chosen"] = {{"from", "gpt"},
                   {"value", prefxAction(actionText(t.steps[size_t(rej.step)]))},
                   {"observation", stepObservation(t, size_t(rej.step))}};
    r["rejected"] = {{"from", "gpt"}, {"value", prefxAction(rej.action)}, {"observation", rej.observation}};
    return r;
}

void writeFile(const QString& path, const std::string& text) {
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        std::fprintf(stderr, "make_demo_project: cannot write %s\n", qPrintable(path));
        std::exit(1);
    }
    f.write(text.data(), qint64(text.size()));
}

}  // namespace

int main(int argc, char** argv) {
    QGuiApplication app(argc, argv);
    if (argc < 2) {
        std::fprintf(stderr, "usage: make_demo_project <resources-dir>\n");
        return 2;
    }
    g_outDir = QString::fromLocal8Bit(argv[1]);
    QFile pf(g_outDir + "/prompts/matrix_agent_system.txt");
    if (!pf.open(QIODevice::ReadOnly)) {
        std::fprintf(stderr, "make_demo_project: missing prompts/matrix_agent_system.txt\n");
        return 1;
    }
    const std::string system = pf.readAll().toStdString();

    drawReceipt("receipt_cafe.png", "CAFE LUNA", "12 Harbor Rd  2024-03-14 08:42",
                {{"Espresso", "3.20"}, {"Croissant", "2.80"}, {"Orange Juice", "4.50"}, {"-", ""},
                 {"SUBTOTAL", "10.50"}, {"TAX", "0.84"}, {"TOTAL", "11.34"}});
    drawReceipt("receipt_market.png", "GREEN MARKET", "88 Elm St  2024-03-15 17:05",
                {{"Apples 1kg", "3.40"}, {"Bread", "2.10"}, {"Milk 2L", "1.90"}, {"Eggs x12", "3.60"}, {"-", ""},
                 {"TOTAL", "11.00"}});
    drawBarChart();
    drawPie();
    drawLineChart();
    std::vector<Box> circles, squares;
    drawShapes(circles, squares);
    std::vector<Box> faces = drawFaces();
    drawStreetSigns();
    drawParkingSign();
    drawMenu();
    std::vector<Box> apples = drawFruit();
    drawInvoice();
    drawClock();
    std::vector<Box> cars = drawParkingLot();
    drawKite();
    drawScoreTable();
    // street_market.jpg is deliberately not drawn: the demo shows the missing-image state with it.

    std::vector<Task> tasks = buildTasks(circles, squares, faces, apples, cars);
    ojson scenes = ojson::array(), documents = ojson::array(), pairs = ojson::array();
    for (const Task& t : tasks) {
        (t.dataset == "scenes" ? scenes : documents).push_back(mtraceRecord(t, system));
        for (const Rejected& r : t.rejected) pairs.push_back(prefxRecord(t, r, system));
    }
    writeFile(g_outDir + "/demo/mtrace_demo_scenes.json", scenes.dump(1) + "\n");
    writeFile(g_outDir + "/demo/mtrace_demo_documents.json", documents.dump(1) + "\n");
    writeFile(g_outDir + "/demo/prefx_demo.json", pairs.dump(1) + "\n");
    if (argc > 2) {  // optional contact sheet of every image, for reviewing them at a glance
        QDir dir(g_outDir + "/demo/images");
        QStringList names = {"edited/shapes_squares_highlighted.png", "edited/parking_lot_mask.png",
                             "generated/red_kite.png"};
        names = dir.entryList({"*.png"}, QDir::Files, QDir::Name) + names;
        QImage sheet(5 * 330, ((int(names.size()) + 4) / 5) * 330, QImage::Format_RGB32);
        sheet.fill(Qt::darkGray);
        QPainter sp(&sheet);
        for (int i = 0; i < names.size(); ++i) {
            QImage im(dir.filePath(names[i]));
            sp.drawImage(QPoint((i % 5) * 330 + 5, (i / 5) * 330 + 5), im.scaled(320, 320, Qt::KeepAspectRatio));
        }
        sp.end();
        sheet.save(QString::fromLocal8Bit(argv[2]));
    }
    std::printf("demo: %zu tasks (%zu scenes, %zu documents), %zu pairs\n", tasks.size(), scenes.size(),
                documents.size(), pairs.size());
    return 0;
}
