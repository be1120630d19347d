// The ocr tool: libtesseract (LSTM engine, English model from tesseract-ocr-eng) reads the text of an image and
// answers its text lines in reading order, one per line (the reference's OCR tool answers lines of text too).
// Small images are enlarged first: Tesseract reads glyphs best at about 30 pixels of cap height.
// Settings (tools.json "ocr"): "language" (default "eng"), "psm" (Tesseract page segmentation mode, default 3),
// "tessdata" (a folder with <language>.traineddata).
#include <tesseract/baseapi.h>

#include <memory>
#include <mutex>
#include <sstream>

#include "core/agent/plugin.h"
#include "image_input.h"

namespace {

using namespace matrix;
using namespace matrix::agent;

class OcrTool : public Tool {
public:
    explicit OcrTool(const nlohmann::json& settings)
        : m_language(settings.value("language", std::string("eng"))),
          m_tessdata(settings.value("tessdata", std::string())),
          m_psm(settings.value("psm", 3)) {}
    ~OcrTool() override {
        if (m_api) m_api->End();
    }

    ToolSpec spec() const override { return matrix_tool_spec("ocr"); }

    ToolStatus status() const override {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (!ensure_api()) return {false, "none", m_init_error};
        return {true, std::string("tesseract ") + tesseract::TessBaseAPI::Version() + " (" + m_language + ")", {}};
    }

    Result<nlohmann::json> call(const nlohmann::json& args, const ToolCallContext& context) override {
        MATRIX_TRY(std::string path, plugins::string_arg("ocr", args, "image_path"));
        MATRIX_TRY(cv::Mat image, plugins::load_image("ocr", path, context));
        cv::Mat gray;
        cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
        // Enlarge small images (up to the pixel limit) so small print reaches Tesseract's working size.
        const double scale = std::min(2.0, std::sqrt(double(plugins::k_max_image_pixels) / (gray.cols * double(gray.rows))));
        if (std::max(gray.cols, gray.rows) < 1600 && scale > 1.0)
            cv::resize(gray, gray, cv::Size(), scale, scale, cv::INTER_CUBIC);
        std::lock_guard<std::mutex> lock(m_mutex);
        if (!ensure_api()) return make_error("ocr is unavailable: " + m_init_error);
        m_api->SetPageSegMode(static_cast<tesseract::PageSegMode>(m_psm));
        m_api->SetImage(gray.data, gray.cols, gray.rows, 1, static_cast<int>(gray.step));
        m_api->SetSourceResolution(300);
        if (m_api->Recognize(nullptr) != 0) {
            m_api->Clear();
            return make_error("ocr: Tesseract could not read " + path);
        }
        std::string out;
        std::unique_ptr<tesseract::ResultIterator> it(m_api->GetIterator());
        if (it) {
            do {
                std::unique_ptr<char[]> text(it->GetUTF8Text(tesseract::RIL_TEXTLINE));
                if (!text) continue;
                std::string line = text.get();
                while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
                if (line.find_first_not_of(" \t") == std::string::npos) continue;
                out += (out.empty() ? "" : "\n") + line;
            } while (it->Next(tesseract::RIL_TEXTLINE));
        }
        m_api->Clear();
        return nlohmann::json(out);
    }

private:
    // Starts Tesseract once; false (with the reason) when its model cannot be loaded. Caller holds m_mutex.
    bool ensure_api() const {
        if (m_api) return true;
        if (!m_init_error.empty()) return false;
        auto api = std::make_unique<tesseract::TessBaseAPI>();
        api->SetVariable("debug_file", "/dev/null");
        if (api->Init(m_tessdata.empty() ? nullptr : m_tessdata.c_str(), m_language.c_str(), tesseract::OEM_LSTM_ONLY) != 0) {
            m_init_error = "Tesseract has no \"" + m_language + "\" model (install tesseract-ocr-" + m_language + ")";
            return false;
        }
        m_api = std::move(api);
        return true;
    }

    std::string m_language, m_tessdata;
    int m_psm;
    mutable std::mutex m_mutex;
    mutable std::unique_ptr<tesseract::TessBaseAPI> m_api;
    mutable std::string m_init_error;
};

void make_tools(const ToolHost& host, PluginTools& out) {
    out.plugin = "ocr";
    out.version = std::string("1 (tesseract ") + tesseract::TessBaseAPI::Version() + ")";
    out.tools.push_back(std::make_shared<OcrTool>(host.tool_settings("ocr")));
}

}  // namespace

MATRIX_TOOL_PLUGIN(make_tools)
