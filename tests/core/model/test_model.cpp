// Qwen2-VL engine against the HF transformers fixture (tests/data/external/fixtures/qwen2vl-tiny, see its README):
// vision embeds and logits within 1e-4, M-RoPE position ids and rope deltas exact, 24 greedy tokens exact,
// PEFT LoRA policy/reference log-probs within 1e-3, config layouts, loading errors, shards, bf16, attention paths.
// One executable for the whole model so CI compiles LibTorch headers once.
// LibTorch headers use `slots` as an identifier: include them before Qt defines it as a macro.
#include "core/model/config.h"
#include "core/model/cuda_graph_decode.h"
#include "core/model/generation.h"
#include "core/model/lora.h"
#include "core/model/qwen2vl.h"
#include "core/model/rotary.h"
#include "core/model/sdpa.h"
#include "core/model/weights.h"
#include "core/training/adapter_io.h"
#include "core/util/safetensors.h"

#include <QtTest>

#include <unistd.h>

#include <fstream>

using namespace matrix;
using namespace matrix::model;

namespace {
const std::string k_fixture = std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny";
const std::string k_model_dir = k_fixture + "/tiny-qwen2vl";

std::shared_ptr<SafetensorsFile> reference() {
    static std::shared_ptr<SafetensorsFile> ref = [] {
        auto f = SafetensorsFile::open(k_fixture + "/reference.safetensors");
        if (!f.ok()) qFatal("%s", f.error().to_string().c_str());
        return *f;
    }();
    return ref;
}

torch::Tensor ref(const std::string& name) {
    auto* v = reference()->find(name);
    if (!v) qFatal("reference tensor %s missing", name.c_str());
    auto t = view_tensor(*v);
    if (!t.ok()) qFatal("%s", t.error().to_string().c_str());
    return t->clone();
}

Qwen2VL& tiny() {
    static Qwen2VL m = [] {
        auto r = load_qwen2vl(k_model_dir);
        if (!r.ok()) qFatal("%s", r.error().to_string().c_str());
        return *r;
    }();
    return m;
}

// The fixture's case 1 (chat with two images) as a generation request, and its first `n` greedy tokens.
GenerationRequest case1_request() {
    GenerationRequest req;
    req.input_ids = ref("case1.input_ids");
    req.pixel_values = ref("case1.pixel_values");
    req.image_grid_thw = ref("case1.grid_thw");
    return req;
}
std::vector<int64_t> case1_generated(int64_t n = -1) {
    auto t = ref("case1.generated").to(torch::kInt64).view({-1}).contiguous();
    if (n >= 0) t = t.narrow(0, 0, n).contiguous();
    return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
    return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

std::string read_file(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_file(const std::string& p, const std::string& s) {
    std::ofstream o(p, std::ios::binary);
    o << s;
}

// Copies the tiny checkpoint into `dir` with tensors renamed/dropped/split by `edit` (returns "" to drop); the
// caller checks the status.
Status write_variant(const std::string& dir, const std::function<std::string(const std::string&)>& rename,
                   bool sharded = false) {
    write_file(dir + "/config.json", read_file(k_model_dir + "/config.json"));
    auto f = *SafetensorsFile::open(k_model_dir + "/model.safetensors");
    std::vector<TensorToWrite> a, b;
    std::vector<std::string> names;
    names.reserve(f->tensors().size());
    for (auto& t : f->tensors()) {
        std::string n = rename(t.name);
        if (n.empty()) continue;
        names.push_back(n);
        auto& dst = (sharded && (a.size() > b.size())) ? b : a;
        dst.push_back({names.back(), t.dtype, t.shape, t.data});
    }
    if (!sharded) return write_safetensors(dir + "/model.safetensors", a);
    MATRIX_CHECK(write_safetensors(dir + "/model-00001-of-00002.safetensors", a));
    MATRIX_CHECK(write_safetensors(dir + "/model-00002-of-00002.safetensors", b));
    std::string idx = "{\"metadata\": {}, \"weight_map\": {";
    bool first = true;
    for (auto* part : {&a, &b})
        for (auto& t : *part) {
            idx += std::string(first ? "" : ", ") + "\"" + t.name + "\": \"model-0000" + (part == &a ? "1" : "2") +
                   "-of-00002.safetensors\"";
            first = false;
        }
    write_file(dir + "/model.safetensors.index.json", idx + "}}");
    return {};
}

torch::Tensor case1_logits(Qwen2VL& m) {
    torch::NoGradGuard ng;
    ForwardInput in;
    in.input_ids = ref("case1.input_ids");
    in.pixel_values = ref("case1.pixel_values");
    in.image_grid_thw = ref("case1.grid_thw");
    return m->forward(in).logits;
}
}  // namespace

class TestModel : public QObject {
    Q_OBJECT
private slots:
    void config_layouts_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("layout");
        QTest::newRow("nested (transformers 5)") << "config.json" << "nested";
        QTest::newRow("flat (published)") << "config.legacy-layout.json" << "flat";
    }
    void config_layouts() {
        QFETCH(QString, file);
        QFETCH(QString, layout);
        auto cfg = parse_config(read_file(k_model_dir + "/" + file.toStdString()));
        QVERIFY2(cfg.ok(), cfg.ok() ? "" : cfg.error().to_string().c_str());
        QCOMPARE(QString::fromStdString(cfg->layout), layout);
        QCOMPARE(cfg->text.hidden_size, int64_t(64));
        QCOMPARE(cfg->text.num_hidden_layers, int64_t(2));
        QCOMPARE(cfg->text.num_attention_heads, int64_t(4));
        QCOMPARE(cfg->text.num_key_value_heads, int64_t(2));
        QCOMPARE(cfg->text.intermediate_size, int64_t(128));
        QCOMPARE(cfg->text.vocab_size, int64_t(1814));
        QCOMPARE(cfg->text.mrope_section, (std::vector<int64_t>{2, 3, 3}));
        QCOMPARE(cfg->text.rope_theta, 1000000.0);
        QCOMPARE(cfg->vision.embed_dim, int64_t(32));
        QCOMPARE(cfg->vision.hidden_size, int64_t(64));
        QCOMPARE(cfg->vision.depth, int64_t(2));
        QCOMPARE(cfg->vision.num_heads, int64_t(4));
        QCOMPARE(cfg->image_token_id, int64_t(1812));
        QCOMPARE(cfg->vision_start_token_id, int64_t(1809));
        QCOMPARE(cfg->eos_token_ids, (std::vector<int64_t>{1802}));
        QVERIFY(!cfg->tie_word_embeddings);
        auto ck = Checkpoint::open(k_model_dir);
        QVERIFY(ck.ok());
        QVERIFY(reconcile_with_weights(*cfg, ck->shapes()).ok());
    }

    void legacy_layout_loads_same_model() {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        write_file(d + "/config.json", read_file(k_model_dir + "/config.legacy-layout.json"));
        symlink((k_model_dir + "/model.safetensors").c_str(), (d + "/model.safetensors").c_str());
        auto m = load_qwen2vl(d);
        QVERIFY2(m.ok(), m.ok() ? "" : m.error().to_string().c_str());
        QVERIFY(max_abs_diff(case1_logits(*m), ref("case1.logits")) < 1e-4);
    }

    void config_disagreeing_with_weights_is_an_error() {
        auto cfg = *parse_config(read_file(k_model_dir + "/config.json"));
        cfg.text.intermediate_size = 96;
        auto ck = *Checkpoint::open(k_model_dir);
        auto st = reconcile_with_weights(cfg, ck.shapes());
        QVERIFY(!st.ok());
        QVERIFY2(st.error().to_string().find("intermediate_size = 96") != std::string::npos, st.error().to_string().c_str());
        QVERIFY(st.error().to_string().find("model.layers.0.mlp.gate_proj.weight") != std::string::npos);
        cfg = *parse_config(read_file(k_model_dir + "/config.json"));
        cfg.text.num_hidden_layers = 3;
        st = reconcile_with_weights(cfg, ck.shapes());
        QVERIFY(!st.ok());
        QVERIFY(st.error().to_string().find("num_hidden_layers = 3") != std::string::npos);
    }

    void vision_embeds() {
        torch::NoGradGuard ng;
        auto out = tiny()->image_features(ref("case1.pixel_values"), ref("case1.grid_thw"));
        auto expect = ref("case1.vision_embeds");
        QCOMPARE(out.sizes().vec(), expect.sizes().vec());
        const double d = max_abs_diff(out, expect);
        QVERIFY2(d < 1e-4, std::to_string(d).c_str());
    }

    void case1_logits_and_rope_index() {
        torch::NoGradGuard ng;
        ForwardInput in;
        in.input_ids = ref("case1.input_ids");
        in.pixel_values = ref("case1.pixel_values");
        in.image_grid_thw = ref("case1.grid_thw");
        auto out = tiny()->forward(in);
        auto expect = ref("case1.logits");
        QCOMPARE(out.logits.sizes().vec(), expect.sizes().vec());
        const double d = max_abs_diff(out.logits, expect);
        QVERIFY2(d < 1e-4, std::to_string(d).c_str());
        QVERIFY(torch::equal(out.position_ids, ref("case1.position_ids").to(torch::kInt64)));
        QVERIFY(torch::equal(out.rope_deltas, ref("case1.rope_deltas").to(torch::kInt64)));
        QCOMPARE(out.rope_deltas.item<int64_t>(), int64_t(-21));
    }

    void case2_padded_batch() {
        torch::NoGradGuard ng;
        ForwardInput in;
        in.input_ids = ref("case2.input_ids");
        in.attention_mask = ref("case2.attention_mask");
        auto out = tiny()->forward(in);
        auto expect = ref("case2.logits");
        auto mask = in.attention_mask.to(torch::kBool);
        QVERIFY(mask.logical_not().any().item<bool>());  // the fixture really is padded
        auto got = out.logits.index({mask}), want = expect.index({mask});
        const double d = max_abs_diff(got, want);
        QVERIFY2(d < 1e-4, std::to_string(d).c_str());
    }

    void case3_sft_loss() {
        torch::NoGradGuard ng;
        ForwardInput in;
        in.input_ids = ref("case3.input_ids");
        in.pixel_values = ref("case1.pixel_values");
        in.image_grid_thw = ref("case1.grid_thw");
        auto out = tiny()->forward(in);
        auto loss = lm_loss(out.logits, ref("case3.labels"));
        const double d = std::abs(loss.item<double>() - ref("case3.loss").item<double>());
        QVERIFY2(d < 1e-4, std::to_string(d).c_str());
    }

    void greedy_generation() {
        GenerationRequest req = case1_request();
        SamplingOptions opt;
        opt.max_new_tokens = 24;
        opt.ignore_eos = true;
        std::vector<int64_t> streamed;
        auto r = generate(tiny(), req, opt, {}, [&](int64_t, int64_t t) { streamed.push_back(t); });
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().to_string().c_str());
        const std::vector<int64_t> want = case1_generated();
        QCOMPARE(r->tokens.at(0), want);
        QCOMPARE(streamed, want);
        QCOMPARE(r->finish_reasons.at(0), std::string("length"));
    }

    void cuda_graph_option_without_cuda() {
        // On the CPU (and in builds without CUDA) the CUDA-graph option falls back to eager decoding: same tokens,
        // reported as not used; the decoder itself refuses a CPU model.
        GenerationRequest req = case1_request();
        SamplingOptions opt;
        opt.max_new_tokens = 24;
        opt.ignore_eos = true;
        opt.cuda_graph = true;
        auto r = generate(tiny(), req, opt);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().to_string().c_str());
        QVERIFY(!r->cuda_graph);
        QCOMPARE(r->tokens.at(0), case1_generated(24));
        KVCache cache = KVCache::allocate(tiny()->cfg.text, 1, 8, torch::TensorOptions().dtype(torch::kFloat32));
        cache.length = 4;
        QVERIFY(!CudaGraphDecoder::create(tiny(), cache).ok());
    }

    void static_decode_step_equals_eager() {
        // The graph path's fixed-shape step (key/value written at a position tensor, attention over the whole cache
        // with a mask), run eagerly: the fixture's 24 greedy tokens, and the same tokens as eager decoding for a
        // left/right padded batch with 2 candidates per prompt.
        GenerationRequest req = case1_request();
        SamplingOptions opt;
        opt.max_new_tokens = 24;
        opt.ignore_eos = true;
        opt.static_decode = true;
        auto r = generate(tiny(), req, opt);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().to_string().c_str());
        QCOMPARE(r->tokens.at(0), case1_generated(24));
        QCOMPARE(r->decode_steps, int64_t(23));

        GenerationRequest pr;
        pr.input_ids = ref("case2.input_ids");
        pr.attention_mask = ref("case2.attention_mask");
        SamplingOptions po;
        po.max_new_tokens = 12;
        po.ignore_eos = true;
        po.n = 2;
        auto eager = generate(tiny(), pr, po);
        po.static_decode = true;
        auto fixed = generate(tiny(), pr, po);
        QVERIFY(eager.ok() && fixed.ok());
        QCOMPARE(fixed->tokens.size(), size_t(4));
        QCOMPARE(fixed->tokens, eager->tokens);
        // Rows that stop early (EOS) are fed the pad id; the others go on unchanged.
        po.ignore_eos = false;
        po.eos_token_ids = {eager->tokens[0][3]};
        auto stop_fixed = generate(tiny(), pr, po);
        po.static_decode = false;
        auto stop_plain = generate(tiny(), pr, po);
        QVERIFY(stop_fixed.ok() && stop_plain.ok());
        QCOMPARE(stop_fixed->tokens, stop_plain->tokens);
        QCOMPARE(stop_fixed->finish_reasons, stop_plain->finish_reasons);
    }

    void generation_batch_padding_and_candidates() {
        // Row 0: the case-1 prompt; row 1: its text tail, right padded. Each row's greedy continuation must equal
        // the one generated alone, and n=2 greedy candidates must both equal it (shared prefilled cache).
        auto ids = ref("case1.input_ids");
        const int64_t L = ids.size(1);
        const int64_t tail = 20;
        auto row1 = torch::full({1, L}, 1800, torch::kInt64);
        row1.narrow(1, 0, tail).copy_(ids.narrow(1, L - tail, tail));
        auto mask = torch::ones({2, L}, torch::kInt64);
        mask[1].narrow(0, tail, L - tail).fill_(0);
        GenerationRequest req;
        req.input_ids = torch::cat({ids, row1}, 0);
        req.attention_mask = mask;
        req.pixel_values = ref("case1.pixel_values");
        req.image_grid_thw = ref("case1.grid_thw");
        SamplingOptions opt;
        opt.max_new_tokens = 8;
        opt.ignore_eos = true;
        opt.n = 2;
        auto r = generate(tiny(), req, opt);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().to_string().c_str());
        QCOMPARE(r->tokens.size(), size_t(4));
        auto expect = ref("case1.generated").to(torch::kInt64).view({-1}).narrow(0, 0, 8);
        std::vector<int64_t> want(expect.data_ptr<int64_t>(), expect.data_ptr<int64_t>() + 8);
        QCOMPARE(r->tokens[0], want);
        QCOMPARE(r->tokens[1], want);
        GenerationRequest alone;
        alone.input_ids = ids.narrow(1, L - tail, tail).clone();
        SamplingOptions one = opt;
        one.n = 1;
        auto a = generate(tiny(), alone, one);
        QVERIFY(a.ok());
        QCOMPARE(r->tokens[2], a->tokens[0]);
        QCOMPARE(r->tokens[3], a->tokens[0]);
    }

    void candidates_with_their_own_sampling_share_the_prompt() {
        // Pref-X's groups in one batch: candidate 0 greedy with repetition penalty 1.3, candidate 1 plain greedy,
        // candidate 2 sampled. The greedy rows must equal the same settings generated alone.
        GenerationRequest req;
        req.input_ids = ref("case2.input_ids").narrow(0, 0, 1).clone();
        SamplingOptions opt;
        opt.max_new_tokens = 10;
        opt.ignore_eos = true;
        opt.seed = 3;
        opt.n = 3;
        opt.top_k = 50;
        opt.per_candidate = {{false, 1.0, 1.3}, {false, 1.0, 1.0}, {true, 1.2, 1.0}};
        auto batch = generate(tiny(), req, opt);
        QVERIFY2(batch.ok(), batch.ok() ? "" : batch.error().to_string().c_str());
        QCOMPARE(batch->tokens.size(), size_t(3));
        SamplingOptions penalised;
        penalised.max_new_tokens = 10;
        penalised.ignore_eos = true;
        penalised.repetition_penalty = 1.3;
        auto p = generate(tiny(), req, penalised);
        SamplingOptions plain = penalised;
        plain.repetition_penalty = 1.0;
        auto g = generate(tiny(), req, plain);
        QVERIFY(p.ok() && g.ok());
        QCOMPARE(batch->tokens[0], p->tokens[0]);
        QCOMPARE(batch->tokens[1], g->tokens[0]);
        QVERIFY(p->tokens[0] != g->tokens[0]);  // the penalty changes this continuation, so the check can fail
        QCOMPARE(batch->tokens[2].size(), size_t(10));
        auto again = generate(tiny(), req, opt);
        QCOMPARE(again->tokens, batch->tokens);  // seeded
        opt.per_candidate.pop_back();
        QVERIFY(!generate(tiny(), req, opt).ok());  // one entry per candidate
    }

    void sampling_is_seeded_and_stops() {
        GenerationRequest req;
        req.input_ids = ref("case2.input_ids").narrow(0, 0, 1).clone();
        SamplingOptions opt;
        opt.max_new_tokens = 12;
        opt.do_sample = true;
        opt.temperature = 0.8;
        opt.top_p = 0.9;
        opt.top_k = 50;
        opt.repetition_penalty = 1.1;
        opt.seed = 7;
        opt.ignore_eos = true;
        opt.n = 3;
        auto a = generate(tiny(), req, opt), b = generate(tiny(), req, opt);
        QVERIFY(a.ok() && b.ok());
        QCOMPARE(a->tokens, b->tokens);
        QCOMPARE(a->tokens[0].size(), size_t(12));
        // Stop string: a decode callback that spells token ids; stop on the third token's id.
        const int64_t third = a->tokens[0][2];
        opt.n = 1;
        opt.stop_strings = {"<" + std::to_string(third) + ">"};
        auto spell = [](const std::vector<int64_t>& ids) {
            std::string s;
            for (auto i : ids) s += "<" + std::to_string(i) + ">";
            return s;
        };
        auto c = generate(tiny(), req, opt, spell);
        QVERIFY(c.ok());
        QCOMPARE(c->finish_reasons[0], std::string("stop"));
        QCOMPARE(c->tokens[0].back(), third);
        QVERIFY(c->tokens[0].size() <= 3);
        // Cancellation before the first token.
        std::atomic<bool> cancel{true};
        auto d = generate(tiny(), req, opt, spell, {}, &cancel);
        QVERIFY(d.ok());
        QCOMPARE(d->finish_reasons[0], std::string("cancelled"));
        QVERIFY(d->tokens[0].empty());
    }

    void logits_processors() {
        auto logits = torch::tensor({2.0f, -1.0f, 0.5f, 3.0f});
        auto p = apply_repetition_penalty(logits, {0, 1}, 2.0);
        QCOMPARE(p[0].item<float>(), 1.0f);
        QCOMPARE(p[1].item<float>(), -2.0f);
        QCOMPARE(p[2].item<float>(), 0.5f);
        auto k = apply_top_k_top_p(logits, 2, 1.0);
        QVERIFY(std::isinf(k[1].item<float>()) && std::isinf(k[2].item<float>()));
        QCOMPARE(k[3].item<float>(), 3.0f);
        auto t = apply_top_k_top_p(logits, 0, 0.5);  // softmax(3) ~ 0.63 >= 0.5: only the top token survives
        QCOMPARE(int((t > -1e30).sum().item<int64_t>()), 1);
    }

    void peft_adapter_dpo_logps_data() {
        QTest::addColumn<QString>("adapter");
        QTest::newRow("PEFT directory") << "peft-adapter";
        QTest::newRow("in-memory state dict") << "lora_adapter.safetensors";
    }
    void peft_adapter_dpo_logps() {
        QFETCH(QString, adapter);
        auto m = load_qwen2vl(k_model_dir);
        QVERIFY(m.ok());
        train::LoraSpec fallback;
        fallback.r = 4;
        fallback.alpha = 8;
        auto cfg = train::load_peft_adapter(**m, k_fixture + "/" + adapter.toStdString(), &fallback);
        QVERIFY2(cfg.ok(), cfg.ok() ? "" : cfg.error().to_string().c_str());
        QCOMPARE(cfg->r, 4);
        QCOMPARE(lora_parameters(**m).size(), size_t(2 * 7 * 2));
        auto values = ref("dpo.values").to(torch::kFloat64);
        torch::NoGradGuard ng;
        auto logp = [&](const std::string& key) {
            ForwardInput in;
            in.input_ids = ref(key);
            in.pixel_values = ref("case1.pixel_values");
            in.image_grid_thw = ref("case1.grid_thw");
            auto labels = in.input_ids.clone();
            labels.narrow(1, 0, 90).fill_(-100);
            return sequence_logps((*m)->forward(in).logits, labels).item<double>();
        };
        for (bool enabled : {true, false}) {
            set_lora_enabled(**m, enabled);
            const int base = enabled ? 0 : 2;
            const double c = logp("dpo.chosen_ids"), r = logp("dpo.rejected_ids");
            QVERIFY2(std::abs(c - values[base].item<double>()) < 1e-3, (std::to_string(c) + " vs " + std::to_string(values[base].item<double>())).c_str());
            QVERIFY2(std::abs(r - values[base + 1].item<double>()) < 1e-3, std::to_string(r).c_str());
        }
    }

    void lora_training_hooks() {
        auto m = load_qwen2vl(k_model_dir);
        QVERIFY(m.ok());
        LoraConfig cfg;
        cfg.r = 2;
        cfg.alpha = 4;
        auto wrapped = attach_lora(**m, cfg);
        QVERIFY(wrapped.ok());
        QCOMPARE(wrapped->size(), size_t(14));  // 7 projections x 2 layers, none in the vision tower
        freeze_base_weights(**m);
        // B = 0 at init: the LoRA model equals the base; gradients reach only A/B.
        ForwardInput in;
        in.input_ids = ref("case2.input_ids").narrow(0, 0, 1).clone();
        auto out = (*m)->forward(in);
        {
            torch::NoGradGuard ng;
            QVERIFY(max_abs_diff(out.logits, tiny()->forward(in).logits) < 1e-5);
        }
        auto labels = in.input_ids.clone();
        sequence_logps(out.logits, labels).sum().backward();
        int with_grad = 0;
        for (auto& item : (*m)->named_parameters(true)) {
            const bool lora = item.key().find(".lora_") != std::string::npos;
            QCOMPARE(item.value().requires_grad(), lora);
            if (lora && item.value().grad().defined()) ++with_grad;
        }
        QCOMPARE(with_grad, 28);
        // Save and reload as a PEFT directory: same tensors.
        QTemporaryDir dir;
        {
            torch::NoGradGuard ng;
            for (auto& [n, p] : lora_parameters(**m)) p.normal_(0, 0.1);
        }
        train::LoraSpec spec;
        spec.r = static_cast<int>(cfg.r);
        spec.alpha = cfg.alpha;
        spec.targets = cfg.target_modules;
        QVERIFY(train::save_peft_adapter(dir.path().toStdString(), train::lora_pairs(**m), spec).ok());
        auto m2 = load_qwen2vl(k_model_dir);
        QVERIFY(train::load_peft_adapter(**m2, dir.path().toStdString()).ok());
        torch::NoGradGuard ng;
        QVERIFY(max_abs_diff((*m)->forward(in).logits, (*m2)->forward(in).logits) < 1e-5);
    }

    void missing_and_unexpected_tensors() {
        {
            QTemporaryDir dir;
            QVERIFY(write_variant(dir.path().toStdString(), [](const std::string& n) {
                        return n == "model.layers.1.mlp.up_proj.weight" ? "" : n;
                    }).ok());
            auto m = load_qwen2vl(dir.path().toStdString());
            QVERIFY(!m.ok());
            QVERIFY2(m.error().to_string().find("model.layers.1.mlp.up_proj.weight is missing") != std::string::npos,
                     m.error().to_string().c_str());
        }
        {
            QTemporaryDir dir;
            QVERIFY(write_variant(dir.path().toStdString(), [](const std::string& n) {
                        return n == "model.norm.weight" ? std::string("model.extra_norm.weight") : n;
                    }).ok());
            auto m = load_qwen2vl(dir.path().toStdString());
            QVERIFY(!m.ok());
            const std::string e = m.error().to_string();
            QVERIFY2(e.find("model.norm.weight is missing") != std::string::npos ||
                         e.find("unexpected tensor model.extra_norm.weight") != std::string::npos,
                     e.c_str());
        }
    }

    void sharded_transformers5_names() {
        QTemporaryDir dir;
        QVERIFY(write_variant(dir.path().toStdString(),
                              [](const std::string& n) {
                                  if (n.rfind("model.", 0) == 0) return "model.language_model." + n.substr(6);
                                  if (n.rfind("visual.", 0) == 0) return "model." + n;
                                  return n;
                              },
                              /*sharded=*/true)
                    .ok());
        auto m = load_qwen2vl(dir.path().toStdString());
        QVERIFY2(m.ok(), m.ok() ? "" : m.error().to_string().c_str());
        QVERIFY(max_abs_diff(case1_logits(*m), ref("case1.logits")) < 1e-4);
    }

    void bf16_load_on_cpu() {
        LoadOptions o;
        o.dtype = torch::kBFloat16;
        auto m = load_qwen2vl(k_model_dir, o);
        QVERIFY2(m.ok(), m.ok() ? "" : m.error().to_string().c_str());
        QCOMPARE((*m)->dtype(), torch::kBFloat16);
        auto got = case1_logits(*m).to(torch::kFloat32);
        auto want = ref("case1.logits");
        // bf16 keeps ~3 significant digits: loose agreement, and the same argmax on most positions.
        const double d = max_abs_diff(got, want);
        QVERIFY2(d < 0.1, std::to_string(d).c_str());
        const double agree = (got.argmax(-1) == want.argmax(-1)).to(torch::kFloat32).mean().item<double>();
        QVERIFY2(agree > 0.9, std::to_string(agree).c_str());
    }

    void attention_paths_agree() {
        torch::manual_seed(1);
        auto q = torch::randn({2, 4, 5, 8}), k = torch::randn({2, 2, 9, 8}), v = torch::randn({2, 2, 9, 8});
        auto key_mask = torch::ones({2, 9}, torch::kInt64);
        key_mask[1].narrow(0, 0, 3).fill_(0);  // left padding in row 1
        auto mask = build_attention_mask(key_mask, 2, 4, 5, torch::kFloat32, torch::kCPU);
        QVERIFY(max_abs_diff(attention(q, k, v, mask, false), attention_math(q, k, v, mask, false)) < 1e-5);
        auto kc = k.narrow(2, 0, 5), vc = v.narrow(2, 0, 5);
        QVERIFY(max_abs_diff(attention(q, kc, vc, {}, true), attention_math(q, kc, vc, {}, true)) < 1e-5);
    }

    void forward_cli() {
        const QString exe = QString(MATRIX_BINARY_DIR) + "/app/matrix";
        if (!QFile::exists(exe)) QSKIP("matrix CLI not built");
        QTemporaryDir dir;
        const std::string in_path = dir.filePath("in.safetensors").toStdString();
        const std::string out_path = dir.filePath("out.safetensors").toStdString();
        auto ids = ref("case3.input_ids");
        auto labels = ref("case3.labels").to(torch::kInt64);
        auto pv = ref("case1.pixel_values");
        auto grid = ref("case1.grid_thw").to(torch::kInt64);
        QVERIFY(write_safetensors(in_path, {{"input_ids", DType::I64, ids.sizes().vec(), ids.data_ptr()},
                                            {"labels", DType::I64, labels.sizes().vec(), labels.data_ptr()},
                                            {"pixel_values", DType::F32, pv.sizes().vec(), pv.data_ptr()},
                                            {"image_grid_thw", DType::I64, grid.sizes().vec(), grid.data_ptr()}})
                    .ok());
        QProcess p;
        p.start(exe, {"forward", "--model", QString::fromStdString(k_model_dir), "--inputs",
                      QString::fromStdString(in_path), "--out", QString::fromStdString(out_path)});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        auto f = SafetensorsFile::open(out_path);
        QVERIFY(f.ok());
        auto logits = view_tensor(*(*f)->find("logits"))->clone();
        QCOMPARE((*f)->find("logits")->dtype, DType::F32);
        // case 3 = case 1 prompt + response: the first 90 positions are case 1's logits.
        QVERIFY(max_abs_diff(logits.narrow(1, 0, 90), ref("case1.logits")) < 1e-4);
        auto loss = view_tensor(*(*f)->find("loss"))->clone();
        QVERIFY(std::abs(loss.item<double>() - ref("case3.loss").item<double>()) < 1e-4);
        QVERIFY((*f)->find("logps") && (*f)->find("position_ids"));
        auto pos = view_tensor(*(*f)->find("position_ids"))->clone();
        QVERIFY(torch::equal(pos.narrow(2, 0, 90), ref("case1.position_ids").to(torch::kInt64)));
        // A missing tensor is one clear stderr line and a non-zero exit.
        QProcess bad;
        bad.start(exe, {"forward", "--model", "/nonexistent", "--inputs", QString::fromStdString(in_path), "--out",
                        QString::fromStdString(out_path)});
        QVERIFY(bad.waitForFinished(60000));
        QVERIFY(bad.exitCode() != 0);
        QVERIFY(bad.readAllStandardError().contains("config.json"));
    }
};

QTEST_GUILESS_MAIN(TestModel)
#include "test_model.moc"
