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

#include "resources/demo/generator/make_demo.h"

using ojson = nlohmann::ordered_json;

namespace demo {

const char* kImgPrefix = "data/matrix-demo/images/";     // as in the <img> tags and `image` field
const char* kAttachPrefix = "data/demo-agent/images/";   // as in "Attachment:" (differs, like the real data)
QString g_outDir;

}  // namespace demo

namespace {

using namespace demo;

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

