// make_demo_project's parts (see make_demo.cpp): the images drawn with QPainter (make_demo_images.cpp, which
// also returns the boxes the observations report) and the tasks with their trajectories and rejected steps
// (make_demo_tasks.cpp); make_demo.cpp writes the M-TRACE and Pref-X files from them.
#pragma once

#include <QColor>
#include <QImage>
#include <QString>

#include <string>
#include <utility>
#include <vector>

#include "core/conversation/action.h"
#include "core/conversation/observation.h"
#include "core/conversation/user_prompt.h"

namespace demo {

namespace conversation = matrix::conversation;

extern const char* kImgPrefix;     // as in the <img> tags and `image` field
extern const char* kAttachPrefix;  // as in "Attachment:"
extern QString g_outDir;

// ---- make_demo_images.cpp
struct Box {
    int x1, y1, x2, y2;
};

std::string boxesText(const std::vector<Box>& boxes);
void drawReceipt(const QString& name, const char* shop, const char* address,
                 const std::vector<std::pair<const char*, const char*>>& lines);
void drawBarChart();
void drawPie();
void drawLineChart();
void drawShapes(std::vector<Box>& circles, std::vector<Box>& squares);
std::vector<Box> drawFaces();
void drawStreetSigns();
void drawParkingSign();
void drawMenu();
std::vector<Box> drawFruit();
void drawInvoice();
void drawClock();
std::vector<Box> drawParkingLot();
void drawKite();
void drawScoreTable();

// ---- make_demo_tasks.cpp
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

std::string img(const std::string& name);
std::string att(const std::string& name);
std::string actionText(const Step& s);
std::string prefxAction(const std::string& action);
std::string observationTurn(int k, const Step& s);
std::string verification(const std::string& thought, const std::string& correct);
std::vector<Task> buildTasks(const std::vector<Box>& circles, const std::vector<Box>& squares,
                             const std::vector<Box>& faces, const std::vector<Box>& apples,
                             const std::vector<Box>& cars);

}  // namespace demo
