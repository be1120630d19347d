// What the trainer sees: SFT samples from a dataset's trajectories (ChatML agent conversations with their
// images; trained tokens = assistant turns incl. <|im_end|>\n, as LLaMA-Factory's qwen2_vl template) and DPO
// samples from its pairs (prompt = system + task + images + history up to the step; chosen / rejected = the
// next action + <|im_end|>\n). Also the over-long policy (drop, or drop the oldest steps of the history) and a
// per-sample preview (rendered template, token counts, a warning when max_length would cut an assistant turn).
// No torch here; reads the store on the caller's connection (one thread).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/store/database.h"
#include "core/tokenizer/tokenizer.h"
#include "core/training/training_config.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace matrix::train {

struct SampleImage {
    std::string path;      // as written in the record
    std::string resolved;  // absolute path on disk ("" = missing)
    std::array<int64_t, 3> grid_thw{0, 0, 0};
};

struct SftSample {
    int64_t task_id = 0;
    int64_t trajectory_id = 0;
    std::string content_hash;          // sha256 of the rendered text and the images' identities
    std::vector<int32_t> ids;
    std::vector<uint8_t> mask;         // 1 = trained (assistant) token
    std::vector<SampleImage> images;   // in prompt order
    int n_steps = 0, n_steps_kept = 0; // truncate_history drops the oldest steps
    int64_t n_trained() const;
};

struct DpoSample {
    int64_t pair_id = 0;
    std::string content_hash;
    std::vector<int32_t> prompt;   // ends with "<|im_start|>assistant\n"
    std::vector<int32_t> chosen;   // action + "<|im_end|>\n"
    std::vector<int32_t> rejected;
    std::vector<SampleImage> images;
    int n_history_turns = 0, n_history_kept = 0;
};

struct DataReport {
    int64_t considered = 0;        // trajectories / pairs looked at
    int64_t filtered = 0;          // left out by verdict / status
    int64_t used = 0;
    int64_t dropped_overlong = 0;
    int64_t truncated = 0;         // kept after dropping history steps
    int64_t missing_images = 0;    // samples left out because an image is missing
    int64_t tokens = 0;            // total tokens of the used samples
    std::vector<std::string> warnings;  // first few, one line each
    std::string summary() const;   // "used 12 of 15 (2 filtered, 1 over max_length)"
};

struct ImageSettings {
    int64_t min_pixels = 3136;
    int64_t max_pixels = 12845056;  // Qwen2-VL-7B-Instruct's preprocessor_config.json
    int merge_size = 2;
    int patch_size = 14;
};
// From the model directory's preprocessor_config.json when present, else Qwen2-VL's published values.
ImageSettings load_image_settings(const std::string& model_dir);

struct SftDataset {
    std::vector<SftSample> samples;
    DataReport report;
};
struct DpoDataset {
    std::vector<DpoSample> samples;
    DataReport report;
};

// Trajectories of `dataset_id` (primary trajectory of each task) with config.verdict_filter,
// config.max_length and config.overlong applied.
Result<SftDataset> load_sft_data(store::Database& db, int64_t dataset_id, const tok::Tokenizer& tokenizer,
                                 const ImageSettings& images, const TrainingConfig& config,
                                 const Progress& progress = {});
// Pairs of `dataset_id` (config.pairs: approved or all non-rejected) with the length policy applied.
Result<DpoDataset> load_dpo_data(store::Database& db, int64_t dataset_id, const tok::Tokenizer& tokenizer,
                                 const ImageSettings& images, const TrainingConfig& config,
                                 const Progress& progress = {});

// "What the trainer sees" for one trajectory.
struct SamplePreview {
    std::string rendered;             // the full ChatML text (image pads collapsed to "<|image_pad|>xN")
    int64_t n_tokens = 0;
    int64_t n_trained = 0;
    int64_t n_image_tokens = 0;
    int n_steps = 0;
    bool over_limit = false;
    bool cuts_assistant = false;      // max_length falls inside or before an assistant turn
    std::string warning;              // empty when the sample fits
    std::optional<SftSample> sample;  // after the over-long policy (nullopt: dropped)
};
Result<SamplePreview> preview_sft_sample(store::Database& db, int64_t trajectory_id, const tok::Tokenizer& tokenizer,
                                         const ImageSettings& images, const TrainingConfig& config);

// Collapses runs of <|image_pad|> in rendered text for display.
std::string collapse_image_pads(const std::string& text);

}  // namespace matrix::train
