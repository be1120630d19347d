// Qwen2-VL image preprocessing, equal to HF's Qwen2VLImageProcessor: RGB -> smart_resize (factor
// patch*merge, min/max pixels) -> PIL-compatible bicubic resize -> rescale 1/255 -> normalise with the
// CLIP mean/std -> patchify into [grid_t*grid_h*grid_w, C*T*P*P] rows (a single image is duplicated along
// time to fill temporal_patch_size; rows ordered (t, h-block, w-block, merge-row, merge-col) so each 2x2
// merge window is 4 consecutive rows; columns ordered (channel, time, y, x)).
// Output is plain float buffers plus grid_thw: no torch here (core/model converts), no OpenCV in the API.
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/image/image_io.h"
#include "core/util/result.h"

namespace matrix::vision {

struct PreprocessConfig {
    int64_t min_pixels = 56 * 56;         // HF default; Qwen2-VL-7B's preprocessor_config.json says 3136
    int64_t max_pixels = 28 * 28 * 1280;  // 1003520 (Qwen2-VL-7B: 12845056)
    int patch_size = 14;
    int merge_size = 2;
    int temporal_patch_size = 2;
    std::array<float, 3> mean{0.48145466f, 0.4578275f, 0.40821073f};  // OPENAI_CLIP_MEAN
    std::array<float, 3> std{0.26862954f, 0.26130258f, 0.27577711f};  // OPENAI_CLIP_STD
    enum class Resample { PilBicubic, OpenCvCubic } resample = Resample::PilBicubic;

    // Optional pre-resize done by LLaMA-Factory's mm_plugin before the HF processor (what MATRIX's SFT/DPO
    // data went through): if width*height > pre_max_pixels, scale both sides by sqrt(pre_max_pixels / area)
    // and truncate to int (LLaMA-Factory default image_max_pixels / image_resolution = 768*768). The resample
    // filter depends on the LLaMA-Factory version: NEAREST in 0.9.1/0.9.2 (`image_resolution`), PIL's default
    // BICUBIC in later ones (`image_max_pixels`). 0 = off (plain HF / inference behaviour).
    int64_t pre_max_pixels = 0;
    enum class PreResample { Nearest, PilBicubic } pre_resample = PreResample::PilBicubic;
};

// Reads preprocessor_config.json from a checkpoint directory (or the file): min_pixels/max_pixels (or
// size.shortest_edge/longest_edge as transformers 5 writes them), image_mean, image_std, patch_size,
// merge_size, temporal_patch_size. Missing keys keep the defaults; a missing file is an error.
Result<PreprocessConfig> load_preprocess_config(const std::string& path);

struct PreprocessedImage {
    std::vector<float> pixel_values;   // [n_patches, patch_dim] row-major
    int64_t n_patches = 0;
    int64_t patch_dim = 0;             // 3 * temporal_patch_size * patch_size^2 = 1176
    std::array<int64_t, 3> grid_thw{0, 0, 0};
    int64_t resized_height = 0, resized_width = 0;
    int64_t n_merged_tokens(int merge_size = 2) const {  // <|image_pad|> count in the prompt
        return grid_thw[0] * grid_thw[1] * grid_thw[2] / (merge_size * merge_size);
    }
};

Result<PreprocessedImage> preprocess(const RgbImage& image, const PreprocessConfig& config = {});
// load_rgb + preprocess; errors name the file.
Result<PreprocessedImage> preprocess_file(const std::string& path, const PreprocessConfig& config = {});

// Several images for one prompt: pixel_values concatenated in order ([sum n_patches, patch_dim]) and one
// grid_thw row per image ([n_images, 3]), as HF's processor returns them.
struct PreprocessedBatch {
    std::vector<float> pixel_values;
    int64_t n_patches = 0;
    int64_t patch_dim = 0;
    std::vector<std::array<int64_t, 3>> grid_thw;
};
PreprocessedBatch concat(const std::vector<PreprocessedImage>& images);

}  // namespace matrix::vision
