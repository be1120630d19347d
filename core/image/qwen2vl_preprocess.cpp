// Qwen2-VL preprocessing (see qwen2vl_preprocess.h). Normalisation is done in float32 like HF:
// x = float(v * (1/255)) computed in double then cast, then (x - mean) / std in float.
#include "core/image/qwen2vl_preprocess.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sys/stat.h>

#include "core/image/resize_bicubic.h"
#include "core/image/smart_resize.h"
#include "core/util/json_input.h"

namespace matrix::vision {

Result<PreprocessConfig> load_preprocess_config(const std::string& path) {
    std::string file = path;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) file = path + "/preprocessor_config.json";
    PreprocessConfig c;
    try {
        MATRIX_TRY(nlohmann::json j, read_json_file(file));
        if (j.contains("size") && j["size"].is_object()) {
            const auto& s = j["size"];
            if (s.contains("shortest_edge") && s["shortest_edge"].is_number()) c.min_pixels = s["shortest_edge"];
            if (s.contains("longest_edge") && s["longest_edge"].is_number()) c.max_pixels = s["longest_edge"];
            if (s.contains("min_pixels") && s["min_pixels"].is_number()) c.min_pixels = s["min_pixels"];
            if (s.contains("max_pixels") && s["max_pixels"].is_number()) c.max_pixels = s["max_pixels"];
        }
        if (j.contains("min_pixels") && j["min_pixels"].is_number()) c.min_pixels = j["min_pixels"];
        if (j.contains("max_pixels") && j["max_pixels"].is_number()) c.max_pixels = j["max_pixels"];
        c.patch_size = j.value("patch_size", c.patch_size);
        c.merge_size = j.value("merge_size", c.merge_size);
        c.temporal_patch_size = j.value("temporal_patch_size", c.temporal_patch_size);
        if (j.contains("image_mean")) {
            auto v = j["image_mean"].get<std::vector<float>>();
            if (v.size() != 3) return make_error("image_mean must have 3 values", file);
            c.mean = {v[0], v[1], v[2]};
        }
        if (j.contains("image_std")) {
            auto v = j["image_std"].get<std::vector<float>>();
            if (v.size() != 3) return make_error("image_std must have 3 values", file);
            c.std = {v[0], v[1], v[2]};
        }
    } catch (const std::exception& e) {
        return make_error(std::string("invalid preprocessor config: ") + e.what(), file);
    }
    if (c.patch_size <= 0 || c.merge_size <= 0 || c.temporal_patch_size <= 0)
        return make_error("patch_size, merge_size and temporal_patch_size must be positive", file);
    return c;
}

Result<PreprocessedImage> preprocess(const RgbImage& input, const PreprocessConfig& cfg) {
    if (input.width <= 0 || input.height <= 0 || input.data.size() != size_t(input.width) * size_t(input.height) * 3)
        return make_error("empty or malformed RGB image");
    RgbImage pre;
    const RgbImage* src = &input;
    if (cfg.pre_max_pixels > 0 && int64_t(input.width) * input.height > cfg.pre_max_pixels) {
        double f = std::sqrt(double(cfg.pre_max_pixels) / (double(input.width) * double(input.height)));
        int w = std::max(1, int(input.width * f)), h = std::max(1, int(input.height * f));
        pre = cfg.pre_resample == PreprocessConfig::PreResample::Nearest ? resize_nearest_pil(input, w, h)
                                                                         : resize_bicubic_pil(input, w, h);
        src = &pre;
    }
    const RgbImage& image = *src;
    const int64_t factor = int64_t(cfg.patch_size) * cfg.merge_size;
    auto size = smart_resize(image.height, image.width, factor, cfg.min_pixels, cfg.max_pixels);
    if (!size) return size.error();
    const int rh = int(size->height), rw = int(size->width);
    RgbImage resized = cfg.resample == PreprocessConfig::Resample::PilBicubic ? resize_bicubic_pil(image, rw, rh)
                                                                               : resize_bicubic_opencv(image, rw, rh);

    // Normalised planes [3, rh, rw] in float32, as the HF pipeline holds them before patchifying.
    std::vector<float> plane(size_t(3) * size_t(rh) * size_t(rw));
    const double scale = 1.0 / 255.0;
    std::array<float, 256 * 3> lut;  // value -> normalised float per channel (bit-identical to per-pixel math)
    for (int c = 0; c < 3; ++c)
        for (int v = 0; v < 256; ++v) lut[size_t(c) * 256 + size_t(v)] = (float(v * scale) - cfg.mean[c]) / cfg.std[c];
    for (int y = 0; y < rh; ++y)
        for (int x = 0; x < rw; ++x)
            for (int c = 0; c < 3; ++c)
                plane[(size_t(c) * size_t(rh) + size_t(y)) * size_t(rw) + size_t(x)] =
                    lut[size_t(c) * 256 + resized.at(y, x, c)];

    const int P = cfg.patch_size, M = cfg.merge_size, T = cfg.temporal_patch_size;
    const int64_t gh = rh / P, gw = rw / P, gt = 1;  // one image = one temporal patch (duplicated T times)
    PreprocessedImage out;
    out.grid_thw = {gt, gh, gw};
    out.resized_height = rh;
    out.resized_width = rw;
    out.n_patches = gt * gh * gw;
    out.patch_dim = int64_t(3) * T * P * P;
    out.pixel_values.resize(size_t(out.n_patches) * size_t(out.patch_dim));
    float* dst = out.pixel_values.data();
    // Rows: (bh, bw, mh, mw) with h = bh*M + mh, w = bw*M + mw. Columns: (c, t, py, px).
    for (int64_t bh = 0; bh < gh / M; ++bh)
        for (int64_t bw = 0; bw < gw / M; ++bw)
            for (int mh = 0; mh < M; ++mh)
                for (int mw = 0; mw < M; ++mw) {
                    const int64_t y0 = (bh * M + mh) * P, x0 = (bw * M + mw) * P;
                    for (int c = 0; c < 3; ++c)
                        for (int t = 0; t < T; ++t)  // temporal duplication: every t reads the same frame
                            for (int py = 0; py < P; ++py) {
                                const float* src = &plane[(size_t(c) * size_t(rh) + size_t(y0 + py)) * size_t(rw) + size_t(x0)];
                                std::copy(src, src + P, dst);
                                dst += P;
                            }
                }
    return out;
}

Result<PreprocessedImage> preprocess_file(const std::string& path, const PreprocessConfig& config) {
    auto img = load_rgb(path);
    if (!img) return img.error();
    auto out = preprocess(*img, config);
    if (!out) return out.error().within(path);
    return out;
}

PreprocessedBatch concat(const std::vector<PreprocessedImage>& images) {
    PreprocessedBatch b;
    for (const auto& im : images) {
        b.patch_dim = im.patch_dim;
        b.n_patches += im.n_patches;
        b.pixel_values.insert(b.pixel_values.end(), im.pixel_values.begin(), im.pixel_values.end());
        b.grid_thw.push_back(im.grid_thw);
    }
    return b;
}

}  // namespace matrix::vision
