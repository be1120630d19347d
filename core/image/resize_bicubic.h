// Bicubic resizing for Qwen2-VL preprocessing. HF's Qwen2VLImageProcessor resizes with PIL's BICUBIC,
// which is NOT OpenCV's INTER_CUBIC: PIL uses the Keys kernel with a = -0.5 (OpenCV -0.75) and widens the
// kernel by the scale factor when downscaling (antialiasing; OpenCV samples 4x4 taps whatever the scale),
// with 8-bit fixed-point coefficients and a horizontal pass before a vertical one, each rounded to uint8.
// resize_bicubic_pil() reimplements that algorithm (written from the description of Pillow's Resample.c),
// so resized pixels match HF to within 1/255 almost everywhere; resize_bicubic_opencv() is kept for
// comparison (the test measures both against the fixture).
// Thread safety: pure functions.
#pragma once

#include "core/image/image_io.h"

namespace matrix::vision {

RgbImage resize_bicubic_pil(const RgbImage& in, int out_width, int out_height);
RgbImage resize_bicubic_opencv(const RgbImage& in, int out_width, int out_height);
// PIL's NEAREST: source index int((x + 0.5) * in / out) per axis.
RgbImage resize_nearest_pil(const RgbImage& in, int out_width, int out_height);

}  // namespace matrix::vision
