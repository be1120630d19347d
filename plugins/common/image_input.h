// Reading an image argument for a tool plugin (header-only, OpenCV): the file's header is checked before
// decoding so a huge or hostile image is refused without allocating it; what cannot be decoded is "not an
// image". The limits are the tools' own: 40 megapixels, 100 MB files.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tool_support.h"

namespace matrix::plugins {

constexpr int64_t k_max_image_pixels = 40'000'000;
constexpr int64_t k_max_image_bytes = 100'000'000;

// Width and height from a PNG, JPEG, GIF or BMP header; {0, 0} for other formats or an unreadable header.
inline std::pair<int64_t, int64_t> image_header_size(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    unsigned char h[32] = {};
    in.read(reinterpret_cast<char*>(h), sizeof h);
    const std::streamsize n = in.gcount();
    auto be32 = [](const unsigned char* p) { return (int64_t(p[0]) << 24) | (int64_t(p[1]) << 16) | (int64_t(p[2]) << 8) | p[3]; };
    auto le32 = [](const unsigned char* p) { return int64_t(int32_t(p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24))); };
    if (n >= 24 && h[0] == 0x89 && h[1] == 'P' && h[2] == 'N' && h[3] == 'G') return {be32(h + 16), be32(h + 20)};
    if (n >= 10 && h[0] == 'G' && h[1] == 'I' && h[2] == 'F') return {h[6] | (h[7] << 8), h[8] | (h[9] << 8)};
    if (n >= 26 && h[0] == 'B' && h[1] == 'M') {
        const int64_t w = le32(h + 18), hh = le32(h + 22);
        return {w < 0 ? -w : w, hh < 0 ? -hh : hh};
    }
    if (n >= 4 && h[0] == 0xFF && h[1] == 0xD8) {
        // JPEG: walk the segments to the first start-of-frame marker.
        in.clear();
        in.seekg(2);
        for (int guard = 0; guard < 10000 && in; ++guard) {
            int c = in.get();
            if (c != 0xFF) return {0, 0};
            int marker = in.get();
            while (marker == 0xFF) marker = in.get();
            if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) continue;
            unsigned char len[2];
            if (!in.read(reinterpret_cast<char*>(len), 2)) return {0, 0};
            const int seg = (len[0] << 8) | len[1];
            const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
            if (sof) {
                unsigned char f[5];
                if (!in.read(reinterpret_cast<char*>(f), 5)) return {0, 0};
                return {(f[3] << 8) | f[4], (f[1] << 8) | f[2]};
            }
            if (seg < 2) return {0, 0};
            in.seekg(seg - 2, std::ios::cur);
        }
    }
    return {0, 0};
}

// Decodes an image argument as 8-bit BGR (alpha dropped, grey expanded). Errors name the tool and the path:
// missing file, folder, too large (bytes or pixels), not an image.
inline Result<cv::Mat> load_image(const std::string& tool, const std::string& path,
                                  const agent::ToolCallContext& context) {
    MATRIX_TRY(std::string file, input_file(tool, path, context));
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(file, ec);
    if (!ec && int64_t(bytes) > k_max_image_bytes)
        return make_error(tool + ": " + path + " is too large (" + std::to_string(bytes / 1000000) +
                          " MB; the tools take images up to " + std::to_string(k_max_image_bytes / 1000000) + " MB)");
    const auto [w, h] = image_header_size(file);
    if (w * h > k_max_image_pixels)
        return make_error(tool + ": " + path + " is too large (" + std::to_string(w) + " x " + std::to_string(h) +
                          " pixels; the tools take images up to " + std::to_string(k_max_image_pixels / 1000000) +
                          " megapixels)");
    cv::Mat image;
    try {
        image = cv::imread(file, cv::IMREAD_COLOR);
    } catch (const cv::Exception&) {
        image.release();
    }
    if (image.empty()) return make_error(tool + ": " + path + " is not an image file that can be decoded");
    if (int64_t(image.cols) * image.rows > k_max_image_pixels)
        return make_error(tool + ": " + path + " is too large (" + std::to_string(image.cols) + " x " +
                          std::to_string(image.rows) + " pixels; the tools take images up to " +
                          std::to_string(k_max_image_pixels / 1000000) + " megapixels)");
    return image;
}

}  // namespace matrix::plugins
