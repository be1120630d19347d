// Qwen2-VL image preprocessing time per image (decode, PIL-compatible resize, normalise, patchify) on the
// shared real photos, with the 7B checkpoint's pixel limits (min 3136, max 12845056) and the default
// max 1003520 that MATRIX-style prompts use.
// usage: bench_preprocess [image ...]   (default: every file in shared/data/images)
#include <chrono>
#include <cstdio>
#include <dirent.h>
#include <string>
#include <vector>

#include "core/image/qwen2vl_preprocess.h"

using namespace matrix::vision;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
    std::vector<std::string> files;
    for (int i = 1; i < argc; ++i) files.push_back(argv[i]);
    if (files.empty()) {
        std::string dir = std::string(MATRIX_SHARED_DIR) + "/data/images";
        if (DIR* d = opendir(dir.c_str())) {
            while (dirent* e = readdir(d))
                if (e->d_name[0] != '.') files.push_back(dir + "/" + e->d_name);
            closedir(d);
        }
    }
    for (const std::string& f : files) {
        auto img = load_rgb(f);
        if (!img) {
            std::printf("%s: %s\n", f.c_str(), img.error().to_string().c_str());
            continue;
        }
        double decode = 1e9;
        for (int r = 0; r < 3; ++r) {
            auto t0 = Clock::now();
            auto again = load_rgb(f);
            decode = std::min(decode, std::chrono::duration<double>(Clock::now() - t0).count());
        }
        std::printf("%-60s decode alone %7.1f ms\n", f.c_str(), decode * 1e3);
        for (int64_t max_px : {int64_t(1003520), int64_t(12845056)}) {
            PreprocessConfig cfg;
            cfg.max_pixels = max_px;
            double best = 1e9;
            PreprocessedImage out;
            for (int r = 0; r < 3; ++r) {
                auto t0 = Clock::now();
                auto res = preprocess_file(f, cfg);
                best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
                if (res) out = std::move(*res);
            }
            std::printf("%-60s %5dx%-5d max_pixels %8lld -> %4lldx%-4lld %6lld patches  %7.1f ms\n", f.c_str(),
                        img->width, img->height, (long long)max_px, (long long)out.resized_width,
                        (long long)out.resized_height, (long long)out.n_patches, best * 1e3);
        }
    }
    return 0;
}
