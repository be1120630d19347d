// Training building blocks without the model: config keys/defaults/overrides, SFT/DPO losses against closed
// forms and the fixture's DPO values, the warmup+cosine schedule against HF's formula, PEFT adapter save/read
// against the fixture's peft-adapter/, LoRA merging, and bit-exact resume of a toy run from a checkpoint.
#include <filesystem>
#include <fstream>

#include "core/training/adapter_io.h"
#include "core/training/checkpoint.h"
#include "core/training/losses.h"
#include "core/training/optimizer.h"
#include "core/model/weights.h"
#include "core/training/training_config.h"

// Qt after torch: Qt's `slots` macro breaks torch headers included later.
#include <QtTest>

using namespace matrix;
using namespace matrix::train;
namespace fs = std::filesystem;

namespace {
const std::string kFixture = std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny";

torch::Tensor fixture_tensor(const std::string& name) {
    auto f = SafetensorsFile::open(kFixture + "/reference.safetensors");
    if (!f.ok()) return {};
    auto v = (*f)->find(name);
    return v ? model::view_tensor(*v)->clone() : torch::Tensor();
}

// A toy "model" with dropout so that resume must restore the RNG to give equal losses.
struct Toy : torch::nn::Module {
    torch::nn::Linear l1{nullptr}, l2{nullptr};
    torch::nn::Dropout drop{nullptr};
    Toy() {
        l1 = register_module("l1", torch::nn::Linear(8, 16));
        l2 = register_module("l2", torch::nn::Linear(16, 4));
        drop = register_module("drop", torch::nn::Dropout(0.3));
    }
    torch::Tensor forward(torch::Tensor x) { return l2(drop(torch::relu(l1(x)))); }
};

std::vector<NamedParam> named(torch::nn::Module& m) {
    std::vector<NamedParam> out;
    for (auto& p : m.named_parameters()) out.push_back({p.key(), p.value()});
    return out;
}

// Runs steps [from, to) of a toy regression; data for step s is a function of s only.
std::vector<double> toy_steps(Toy& model, Optimizer& opt, int from, int to) {
    std::vector<double> losses;
    model.train();
    for (int s = from; s < to; ++s) {
        auto g = torch::Generator(at::detail::createCPUGenerator(1000 + s));
        auto x = torch::randn({6, 8}, g);
        auto y = torch::randn({6, 4}, g);
        for (int micro = 0; micro < 2; ++micro) {  // grad_accum = 2
            auto loss = torch::mse_loss(model.forward(x), y) / 2;
            loss.backward();
            losses.push_back(loss.item<double>());
        }
        opt.step();
    }
    return losses;
}
}  // namespace

class TestTrainingCore : public QObject {
    Q_OBJECT
private slots:
    void config_defaults_are_matrix() {
        TrainingConfig c;
        QCOMPARE(c.lora_r, 128);
        QCOMPARE(c.lora_alpha, 16.0);
        QCOMPARE(c.lora_dropout, 0.05);
        QCOMPARE(c.lr, 1e-5);
        QCOMPARE(c.scheduler, std::string("cosine"));
        QCOMPARE(c.warmup_ratio, 0.01);
        QCOMPARE(c.weight_decay, 0.1);
        QCOMPARE(c.beta, 0.1);
        QCOMPARE(c.max_length, int64_t(10240));
        QCOMPARE(c.lora_targets, (std::vector<std::string>{"q_proj", "k_proj", "v_proj", "o_proj"}));
        QVERIFY(c.validate().ok());
        // every key of the table is in the JSON and vice versa
        auto j = c.to_json();
        QCOMPARE(j.size(), config_fields().size());
        for (const auto& f : config_fields()) QVERIFY2(j.contains(f.key), f.key.c_str());
    }
    void config_json_round_trip() {
        TrainingConfig c;
        QVERIFY(c.set("lr=2e-4").ok());
        QVERIFY(c.set("lora_targets=q_proj,v_proj").ok());
        QVERIFY(c.set("grad_checkpointing", "true").ok());
        QVERIFY(c.set("loss=ipo").ok());
        QTemporaryDir dir;
        std::string path = dir.filePath("c.json").toStdString();
        QVERIFY(save_training_config(c, path).ok());
        auto r = load_training_config(path);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().to_string().c_str());
        QCOMPARE(r->lr, 2e-4);
        QCOMPARE(r->lora_targets, (std::vector<std::string>{"q_proj", "v_proj"}));
        QVERIFY(r->grad_checkpointing);
        QCOMPARE(r->loss, std::string("ipo"));
        QCOMPARE(r->to_json(), c.to_json());
    }
    void config_errors_data() {
        QTest::addColumn<QString>("setting");
        QTest::addColumn<QString>("needle");
        QTest::newRow("unknown key") << "learning_rate=1" << "unknown training config key 'learning_rate'";
        QTest::newRow("bad int") << "epochs=two" << "config key epochs";
        QTest::newRow("bad choice") << "loss=kto" << "not one of sigmoid|ipo|hinge";
        QTest::newRow("range") << "lora_dropout=1.5" << "config key lora_dropout";
        QTest::newRow("no equals") << "epochs" << "expected key=value";
        QTest::newRow("bool") << "train_vision=maybe" << "not a boolean";
        QTest::newRow("device") << "device=tpu" << "config key device";
    }
    void config_errors() {
        QFETCH(QString, setting);
        QFETCH(QString, needle);
        TrainingConfig c;
        auto s = c.set(setting.toStdString());
        QVERIFY(!s.ok());
        QVERIFY2(QString::fromStdString(s.error().to_string()).contains(needle), s.error().to_string().c_str());
        QCOMPARE(c.to_json(), TrainingConfig{}.to_json());  // unchanged on error
    }
    void config_json_unknown_key_named() {
        auto r = TrainingConfig::from_json({{"epochs", 2}, {"lora_rank", 8}});
        QVERIFY(!r.ok());
        QVERIFY(r.error().to_string().find("'lora_rank'") != std::string::npos);
        auto t = TrainingConfig::from_json({{"epochs", 2.5}});
        QVERIFY(!t.ok());
    }

    void sft_loss_matches_shifted_cross_entropy() {
        torch::manual_seed(1);
        auto logits = torch::randn({2, 7, 11});
        auto labels = torch::randint(0, 11, {2, 7}, torch::kInt64);
        labels.index_put_({0, torch::indexing::Slice(0, 3)}, kIgnoreIndex);
        labels.index_put_({1, 6}, kIgnoreIndex);
        auto ref = torch::nn::functional::cross_entropy(
            logits.narrow(1, 0, 6).reshape({-1, 11}), labels.narrow(1, 1, 6).reshape({-1}),
            torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex));
        QVERIFY(std::abs(sft_loss(logits, labels).item<double>() - ref.item<double>()) < 1e-6);
        // per-sequence sums: sequence 0 has labels at 3..6 -> positions 2..5
        auto lp = torch::log_softmax(logits, -1);
        double s0 = 0;
        for (int t = 3; t < 7; ++t) s0 += lp[0][t - 1][labels[0][t].item<int64_t>()].item<double>();
        auto seq = sequence_logps(logits, labels);
        QCOMPARE(seq.sizes(), torch::IntArrayRef({2}));
        QVERIFY(std::abs(seq[0].item<double>() - s0) < 1e-5);
        auto [sums, counts] = sequence_logps_and_counts(logits, labels);
        QCOMPARE(counts[0].item<double>(), 4.0);
        QCOMPARE(counts[1].item<double>(), 5.0);
    }
    // The chunked log-prob (512 rows at a time, its own backward) against float64 log_softmax + gather: values and
    // gradients over 1,300 labelled rows (three chunks), float32 and bfloat16 logits.
    void chunked_logps_match_log_softmax_data() {
        QTest::addColumn<bool>("bf16");
        QTest::newRow("float32") << false;
        QTest::newRow("bfloat16") << true;
    }

    void chunked_logps_match_log_softmax() {
        QFETCH(bool, bf16);
        torch::manual_seed(3);
        const int64_t B = 2, T = 700, V = 97;
        auto base = (torch::randn({B, T, V}) * 4).to(bf16 ? torch::kBFloat16 : torch::kFloat32);
        auto labels = torch::randint(0, V, {B, T}, torch::kInt64);
        labels.narrow(1, 0, 50).fill_(kIgnoreIndex);  // labels 50..699: 650 + 650 labelled positions
        auto weights = torch::randn({B});             // a different weight per sequence, as DPO's gradient has
        auto logits = base.clone().set_requires_grad(true);
        auto [sums, counts] = sequence_logps_and_counts(logits, labels);
        (sums * weights).sum().backward();
        QCOMPARE(counts[0].item<double>(), 650.0);

        auto ref_logits = base.to(torch::kFloat64).set_requires_grad(true);
        auto lp = torch::log_softmax(ref_logits, -1).narrow(1, 0, T - 1);
        auto tgt = labels.narrow(1, 1, T - 1);
        auto picked = lp.gather(2, tgt.clamp_min(0).unsqueeze(2)).squeeze(2) * (tgt != kIgnoreIndex);
        auto ref_sums = picked.sum(1);
        (ref_sums * weights.to(torch::kFloat64)).sum().backward();
        // Relative: each sum is ~ -6,000 (650 log-probs), accumulated in float32.
        const double value_err =
            ((sums.to(torch::kFloat64) - ref_sums).abs() / ref_sums.abs()).max().item<double>();
        const double grad_err =
            (logits.grad().to(torch::kFloat64) - ref_logits.grad()).abs().max().item<double>();
        // float32 accumulation over 650 tokens; bfloat16 only rounds the gradient it writes (8 bits of mantissa).
        QVERIFY2(value_err < 2e-6, std::to_string(value_err).c_str());
        QVERIFY2(grad_err < (bf16 ? 1e-2 : 1e-5), std::to_string(grad_err).c_str());  // weights ~N(0, 1)
        QCOMPARE(logits.grad().scalar_type(), bf16 ? torch::kBFloat16 : torch::kFloat32);
        // SFT's mean over all labelled tokens, the same way.
        QVERIFY(std::abs(sft_loss(base, labels).item<double>() + ref_sums.sum().item<double>() / 1300.0) < 1e-5);
    }

    void dpo_loss_reproduces_fixture() {
        auto v = fixture_tensor("dpo.values");
        QVERIFY(v.defined());
        auto t = dpo_loss(v.slice(0, 0, 1), v.slice(0, 1, 2), v.slice(0, 2, 3), v.slice(0, 3, 4), 0.1, DpoLoss::Sigmoid);
        QVERIFY(std::abs(t.loss.item<double>() - v[4].item<double>()) < 1e-5);
        const double h = (v[0].item<double>() - v[2].item<double>()) - (v[1].item<double>() - v[3].item<double>());
        QVERIFY(std::abs(t.margin - 0.1 * h) < 1e-5);
        QCOMPARE(t.reward_accuracy, h > 0 ? 1.0 : 0.0);
    }
    void dpo_loss_variants_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<double>("expected");
        // h = (-10 - -12) - (-20 - -19) = 3, beta 0.5
        QTest::newRow("sigmoid") << int(DpoLoss::Sigmoid) << std::log1p(std::exp(-1.5));
        QTest::newRow("ipo") << int(DpoLoss::Ipo) << (3.0 - 1.0) * (3.0 - 1.0);
        QTest::newRow("hinge") << int(DpoLoss::Hinge) << 0.0;
    }
    void dpo_loss_variants() {
        QFETCH(int, type);
        QFETCH(double, expected);
        auto t = dpo_loss(torch::tensor({-10.0}), torch::tensor({-20.0}), torch::tensor({-12.0}), torch::tensor({-19.0}),
                          0.5, DpoLoss(type));
        QVERIFY(std::abs(t.loss.item<double>() - expected) < 1e-6);
        QVERIFY(std::abs(t.chosen_rewards[0].item<double>() - 1.0) < 1e-6);
        QVERIFY(std::abs(t.rejected_rewards[0].item<double>() + 0.5) < 1e-6);
        QCOMPARE(t.reward_accuracy, 1.0);
    }

    void schedule_matches_hf() {
        // 200 steps, warmup 1% -> 2 warmup steps; HF: step/2 during warmup, then 0.5(1+cos(pi p)).
        QCOMPARE(warmup_steps(200, 0.01), int64_t(2));
        QCOMPARE(warmup_steps(30, 0.01), int64_t(1));
        QCOMPARE(lr_factor("cosine", 0, 200, 0.01), 0.0);
        QCOMPARE(lr_factor("cosine", 1, 200, 0.01), 0.5);
        QCOMPARE(lr_factor("cosine", 2, 200, 0.01), 1.0);
        QVERIFY(std::abs(lr_factor("cosine", 101, 200, 0.01) - 0.5) < 1e-12);
        QVERIFY(std::abs(lr_factor("cosine", 200, 200, 0.01)) < 1e-12);
        QVERIFY(std::abs(lr_factor("linear", 101, 200, 0.01) - 0.5) < 1e-12);
        QCOMPARE(lr_factor("constant", 150, 200, 0.01), 1.0);
    }

    // The multi-tensor AdamW update equals torch::optim::AdamW's own loop bit for bit (CPU), with weight decay on
    // the weights and not on the biases, and a parameter that skips a step (its moments then lag one step: the
    // update batches parameters by their step count).
    void multi_tensor_adamw_equals_torch_adamw() {
        TrainingConfig cfg;
        cfg.lr = 3e-3;
        cfg.weight_decay = 0.05;
        torch::manual_seed(7);
        auto a = std::make_shared<Toy>();
        torch::manual_seed(7);
        auto b = std::make_shared<Toy>();
        Optimizer opt_a(named(*a), cfg, 10), opt_b(named(*b), cfg, 10);
        auto pa = named(*a), pb = named(*b);
        QCOMPARE(pa.size(), size_t(4));
        const auto initial = pa[0].tensor.detach().clone();
        for (int step = 0; step < 6; ++step) {
            auto g = torch::Generator(at::detail::createCPUGenerator(500 + step));
            for (size_t i = 0; i < pa.size(); ++i) {
                if (step == 2 && i == 1) {  // l1.bias has no grad this step
                    pa[i].tensor.mutable_grad() = torch::Tensor();
                    pb[i].tensor.mutable_grad() = torch::Tensor();
                    continue;
                }
                auto grad = torch::randn(pa[i].tensor.sizes(), g);
                pa[i].tensor.mutable_grad() = grad.clone();
                pb[i].tensor.mutable_grad() = grad.clone();
            }
            opt_a.adamw_update();
            opt_b.adamw_update(/*per_parameter=*/true);
            for (size_t i = 0; i < pa.size(); ++i)
                QVERIFY2(torch::equal(pa[i].tensor, pb[i].tensor), (pa[i].name + " step " + std::to_string(step)).c_str());
        }
        QVERIFY((pa[0].tensor - initial).abs().max().item<double>() > 1e-3);  // the weights did move
    }

    void resume_gives_identical_losses() {
        TrainingConfig cfg;
        cfg.lr = 1e-2;
        cfg.grad_clip = 0.5;
        cfg.warmup_ratio = 0.1;
        QTemporaryDir dir;
        torch::manual_seed(7);
        auto full_model = std::make_shared<Toy>();
        Optimizer full_opt(named(*full_model), cfg, 10);
        torch::manual_seed(99);
        auto full = toy_steps(*full_model, full_opt, 0, 10);

        torch::manual_seed(7);
        auto a = std::make_shared<Toy>();
        Optimizer opt_a(named(*a), cfg, 10);
        torch::manual_seed(99);
        auto first = toy_steps(*a, opt_a, 0, 4);
        TrainerState st;
        st.step = opt_a.step_count();
        st.total_steps = 10;
        auto ck = write_checkpoint(dir.path().toStdString(), named(*a), {}, {}, opt_a, st, 2);
        QVERIFY2(ck.ok(), ck.ok() ? "" : ck.error().to_string().c_str());
        toy_steps(*a, opt_a, 4, 6);  // work after the checkpoint that a kill loses

        torch::manual_seed(12345);  // a fresh process: other init, other RNG
        auto b = std::make_shared<Toy>();
        Optimizer opt_b(named(*b), cfg, 10);
        QCOMPARE(latest_checkpoint(dir.path().toStdString()), *ck);
        auto restored = read_checkpoint(*ck, named(*b), &opt_b);
        QVERIFY2(restored.ok(), restored.ok() ? "" : restored.error().to_string().c_str());
        QCOMPARE(restored->step, int64_t(4));
        QCOMPARE(opt_b.step_count(), int64_t(4));
        auto second = toy_steps(*b, opt_b, 4, 10);
        first.insert(first.end(), second.begin(), second.end());
        QCOMPARE(first.size(), full.size());
        for (size_t i = 0; i < full.size(); ++i) QCOMPARE(first[i], full[i]);  // bit-exact on CPU
    }
    void checkpoints_pruned_and_tmp_ignored() {
        QTemporaryDir dir;
        auto m = std::make_shared<Toy>();
        TrainingConfig cfg;
        Optimizer opt(named(*m), cfg, 10);
        for (int s : {1, 2, 3}) {
            TrainerState st;
            st.step = s;
            QVERIFY(write_checkpoint(dir.path().toStdString(), named(*m), {}, {}, opt, st, 2).ok());
        }
        fs::create_directories(fs::path(dir.path().toStdString()) / "checkpoint-9.tmp");  // a killed write
        QVERIFY(!fs::exists(fs::path(dir.path().toStdString()) / "checkpoint-1"));
        QVERIFY(fs::exists(fs::path(dir.path().toStdString()) / "checkpoint-2"));
        QVERIFY(latest_checkpoint(dir.path().toStdString()).find("checkpoint-3") != std::string::npos);
    }

    void peft_names_map_to_published_paths_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("module");
        QTest::newRow("peft file") << "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"
                                   << "model.layers.0.self_attn.q_proj";
        QTest::newRow("peft memory t5") << "base_model.model.model.language_model.layers.1.mlp.down_proj.lora_B.default.weight"
                                        << "model.layers.1.mlp.down_proj";
        QTest::newRow("torch module") << "model.language_model.layers.0.self_attn.v_proj.lora_A"
                                      << "model.layers.0.self_attn.v_proj";
        QTest::newRow("published") << "model.layers.3.mlp.up_proj.lora_b" << "model.layers.3.mlp.up_proj";
        QTest::newRow("visual t5") << "model.visual.blocks.0.attn.qkv.lora_A" << "visual.blocks.0.attn.qkv";
    }
    void peft_names_map_to_published_paths() {
        QFETCH(QString, name);
        QFETCH(QString, module);
        QCOMPARE(QString::fromStdString(lora_module_path(name.toStdString())), module);
    }
    void peft_adapter_round_trip() {
        LoraSpec spec;
        auto lora = read_peft_adapter(kFixture + "/peft-adapter", &spec);
        QVERIFY2(lora.ok(), lora.ok() ? "" : lora.error().to_string().c_str());
        QCOMPARE(lora->size(), size_t(14));  // 2 layers x 7 modules
        QCOMPARE(spec.r, 4);
        QCOMPARE(spec.alpha, 8.0);
        // the in-memory state dict (transformers-5 names, .default.) holds the same tensors
        auto mem = SafetensorsFile::open(kFixture + "/lora_adapter.safetensors");
        QVERIFY(mem.ok());
        for (const auto& p : *lora) {
            auto v = (*mem)->find("base_model.model.model.language_model" + p.module.substr(5) + ".lora_A.default.weight");
            QVERIFY2(v, p.module.c_str());
            QVERIFY(torch::equal(*model::view_tensor(*v), p.a));
        }
        QTemporaryDir dir;
        std::string out = dir.filePath("adapter").toStdString();
        QVERIFY(save_peft_adapter(out, *lora, spec).ok());
        auto saved = SafetensorsFile::open(out + "/adapter_model.safetensors");
        auto orig = SafetensorsFile::open(kFixture + "/peft-adapter/adapter_model.safetensors");
        QVERIFY(saved.ok() && orig.ok());
        QCOMPARE((*saved)->tensors().size(), (*orig)->tensors().size());
        for (const auto& v : (*orig)->tensors()) {
            auto w = (*saved)->find(v.name);
            QVERIFY2(w, v.name.c_str());
            QCOMPARE(w->shape, v.shape);
            QCOMPARE(w->dtype, DType::F32);
            QVERIFY(std::memcmp(w->data, v.data, v.nbytes) == 0);
        }
        std::ifstream a(out + "/adapter_config.json"), b(kFixture + "/peft-adapter/adapter_config.json");
        auto ja = nlohmann::json::parse(a), jb = nlohmann::json::parse(b);
        for (const char* k : {"peft_type", "task_type", "r", "lora_alpha", "bias", "target_modules", "fan_in_fan_out",
                              "use_rslora"})
            QVERIFY2(ja.at(k) == jb.at(k), k);
        QVERIFY(ja.at("lora_alpha").is_number_integer());
    }
    void merge_adds_scaled_delta() {
        QTemporaryDir dir;
        std::string out = dir.filePath("merged").toStdString();
        auto st = merge_adapter_into_checkpoint(kFixture + "/tiny-qwen2vl", kFixture + "/peft-adapter", out);
        QVERIFY2(st.ok(), st.ok() ? "" : st.error().to_string().c_str());
        QVERIFY(fs::exists(out + "/config.json"));
        QVERIFY(fs::exists(out + "/tokenizer.json"));
        auto base = SafetensorsFile::open(kFixture + "/tiny-qwen2vl/model.safetensors");
        auto merged = SafetensorsFile::open(out + "/model.safetensors");
        auto ad = SafetensorsFile::open(kFixture + "/peft-adapter/adapter_model.safetensors");
        QVERIFY(base.ok() && merged.ok() && ad.ok());
        QCOMPARE((*merged)->tensors().size(), (*base)->tensors().size());
        auto w = *model::view_tensor(*(*base)->find("model.layers.1.mlp.down_proj.weight"));
        auto m = *model::view_tensor(*(*merged)->find("model.layers.1.mlp.down_proj.weight"));
        auto A = *model::view_tensor(*(*ad)->find("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight"));
        auto B = *model::view_tensor(*(*ad)->find("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"));
        QVERIFY(torch::allclose(m, w + 2.0 * B.matmul(A), 1e-6, 1e-6));
        QVERIFY(!torch::equal(m, w));
        // untouched tensors are byte-identical
        auto e0 = (*base)->find("visual.merger.mlp.0.weight");
        QVERIFY(std::memcmp((*merged)->find("visual.merger.mlp.0.weight")->data, e0->data, e0->nbytes) == 0);
    }
};

QTEST_GUILESS_MAIN(TestTrainingCore)
#include "test_training_core.moc"
