// `matrix preprocess`: an image -> Qwen2-VL pixel_values [n, 1176] and grid_thw [1, 3] in a safetensors file
// (core/image), to diff against HF's processor or to feed `matrix forward`. Needs OpenCV (absent in the
// engine-only build, where the command says so).
#include <iostream>

#include "app/cli/args.h"
#include "app/cli/command.h"
#ifdef MATRIX_HAVE_OPENCV
#include "core/image/qwen2vl_preprocess.h"
#include "core/util/safetensors.h"
#endif

namespace {

#ifdef MATRIX_HAVE_OPENCV
bool parse_count(const std::string& s, int64_t& out) {
    try {
        size_t used = 0;
        long long v = std::stoll(s, &used);
        if (used != s.size() || v <= 0) return false;
        out = v;
        return true;
    } catch (...) {
        return false;
    }
}
#endif

int run_preprocess(int argc, char** argv) {
    matrix::cli::Args args(
        "usage: matrix preprocess --image F [--image F2 ...] [--config DIR] [--min-pixels N] [--max-pixels N]\n"
        "                         --out F.safetensors\n"
        "  Qwen2-VL image preprocessing as HF's Qwen2VLImageProcessor does it. Writes pixel_values\n"
        "  (F32 [n_patches, 1176], images concatenated in order) and grid_thw (I64 [n_images, 3]).\n"
        "  --config reads preprocessor_config.json from a checkpoint directory; --min-pixels/--max-pixels\n"
        "  override it (defaults: 3136 and 1003520).\n",
        {"image", "config", "min-pixels", "max-pixels", "out"});
    if (!args.parse(argc, argv)) return args.help_requested() ? 0 : 2;
    if (!args.require({"image", "out"}, "preprocess")) return 2;
#ifndef MATRIX_HAVE_OPENCV
    return matrix::cli::fail("preprocess: this build has no OpenCV (engine-only build)");
#else
    namespace vision = matrix::vision;
    vision::PreprocessConfig cfg;
    if (auto dir = args.get("config")) {
        auto c = vision::load_preprocess_config(*dir);
        if (!c) return matrix::cli::fail("preprocess: " + c.error().to_string());
        cfg = *c;
    }
    for (const char* key : {"min-pixels", "max-pixels"}) {
        if (auto v = args.get(key)) {
            int64_t n = 0;
            if (!parse_count(*v, n)) {
                std::cerr << "matrix preprocess: --" << key << " needs a positive integer, got '" << *v << "'\n";
                return 2;
            }
            (std::string(key) == "min-pixels" ? cfg.min_pixels : cfg.max_pixels) = n;
        }
    }
    std::vector<vision::PreprocessedImage> images;
    for (const std::string& path : args.get_all("image")) {
        auto img = vision::preprocess_file(path, cfg);
        if (!img) return matrix::cli::fail("preprocess: " + img.error().to_string());
        std::cout << path << ": " << img->resized_width << "x" << img->resized_height << ", grid_thw "
                  << img->grid_thw[0] << " " << img->grid_thw[1] << " " << img->grid_thw[2] << ", "
                  << img->n_patches << " patches, " << img->n_merged_tokens(cfg.merge_size) << " image tokens\n";
        images.push_back(std::move(*img));
    }
    vision::PreprocessedBatch batch = vision::concat(images);
    std::vector<int64_t> grid;
    for (const auto& g : batch.grid_thw) grid.insert(grid.end(), g.begin(), g.end());
    auto st = matrix::write_safetensors(
        *args.get("out"),
        {{"pixel_values", matrix::DType::F32, {batch.n_patches, batch.patch_dim}, batch.pixel_values.data()},
         {"grid_thw", matrix::DType::I64, {int64_t(batch.grid_thw.size()), 3}, grid.data()}},
        {{"format", "pt"}, {"producer", "matrix preprocess"}});
    if (!st) return matrix::cli::fail("preprocess: " + st.error().to_string());
    return 0;
#endif
}

}  // namespace

MATRIX_CLI_COMMAND("preprocess", "Qwen2-VL image preprocessing to pixel_values/grid_thw safetensors", run_preprocess);
