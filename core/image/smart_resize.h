// Qwen2-VL's smart_resize: the size an image is resized to before patchifying. Header-only and free of
// OpenCV so the engine and the chat template can compute grids (and pad counts) without decoding pixels.
// Rules equal transformers' image_processing_qwen2_vl.smart_resize: round each side to a multiple of
// `factor` (Python round: half to even), then if the area exceeds max_pixels scale down with floor, if
// it is below min_pixels scale up with ceil; aspect ratio above 200 is an error.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "core/util/result.h"

namespace matrix::vision {

struct ResizedSize {
    int64_t height = 0;
    int64_t width = 0;
};

inline Result<ResizedSize> smart_resize(int64_t height, int64_t width, int64_t factor = 28,
                                        int64_t min_pixels = 56 * 56, int64_t max_pixels = 28 * 28 * 1280) {
    if (height <= 0 || width <= 0)
        return make_error("image size " + std::to_string(width) + "x" + std::to_string(height) + " is empty");
    if (double(std::max(height, width)) / double(std::min(height, width)) > 200.0)
        return make_error("absolute aspect ratio must be at most 200, got " + std::to_string(width) + "x" +
                          std::to_string(height));
    if (min_pixels > max_pixels)
        return make_error("min_pixels " + std::to_string(min_pixels) + " exceeds max_pixels " + std::to_string(max_pixels));
    // std::nearbyint in the default rounding mode rounds half to even, like Python's round().
    auto round_by = [&](double x) { return int64_t(std::nearbyint(x / double(factor))) * factor; };
    int64_t h_bar = round_by(double(height)), w_bar = round_by(double(width));
    if (h_bar * w_bar > max_pixels) {
        double beta = std::sqrt(double(height) * double(width) / double(max_pixels));
        h_bar = std::max(factor, int64_t(std::floor(double(height) / beta / double(factor))) * factor);
        w_bar = std::max(factor, int64_t(std::floor(double(width) / beta / double(factor))) * factor);
    } else if (h_bar * w_bar < min_pixels) {
        double beta = std::sqrt(double(min_pixels) / (double(height) * double(width)));
        h_bar = int64_t(std::ceil(double(height) * beta / double(factor))) * factor;
        w_bar = int64_t(std::ceil(double(width) * beta / double(factor))) * factor;
    }
    return ResizedSize{h_bar, w_bar};
}

}  // namespace matrix::vision
