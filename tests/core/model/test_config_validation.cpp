// config.json values that used to load and then give all-NaN logits with exit status 0 (rope_theta 0, a negative
// rms_norm_eps) or a silently truncated width (hidden_size 64.5) are refused with the key and the reason; and a
// model whose weights hold NaN fails generation loudly instead of emitting token 0 over and over.
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/model/config.h"
#include "core/model/generation.h"
#include "core/model/qwen2vl.h"
#include "core/model/weights.h"

// Qt after torch: Qt's `slots` macro breaks torch headers included later.
#include <QtTest>

using namespace matrix;
using namespace matrix::model;
using nlohmann::json;

namespace {
const std::string k_model_dir = std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny/tiny-qwen2vl";

json fixture_config() {
    std::ifstream in(k_model_dir + "/config.json");
    return json::parse(in);
}

std::string error_of(const json& cfg) {
    auto r = parse_config(cfg.dump(), "config.json");
    return r.ok() ? "ok" : r.error().to_string();
}
}  // namespace

class TestConfigValidation : public QObject {
    Q_OBJECT
private slots:
    void bad_values_are_refused() {
        const json base = fixture_config();
        QCOMPARE(error_of(base), std::string("ok"));
        json c = base;
        c["text_config"]["rope_parameters"]["rope_theta"] = 0;
        QCOMPARE(error_of(c), std::string("config.json: rope_theta must be a positive finite number, not 0.0"));
        c = base;
        c["text_config"]["rms_norm_eps"] = -1;
        QCOMPARE(error_of(c), std::string("config.json: rms_norm_eps must be a positive finite number, not -1.0"));
        c = base;
        c["text_config"]["hidden_size"] = 64.5;
        QCOMPARE(error_of(c), std::string("config.json: hidden_size must be a whole number, not 64.5"));
        c = base;
        c["text_config"]["num_hidden_layers"] = 0;
        QCOMPARE(error_of(c), std::string("config.json: num_hidden_layers must be positive, not 0"));
        c = base;
        c["vision_config"]["patch_size"] = "14";
        QCOMPARE(error_of(c), std::string("config.json: patch_size must be a whole number, not \"14\""));
        c = base;
        c["tie_word_embeddings"] = 1;
        QCOMPARE(error_of(c), std::string("config.json: tie_word_embeddings must be true or false, not 1"));
        c = base;
        c["text_config"]["vocab_size"] = -3;
        QCOMPARE(error_of(c), std::string("config.json: vocab_size must be positive, not -3"));
    }

    // qwen2vl_7b_config() (the struct's defaults, which the 7B-shaped benchmarks use) against the config.json
    // published with Qwen/Qwen2-VL-7B-Instruct (flat layout, as released).
    void seven_b_shapes_are_the_published_config() {
        const char* published = R"({
  "architectures": ["Qwen2VLForConditionalGeneration"], "attention_dropout": 0.0, "bos_token_id": 151643,
  "eos_token_id": 151645, "vision_start_token_id": 151652, "vision_end_token_id": 151653, "vision_token_id": 151654,
  "image_token_id": 151655, "video_token_id": 151656, "hidden_act": "silu", "hidden_size": 3584,
  "initializer_range": 0.02, "intermediate_size": 18944, "max_position_embeddings": 32768, "max_window_layers": 28,
  "model_type": "qwen2_vl", "num_attention_heads": 28, "num_hidden_layers": 28, "num_key_value_heads": 4,
  "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": false,
  "torch_dtype": "bfloat16", "transformers_version": "4.41.2", "use_cache": true, "use_sliding_window": false,
  "vision_config": {"depth": 32, "embed_dim": 1280, "mlp_ratio": 4, "num_heads": 16, "in_chans": 3,
                    "hidden_size": 3584, "patch_size": 14, "spatial_merge_size": 2, "spatial_patch_size": 14,
                    "temporal_patch_size": 2},
  "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]}, "vocab_size": 152064})";
        auto parsed = parse_config(published, "Qwen2-VL-7B-Instruct/config.json");
        QVERIFY2(parsed.ok(), parsed.ok() ? "" : parsed.error().to_string().c_str());
        const Qwen2VLConfig want = *parsed, got = qwen2vl_7b_config();
        const TextConfig &wt = want.text, &gt = got.text;
        QCOMPARE(gt.vocab_size, wt.vocab_size);
        QCOMPARE(gt.hidden_size, wt.hidden_size);
        QCOMPARE(gt.intermediate_size, wt.intermediate_size);
        QCOMPARE(gt.num_hidden_layers, wt.num_hidden_layers);
        QCOMPARE(gt.num_attention_heads, wt.num_attention_heads);
        QCOMPARE(gt.num_key_value_heads, wt.num_key_value_heads);
        QCOMPARE(gt.attn_head_dim(), wt.attn_head_dim());
        QCOMPARE(gt.rms_norm_eps, wt.rms_norm_eps);
        QCOMPARE(gt.rope_theta, wt.rope_theta);
        QCOMPARE(gt.mrope_section, wt.mrope_section);
        QCOMPARE(gt.max_position_embeddings, wt.max_position_embeddings);
        QCOMPARE(gt.hidden_act, wt.hidden_act);
        const VisionConfig &wv = want.vision, &gv = got.vision;
        QCOMPARE(gv.depth, wv.depth);
        QCOMPARE(gv.embed_dim, wv.embed_dim);
        QCOMPARE(gv.hidden_size, wv.hidden_size);
        QCOMPARE(gv.num_heads, wv.num_heads);
        QCOMPARE(gv.mlp_ratio, wv.mlp_ratio);
        QCOMPARE(gv.in_channels, wv.in_channels);
        QCOMPARE(gv.patch_size, wv.patch_size);
        QCOMPARE(gv.spatial_merge_size, wv.spatial_merge_size);
        QCOMPARE(gv.temporal_patch_size, wv.temporal_patch_size);
        QCOMPARE(got.tie_word_embeddings, want.tie_word_embeddings);
        QCOMPARE(got.image_token_id, want.image_token_id);
        QCOMPARE(got.vision_start_token_id, want.vision_start_token_id);
        QCOMPARE(got.vision_end_token_id, want.vision_end_token_id);
        QCOMPARE(got.eos_token_ids, want.eos_token_ids);
    }

    void nan_weights_fail_generation() {
        auto model = load_qwen2vl(k_model_dir);
        QVERIFY2(model.ok(), model.ok() ? "" : model.error().to_string().c_str());
        {
            torch::NoGradGuard g;
            for (auto& p : (*model)->named_parameters())
                if (p.key().find("norm") != std::string::npos) {
                    p.value().fill_(std::numeric_limits<float>::quiet_NaN());
                    break;
                }
        }
        GenerationRequest req;
        req.input_ids = torch::tensor({{1, 2, 3, 4}}, torch::kInt64);
        SamplingOptions opt;
        opt.max_new_tokens = 4;
        auto r = generate(*model, req, opt);
        QVERIFY(!r.ok());
        QVERIFY2(r.error().message.find("non-finite logits") != std::string::npos, r.error().to_string().c_str());
    }
};

QTEST_GUILESS_MAIN(TestConfigValidation)
#include "test_config_validation.moc"
