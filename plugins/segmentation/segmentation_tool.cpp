// The segmentation tool: OpenCV's grabCut, seeded by each box of the prompt ([x1, y1, x2, y2] pixels, e.g. from
// objectlocation or facedetection), separates the object from its box's background. Writes, in the work folder,
// an overlay PNG (the image with each mask tinted and outlined), a label PNG (0 background, k+1 for mask k) and an
// .npz with "masks" (uint8 [N, H, W], 0/1) and "boxes" (int32 [N, 4]) - the reference wrote a pickle, which no
// one should load from an agent's run. Answers {"overlay", "mask_image", "masks", "boxes", "areas"}.
// A prompt in words needs a text-promptable model (the reference's SAM2), which this plugin does not have: the
// call says so.
#include <opencv2/imgproc.hpp>

#include <regex>

#include "core/agent/plugin.h"
#include "image_input.h"
#include "npz_writer.h"

namespace {

using namespace matrix;
using namespace matrix::agent;

constexpr size_t k_max_boxes = 20;

// Boxes from a list ([x1, y1, x2, y2] or a list of them) or from text holding such groups.
Result<std::vector<cv::Rect2d>> parse_boxes(const nlohmann::json& prompt) {
    std::vector<cv::Rect2d> out;
    auto from_list = [&](const nlohmann::json& b) -> Status {
        if (!b.is_array() || b.size() != 4) return make_error("segmentation: a box is [x1, y1, x2, y2]");
        for (const auto& v : b)
            if (!v.is_number()) return make_error("segmentation: box coordinates must be numbers");
        out.emplace_back(cv::Point2d(b[0].get<double>(), b[1].get<double>()), cv::Point2d(b[2].get<double>(), b[3].get<double>()));
        return {};
    };
    if (prompt.is_array()) {
        if (!prompt.empty() && prompt[0].is_array()) {
            for (const auto& b : prompt) MATRIX_CHECK(from_list(b));
        } else {
            MATRIX_CHECK(from_list(prompt));
        }
    } else if (prompt.is_string()) {
        static const std::regex box(R"(\[\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\])");
        const std::string s = prompt.get<std::string>();
        for (std::sregex_iterator it(s.begin(), s.end(), box), end; it != end; ++it) {
            try {
                out.emplace_back(cv::Point2d(std::stod((*it)[1]), std::stod((*it)[2])), cv::Point2d(std::stod((*it)[3]), std::stod((*it)[4])));
            } catch (const std::exception&) {
                return make_error("segmentation: cannot read the box " + it->str());
            }
        }
    } else if (!prompt.is_null()) {
        return make_error("segmentation: prompt must be boxes ([x1, y1, x2, y2] or a list of them) or text holding them");
    }
    return out;
}

class SegmentationTool : public Tool {
public:
    ToolSpec spec() const override { return matrix_tool_spec("segmentation"); }
    ToolStatus status() const override { return {true, "OpenCV " CV_VERSION " grabCut (box prompts only)", {}}; }

    Result<nlohmann::json> call(const nlohmann::json& args, const ToolCallContext& context) override {
        MATRIX_TRY(std::string path, plugins::string_arg("segmentation", args, "image_path"));
        const nlohmann::json prompt = args.is_object() && args.contains("prompt") ? args["prompt"] : nlohmann::json();
        MATRIX_TRY(std::vector<cv::Rect2d> boxes, parse_boxes(prompt));
        if (boxes.empty())
            return make_error("segmentation is unavailable for this prompt: it needs boxes [x1, y1, x2, y2] in pixels "
                              "(e.g. from objectlocation); segmenting by words needs a text-promptable model, and none "
                              "is configured");
        if (boxes.size() > k_max_boxes)
            return make_error("segmentation: at most " + std::to_string(k_max_boxes) + " boxes at a time, got " + std::to_string(boxes.size()));
        MATRIX_TRY(cv::Mat image, plugins::load_image("segmentation", path, context));
        const cv::Rect2d frame(0, 0, image.cols, image.rows);
        std::vector<cv::Rect> rects;
        for (const cv::Rect2d& b : boxes) {
            const cv::Rect2d clipped = b & frame;
            if (b.width <= 0 || b.height <= 0 || clipped.width < 2 || clipped.height < 2)
                return make_error("segmentation: the box [" + std::to_string(int(b.x)) + ", " + std::to_string(int(b.y)) + ", " +
                                  std::to_string(int(b.x + b.width)) + ", " + std::to_string(int(b.y + b.height)) +
                                  "] is empty or outside the " + std::to_string(image.cols) + " x " + std::to_string(image.rows) + " image");
            rects.emplace_back(cv::Point(int(std::floor(clipped.x)), int(std::floor(clipped.y))),
                               cv::Point(int(std::ceil(clipped.x + clipped.width)), int(std::ceil(clipped.y + clipped.height))));
        }
        // grabCut's cost grows with the area: work at most 1024 pixels on the long side, masks scaled back.
        const double shrink = std::min(1.0, 1024.0 / std::max(image.cols, image.rows));
        cv::Mat work = image;
        if (shrink < 1.0) cv::resize(image, work, cv::Size(), shrink, shrink, cv::INTER_AREA);
        std::vector<cv::Mat> masks;
        for (const cv::Rect& r : rects) {
            cv::Rect small(cv::Point(int(r.x * shrink), int(r.y * shrink)),
                           cv::Point(int(std::ceil((r.x + r.width) * shrink)), int(std::ceil((r.y + r.height) * shrink))));
            small &= cv::Rect(0, 0, work.cols, work.rows);
            cv::Mat gc(work.size(), CV_8UC1, cv::Scalar(cv::GC_BGD)), bgd, fgd;
            cv::Mat fg;
            if (small.width >= 2 && small.height >= 2 && small.area() < work.cols * work.rows) {
                cv::grabCut(work, gc, small, bgd, fgd, 5, cv::GC_INIT_WITH_RECT);
                fg = (gc == cv::GC_FGD) | (gc == cv::GC_PR_FGD);
            } else {
                fg = cv::Mat(work.size(), CV_8UC1, cv::Scalar(0));  // a box over the whole image: no background model
                fg(small).setTo(255);
            }
            if (shrink < 1.0) cv::resize(fg, fg, image.size(), 0, 0, cv::INTER_NEAREST);
            cv::Mat inside(image.size(), CV_8UC1, cv::Scalar(0));
            inside(r).setTo(255);
            masks.push_back((fg & inside) / 255);  // 0/1, never outside its box
        }
        // Outputs.
        static const cv::Scalar colors[] = {{255, 80, 40}, {40, 200, 60}, {40, 60, 255}, {0, 200, 255}, {200, 0, 200}, {255, 255, 0}};
        cv::Mat overlay = image.clone(), labels(image.size(), CV_8UC1, cv::Scalar(0));
        nlohmann::json areas = nlohmann::json::array(), out_boxes = nlohmann::json::array();
        std::string mask_bytes, box_bytes;
        for (size_t k = 0; k < masks.size(); ++k) {
            const cv::Scalar color = colors[k % 6];
            cv::Mat tint(image.size(), image.type(), color), blended;
            cv::addWeighted(image, 0.5, tint, 0.5, 0, blended);
            blended.copyTo(overlay, masks[k]);
            std::vector<std::vector<cv::Point>> contours;
            cv::findContours(masks[k].clone(), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
            cv::drawContours(overlay, contours, -1, color, 2);
            cv::rectangle(overlay, rects[k], color, 1);
            labels.setTo(int(k + 1), masks[k]);
            areas.push_back(cv::countNonZero(masks[k]));
            out_boxes.push_back({rects[k].x, rects[k].y, rects[k].x + rects[k].width, rects[k].y + rects[k].height});
            mask_bytes.append(reinterpret_cast<const char*>(masks[k].data), masks[k].total());
            for (int v : {rects[k].x, rects[k].y, rects[k].x + rects[k].width, rects[k].y + rects[k].height})
                for (int b = 0; b < 4; ++b) box_bytes += char((uint32_t(v) >> (8 * b)) & 0xFF);
        }
        const std::string overlay_file = plugins::output_file(context, "segmentation_overlay", "png");
        const std::string label_file = plugins::output_file(context, "segmentation_mask", "png");
        const std::string npz_file = plugins::output_file(context, "segmentation_masks", "npz");
        if (!cv::imwrite(overlay_file, overlay) || !cv::imwrite(label_file, labels))
            return make_error("segmentation: cannot write its images in " + context.work_dir);
        MATRIX_CHECK(plugins::write_npz(npz_file, {{"masks", "|u1", {int64_t(masks.size()), image.rows, image.cols}, mask_bytes},
                                                   {"boxes", "<i4", {int64_t(masks.size()), 4}, box_bytes}}));
        return nlohmann::json{{"overlay", overlay_file}, {"mask_image", label_file}, {"masks", npz_file},
                              {"boxes", out_boxes}, {"areas", areas}};
    }
};

void make_tools(const ToolHost&, PluginTools& out) {
    out.plugin = "segmentation";
    out.version = "1 (OpenCV " CV_VERSION ")";
    out.tools.push_back(std::make_shared<SegmentationTool>());
}

}  // namespace

MATRIX_TOOL_PLUGIN(make_tools)
