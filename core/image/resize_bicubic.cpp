// PIL-compatible separable bicubic resampling (see resize_bicubic.h): per output coordinate, a window of
// input samples around center = (x + 0.5) * scale, weights bicubic((i - center + 0.5) / filterscale)
// normalised to sum 1, converted to fixed point with 22 fractional bits, accumulated from a rounding bias
// and clipped to [0, 255].
#include "core/image/resize_bicubic.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>

namespace matrix::vision {
namespace {

constexpr int k_precision_bits = 32 - 8 - 2;

double bicubic(double x) {
    constexpr double a = -0.5;
    x = std::fabs(x);
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

struct Coeffs {
    int ksize = 0;
    std::vector<int> bounds;   // [out, 2]: first input index, count
    std::vector<int32_t> k;    // [out, ksize] fixed point
};

Coeffs precompute(int in_size, int out_size) {
    Coeffs c;
    double scale = double(in_size) / double(out_size);
    double filterscale = std::max(scale, 1.0);
    double support = 2.0 * filterscale;
    c.ksize = int(std::ceil(support)) * 2 + 1;
    c.bounds.resize(size_t(out_size) * 2);
    c.k.assign(size_t(out_size) * size_t(c.ksize), 0);
    std::vector<double> w(size_t(c.ksize));
    for (int xx = 0; xx < out_size; ++xx) {
        double center = (xx + 0.5) * scale;
        double ss = 1.0 / filterscale;
        int xmin = int(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = int(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; ++x) {
            w[size_t(x)] = bicubic((x + xmin - center + 0.5) * ss);
            ww += w[size_t(x)];
        }
        for (int x = 0; x < xmax; ++x) {
            double v = ww != 0.0 ? w[size_t(x)] / ww : w[size_t(x)];
            c.k[size_t(xx) * size_t(c.ksize) + size_t(x)] =
                int32_t(v < 0 ? -0.5 + v * (1 << k_precision_bits) : 0.5 + v * (1 << k_precision_bits));
        }
        c.bounds[size_t(xx) * 2] = xmin;
        c.bounds[size_t(xx) * 2 + 1] = xmax;
    }
    return c;
}

inline uint8_t clip8(int64_t v) {
    v >>= k_precision_bits;
    return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
}

}  // namespace

RgbImage resize_bicubic_pil(const RgbImage& in, int out_w, int out_h) {
    if (out_w == in.width && out_h == in.height) return in;  // PIL returns a copy for an unchanged size
    Coeffs ch = precompute(in.width, out_w), cv = precompute(in.height, out_h);
    // Rows of the input that the vertical pass reads.
    int y_first = cv.bounds[0];
    int y_last = cv.bounds[size_t(out_h - 1) * 2] + cv.bounds[size_t(out_h - 1) * 2 + 1];
    const bool need_h = out_w != in.width, need_v = out_h != in.height;

    RgbImage tmp;
    const RgbImage* src = &in;
    int row_offset = 0;  // input row of tmp's row 0
    if (need_h) {
        tmp.width = out_w;
        tmp.height = y_last - y_first;
        tmp.data.resize(size_t(tmp.width) * size_t(tmp.height) * 3);
        for (int y = 0; y < tmp.height; ++y) {
            const uint8_t* row = &in.data[size_t(y + y_first) * size_t(in.width) * 3];
            uint8_t* out = &tmp.data[size_t(y) * size_t(out_w) * 3];
            for (int xx = 0; xx < out_w; ++xx) {
                int xmin = ch.bounds[size_t(xx) * 2], xmax = ch.bounds[size_t(xx) * 2 + 1];
                const int32_t* k = &ch.k[size_t(xx) * size_t(ch.ksize)];
                int64_t s0 = 1 << (k_precision_bits - 1), s1 = s0, s2 = s0;
                for (int x = 0; x < xmax; ++x) {
                    const uint8_t* p = row + size_t(x + xmin) * 3;
                    s0 += int64_t(p[0]) * k[x];
                    s1 += int64_t(p[1]) * k[x];
                    s2 += int64_t(p[2]) * k[x];
                }
                out[xx * 3] = clip8(s0), out[xx * 3 + 1] = clip8(s1), out[xx * 3 + 2] = clip8(s2);
            }
        }
        src = &tmp;
        row_offset = y_first;
    }
    if (!need_v) return tmp;

    RgbImage out;
    out.width = src->width;
    out.height = out_h;
    out.data.resize(size_t(out.width) * size_t(out_h) * 3);
    const size_t stride = size_t(src->width) * 3;
    // Row-wise accumulation (tap-major) so the inner loop streams through contiguous memory.
    std::vector<int32_t> acc(stride);
    for (int yy = 0; yy < out_h; ++yy) {
        int ymin = cv.bounds[size_t(yy) * 2] - row_offset, ymax = cv.bounds[size_t(yy) * 2 + 1];
        const int32_t* k = &cv.k[size_t(yy) * size_t(cv.ksize)];
        std::fill(acc.begin(), acc.end(), int32_t(1) << (k_precision_bits - 1));
        for (int y = 0; y < ymax; ++y) {
            const uint8_t* row = &src->data[size_t(y + ymin) * stride];
            const int32_t ky = k[y];
            for (size_t i = 0; i < stride; ++i) acc[i] += int32_t(row[i]) * ky;
        }
        uint8_t* dst = &out.data[size_t(yy) * stride];
        for (size_t i = 0; i < stride; ++i) dst[i] = clip8(acc[i]);
    }
    return out;
}

RgbImage resize_bicubic_opencv(const RgbImage& in, int out_w, int out_h) {
    cv::Mat src(in.height, in.width, CV_8UC3, const_cast<uint8_t*>(in.data.data()));
    cv::Mat dst;
    cv::resize(src, dst, cv::Size(out_w, out_h), 0, 0, cv::INTER_CUBIC);
    RgbImage out;
    out.width = out_w;
    out.height = out_h;
    out.data.assign(dst.data, dst.data + size_t(out_w) * size_t(out_h) * 3);
    return out;
}

RgbImage resize_nearest_pil(const RgbImage& in, int out_w, int out_h) {
    RgbImage out;
    out.width = out_w;
    out.height = out_h;
    out.data.resize(size_t(out_w) * size_t(out_h) * 3);
    const double sx = double(in.width) / out_w, sy = double(in.height) / out_h;
    for (int y = 0; y < out_h; ++y) {
        int iy = std::min(in.height - 1, int((y + 0.5) * sy));
        for (int x = 0; x < out_w; ++x) {
            int ix = std::min(in.width - 1, int((x + 0.5) * sx));
            for (int c = 0; c < 3; ++c) out.data[(size_t(y) * size_t(out_w) + size_t(x)) * 3 + size_t(c)] = in.at(iy, ix, c);
        }
    }
    return out;
}

}  // namespace matrix::vision
