// OpenCV-based decoding to RGB (see image_io.h for the conversions and why they match HF's PIL path).
#include "core/image/image_io.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <fstream>

namespace matrix::vision {
namespace {

// PIL's alpha_composite of an RGBA pixel over opaque white, in integer arithmetic (rounds to nearest).
inline uint8_t over_white(int v, int a) { return uint8_t((v * a + 255 * (255 - a) + 127) / 255); }

Result<RgbImage> to_rgb(const cv::Mat& decoded, const std::string& name) {
    cv::Mat m = decoded;
    if (m.depth() == CV_16U) {  // keep the high byte of each sample (PIL's 16-bit RGB -> 8-bit rule)
        cv::Mat hi(decoded.size(), CV_MAKETYPE(CV_8U, decoded.channels()));
        for (int y = 0; y < decoded.rows; ++y) {
            const uint16_t* src = decoded.ptr<uint16_t>(y);
            uint8_t* dst = hi.ptr<uint8_t>(y);
            for (int i = 0; i < decoded.cols * decoded.channels(); ++i) dst[i] = uint8_t(src[i] >> 8);
        }
        m = hi;
    } else if (m.depth() != CV_8U) {
        return make_error("unsupported sample type (only 8- and 16-bit images)", name);
    }
    RgbImage img;
    img.width = m.cols;
    img.height = m.rows;
    img.data.resize(size_t(m.rows) * size_t(m.cols) * 3);
    const int ch = m.channels();
    if (ch != 1 && ch != 2 && ch != 3 && ch != 4) return make_error("unsupported channel count " + std::to_string(ch), name);
    for (int y = 0; y < m.rows; ++y) {
        const uint8_t* row = m.ptr<uint8_t>(y);
        uint8_t* out = &img.data[size_t(y) * size_t(m.cols) * 3];
        for (int x = 0; x < m.cols; ++x, out += 3) {
            const uint8_t* p = row + size_t(x) * size_t(ch);
            switch (ch) {
                case 1: out[0] = out[1] = out[2] = p[0]; break;
                case 2: out[0] = out[1] = out[2] = over_white(p[0], p[1]); break;
                case 3: out[0] = p[2], out[1] = p[1], out[2] = p[0]; break;  // OpenCV is BGR
                case 4:
                    out[0] = over_white(p[2], p[3]), out[1] = over_white(p[1], p[3]), out[2] = over_white(p[0], p[3]);
                    break;
            }
        }
    }
    return img;
}

}  // namespace

Result<RgbImage> decode_rgb(const uint8_t* bytes, size_t size, const std::string& name) {
    if (!bytes || size == 0) return make_error("empty image data", name);
    try {
        cv::Mat buf(1, int(size), CV_8U, const_cast<uint8_t*>(bytes));
        // IMREAD_UNCHANGED keeps alpha and 16-bit samples and ignores EXIF orientation, like PIL.
        cv::Mat m = cv::imdecode(buf, cv::IMREAD_UNCHANGED);
        if (m.empty()) return make_error("cannot decode image (unknown or corrupt format)", name);
        return to_rgb(m, name);
    } catch (const cv::Exception& e) {
        return make_error(std::string("cannot decode image: ") + e.what(), name);
    }
}

Result<RgbImage> load_rgb(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error("cannot open image file", path);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return decode_rgb(bytes.data(), bytes.size(), path);
}

}  // namespace matrix::vision
