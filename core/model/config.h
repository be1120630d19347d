// Qwen2-VL configuration: the numbers that fix the shapes and the numerics of the model.
// Read from config.json in both layouts that exist in the wild: the flat one of published checkpoints
// (LM keys at top level, rope_scaling.mrope_section) and the nested one that transformers 5 writes
// (text_config / vision_config, rope_parameters). Shapes that the config leaves open are taken from the weights
// (see reconcile_with_weights); a disagreement between config and weights is an error naming both values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace matrix::model {

struct VisionConfig {
    int64_t depth = 32;
    int64_t embed_dim = 1280;        // width of the vision blocks
    int64_t hidden_size = 3584;      // output of the patch merger = LM hidden size
    int64_t num_heads = 16;
    double mlp_ratio = 4.0;
    int64_t in_channels = 3;
    int64_t patch_size = 14;
    int64_t spatial_merge_size = 2;
    int64_t temporal_patch_size = 2;
    std::string hidden_act = "quick_gelu";
    double rope_theta = 10000.0;

    int64_t head_dim() const { return embed_dim / num_heads; }
    int64_t mlp_hidden() const { return static_cast<int64_t>(embed_dim * mlp_ratio); }
    int64_t patch_dim() const { return in_channels * temporal_patch_size * patch_size * patch_size; }
};

struct TextConfig {
    int64_t vocab_size = 152064;
    int64_t hidden_size = 3584;
    int64_t intermediate_size = 18944;
    int64_t num_hidden_layers = 28;
    int64_t num_attention_heads = 28;
    int64_t num_key_value_heads = 4;
    int64_t head_dim = 0;  // 0: hidden_size / num_attention_heads
    double rms_norm_eps = 1e-6;
    double rope_theta = 1000000.0;
    std::vector<int64_t> mrope_section{16, 24, 24};
    int64_t max_position_embeddings = 32768;
    std::string hidden_act = "silu";

    int64_t attn_head_dim() const { return head_dim > 0 ? head_dim : hidden_size / num_attention_heads; }
};

struct Qwen2VLConfig {
    TextConfig text;
    VisionConfig vision;
    bool tie_word_embeddings = false;
    int64_t image_token_id = 151655;
    int64_t video_token_id = 151656;
    int64_t vision_start_token_id = 151652;
    int64_t vision_end_token_id = 151653;
    std::vector<int64_t> eos_token_ids{151645};  // from generation_config.json when present, else config
    int64_t bos_token_id = -1;
    int64_t pad_token_id = -1;
    std::string layout;  // "nested" or "flat": which layout config.json had
};

// Qwen2-VL-7B-Instruct's shapes: the defaults above, which are that model's config.json (checked in
// test_config_validation). The benchmarks build 7B-shaped models with random weights from it.
inline Qwen2VLConfig qwen2vl_7b_config() { return Qwen2VLConfig{}; }

// Parses config.json text (either layout). `context` names the file in errors.
Result<Qwen2VLConfig> parse_config(const std::string& json_text, const std::string& context = "config.json");
// Reads DIR/config.json and, when present, DIR/generation_config.json (eos_token_id may be a list there).
Result<Qwen2VLConfig> load_config(const std::string& model_dir);

// Checks the config against the shapes of the checkpoint tensors (canonical names, see weights.h) and fills
// what the config could not say (tie_word_embeddings when lm_head.weight is absent, head_dim, vocab_size when
// the config omits it). Returns an error naming the config key and both values when they disagree.
Status reconcile_with_weights(Qwen2VLConfig& cfg, const std::map<std::string, std::vector<int64_t>>& shapes);

}  // namespace matrix::model
