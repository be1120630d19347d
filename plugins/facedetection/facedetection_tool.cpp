// The facedetection tool: OpenCV's cascade detector (the frontal-face Haar model of opencv-data) finds faces; each
// box is enlarged 1.5x about its centre and clipped to the image, as the reference enlarges its detector's boxes
// (a cascade's box is tight around eyes and mouth; the enlarged one holds the head). Answers a list of
// [x1, y1, x2, y2] pixel boxes, left to right; an empty list when there is no face.
// Settings (tools.json "facedetection"): "cascade" (a cascade XML file), "min_neighbors" (default 5),
// "min_size" (pixels, default 24), "scale" (default 1.5).
#include <opencv2/objdetect.hpp>

#include <algorithm>
#include <filesystem>
#include <mutex>

#include "core/agent/plugin.h"
#include "image_input.h"

namespace {

using namespace matrix;
using namespace matrix::agent;

std::string find_cascade(const nlohmann::json& settings) {
    if (settings.contains("cascade") && settings["cascade"].is_string()) return settings["cascade"].get<std::string>();
    for (const char* dir : {"/usr/share/opencv4/haarcascades", "/usr/share/opencv/haarcascades",
                            "/usr/local/share/opencv4/haarcascades"}) {
        const std::string f = std::string(dir) + "/haarcascade_frontalface_default.xml";
        if (std::filesystem::exists(f)) return f;
    }
    return {};
}

class FaceDetectionTool : public Tool {
public:
    explicit FaceDetectionTool(const nlohmann::json& settings)
        : m_file(find_cascade(settings)),
          m_min_neighbors(settings.value("min_neighbors", 5)),
          m_min_size(settings.value("min_size", 24)),
          m_scale(settings.value("scale", 1.5)) {
        if (m_file.empty()) {
            m_error = "no face model: install opencv-data (haarcascade_frontalface_default.xml)";
        } else {
            try {
                if (!m_cascade.load(m_file)) m_error = "cannot load the face model " + m_file;
            } catch (const cv::Exception& e) {
                m_error = "cannot load the face model " + m_file + ": " + e.what();
            }
        }
    }

    ToolSpec spec() const override { return matrix_tool_spec("facedetection"); }
    ToolStatus status() const override {
        if (!m_error.empty()) return {false, "none", m_error};
        return {true, "OpenCV " CV_VERSION " cascade " + std::filesystem::path(m_file).filename().string(), {}};
    }

    Result<nlohmann::json> call(const nlohmann::json& args, const ToolCallContext& context) override {
        if (!m_error.empty()) return make_error("facedetection is unavailable: " + m_error);
        MATRIX_TRY(std::string path, plugins::string_arg("facedetection", args, "image_path"));
        MATRIX_TRY(cv::Mat image, plugins::load_image("facedetection", path, context));
        // Detect on a copy at most 1600 pixels on its long side (the cascade's speed goes with the area).
        const double shrink = std::min(1.0, 1600.0 / std::max(image.cols, image.rows));
        cv::Mat gray;
        cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
        if (shrink < 1.0) cv::resize(gray, gray, cv::Size(), shrink, shrink, cv::INTER_AREA);
        cv::equalizeHist(gray, gray);
        std::vector<cv::Rect> faces;
        {
            std::lock_guard<std::mutex> lock(m_mutex);  // CascadeClassifier::detectMultiScale is not re-entrant
            m_cascade.detectMultiScale(gray, faces, 1.1, m_min_neighbors, 0, cv::Size(m_min_size, m_min_size));
        }
        std::sort(faces.begin(), faces.end(), [](const cv::Rect& a, const cv::Rect& b) {
            return a.x != b.x ? a.x < b.x : a.y < b.y;
        });
        nlohmann::json boxes = nlohmann::json::array();
        for (const cv::Rect& f : faces) {
            const double cx = (f.x + f.width / 2.0) / shrink, cy = (f.y + f.height / 2.0) / shrink;
            const double w = f.width / shrink * m_scale, h = f.height / shrink * m_scale;
            const int x1 = std::max(0, int(std::lround(cx - w / 2))), y1 = std::max(0, int(std::lround(cy - h / 2)));
            const int x2 = std::min(image.cols, int(std::lround(cx + w / 2)));
            const int y2 = std::min(image.rows, int(std::lround(cy + h / 2)));
            boxes.push_back({x1, y1, x2, y2});
        }
        return boxes;
    }

private:
    std::string m_file, m_error;
    int m_min_neighbors, m_min_size;
    double m_scale;
    std::mutex m_mutex;
    cv::CascadeClassifier m_cascade;
};

void make_tools(const ToolHost& host, PluginTools& out) {
    out.plugin = "facedetection";
    out.version = "1 (OpenCV " CV_VERSION ")";
    out.tools.push_back(std::make_shared<FaceDetectionTool>(host.tool_settings("facedetection")));
}

}  // namespace

MATRIX_TOOL_PLUGIN(make_tools)
