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
