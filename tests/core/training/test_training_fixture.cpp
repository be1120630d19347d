// The training maths against HF transformers + PEFT (fixtures/qwen2vl-tiny, reference.safetensors): the SFT loss
// and six full-model gradients of case 3, the DPO values (policy/reference log-probs, sigmoid loss) with the
// fixture's LoRA and the four LoRA gradients; and that DPO's batched [chosen, rejected] forward (right padding)
// and its logits-only-after-the-prompt shortcut give the same log-probs as separate forwards; gradient
// checkpointing (decoder layers recomputed in backward) gives the plain path's loss and gradients, also with LoRA
// dropout drawing masks in train mode; the shared-context DPO forward (context once, actions against its keys and
// values) gives the fixture's DPO values and LoRA gradients and equals the unshared forwards within 1e-5.
#include <map>

#include "core/model/lora.h"
#include "core/model/qwen2vl.h"
#include "core/training/adapter_io.h"
#include "core/training/losses.h"
#include "core/training/shared_context.h"
#include "core/model/weights.h"

// Qt after torch: Qt's `slots` macro breaks torch headers included later.
#include <QtTest>

using namespace matrix;
using namespace matrix::train;

namespace {
const std::string kFixture = std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny";

std::map<std::string, torch::Tensor> reference() {
    std::map<std::string, torch::Tensor> out;
    auto f = SafetensorsFile::open(kFixture + "/reference.safetensors");
    if (!f.ok()) return out;
    for (const auto& v : (*f)->tensors()) out[v.name] = model::view_tensor(v)->clone();
    return out;
}

// transformers-5 module path (fixture gradient names) -> the engine's parameter name (published keys).
std::string engine_name(const std::string& t5) {
    if (t5.rfind("model.language_model.", 0) == 0) return "model." + t5.substr(21);
    if (t5.rfind("model.visual.", 0) == 0) return t5.substr(6);
    return t5;
}

// Gradient check: max abs difference within `abs_tol`, or relative (Frobenius) within `rel_tol` for large norms.
bool close(const torch::Tensor& got, const torch::Tensor& want, double abs_tol, double rel_tol, std::string* why) {
    auto diff = (got.to(torch::kFloat64) - want.to(torch::kFloat64));
    const double max_abs = diff.abs().max().item<double>();
    const double rel = diff.norm().item<double>() / std::max(1e-30, want.to(torch::kFloat64).norm().item<double>());
    *why = "max abs " + std::to_string(max_abs) + ", rel " + std::to_string(rel);
    return max_abs <= abs_tol || rel <= rel_tol;
}

torch::Tensor response_labels(const torch::Tensor& ids, int64_t start) {
    auto labels = ids.clone();
    labels.narrow(1, 0, start).fill_(kIgnoreIndex);
    return labels;
}

// Loss and the gradient of every parameter that got one, for a model set up by `setup` and a loss from `loss_of`.
std::vector<int32_t> to_vec(const torch::Tensor& ids, int64_t from, int64_t to) {
    std::vector<int32_t> v;
    for (int64_t i = from; i < to; ++i) v.push_back(static_cast<int32_t>(ids[0][i].item<int64_t>()));
    return v;
}
torch::Tensor to_ids(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    std::vector<int64_t> v(a.begin(), a.end());
    v.insert(v.end(), b.begin(), b.end());
    return torch::tensor(v, torch::kInt64).view({1, -1});
}

struct LossAndGrads {
    double loss = 0;
    std::map<std::string, torch::Tensor> grads;
    double next_random = 0;  // first draw of the CPU generator after backward (RNG stream continuity)
    std::vector<std::string> layer_nodes;  // grad_fn names of the decoder layers' outputs
};
}  // namespace

class TestTrainingFixture : public QObject {
    Q_OBJECT
    std::map<std::string, torch::Tensor> m_ref;

private slots:
    void initTestCase() {
        torch::set_num_threads(2);
        m_ref = reference();
        QVERIFY(m_ref.count("case3.loss"));
    }

    // Both ways the trainer can take the loss: full logits [B, T, V], or the LM head run at the labelled rows only
    // (label_rows + ForwardInput::logit_rows), against HF's loss and gradients.
    void sft_loss_and_gradients_data() {
        QTest::addColumn<bool>("at_rows");
        QTest::newRow("full logits") << false;
        QTest::newRow("logits at labelled rows") << true;
    }

    void sft_loss_and_gradients() {
        QFETCH(bool, at_rows);
        auto net = model::load_qwen2vl(kFixture + "/tiny-qwen2vl");
        QVERIFY2(net.ok(), net.ok() ? "" : net.error().to_string().c_str());
        model::ForwardInput in;
        in.input_ids = m_ref["case3.input_ids"];
        in.pixel_values = m_ref["case1.pixel_values"];
        in.image_grid_thw = m_ref["case1.grid_thw"];
        const LabelRows rows = label_rows(m_ref["case3.labels"]);
        if (at_rows) in.logit_rows = rows.rows;
        auto out = (*net)->forward(in);
        if (at_rows) QCOMPARE(out.logits.size(0), rows.rows.size(0));
        auto loss = at_rows ? sft_loss_at_rows(out.logits, rows) : sft_loss(out.logits, m_ref["case3.labels"]);
        const double want = m_ref["case3.loss"].item<double>();
        QVERIFY2(std::abs(loss.item<double>() - want) < 1e-4,
                 (std::to_string(loss.item<double>()) + " vs " + std::to_string(want)).c_str());
        loss.backward();
        std::map<std::string, torch::Tensor> params;
        for (auto& p : (*net)->named_parameters(true)) params[p.key()] = p.value();
        int checked = 0;
        for (const auto& [key, grad] : m_ref) {
            if (key.rfind("case3.grad.", 0) != 0) continue;
            const std::string name = engine_name(key.substr(11));
            QVERIFY2(params.count(name), name.c_str());
            QVERIFY2(params[name].grad().defined(), name.c_str());
            std::string why;
            QVERIFY2(close(params[name].grad(), grad, 1e-4, 1e-3, &why), (name + ": " + why).c_str());
            ++checked;
        }
        QCOMPARE(checked, 6);
    }

    void dpo_values_and_lora_gradients() {
        auto net = model::load_qwen2vl(kFixture + "/tiny-qwen2vl");
        QVERIFY(net.ok());
        auto lc = load_peft_adapter(**net, kFixture + "/peft-adapter");
        QVERIFY2(lc.ok(), lc.ok() ? "" : lc.error().to_string().c_str());
        model::freeze_base_weights(**net);
        (*net)->eval();  // dropout 0 anyway; the fixture ran in eval mode
        const int64_t start = 90;
        auto logp = [&](const torch::Tensor& ids) {
            model::ForwardInput in;
            in.input_ids = ids;
            in.pixel_values = m_ref["case1.pixel_values"];
            in.image_grid_thw = m_ref["case1.grid_thw"];
            return sequence_logps((*net)->forward(in).logits, response_labels(ids, start));
        };
        auto pc = logp(m_ref["dpo.chosen_ids"]);
        auto pr = logp(m_ref["dpo.rejected_ids"]);
        torch::Tensor rc, rr;
        {
            torch::NoGradGuard ng;
            model::set_lora_enabled(**net, false);
            rc = logp(m_ref["dpo.chosen_ids"]);
            rr = logp(m_ref["dpo.rejected_ids"]);
            model::set_lora_enabled(**net, true);
        }
        auto v = m_ref["dpo.values"];
        const double got[4] = {pc.item<double>(), pr.item<double>(), rc.item<double>(), rr.item<double>()};
        for (int i = 0; i < 4; ++i)
            QVERIFY2(std::abs(got[i] - v[i].item<double>()) < 1e-3,
                     (std::to_string(i) + ": " + std::to_string(got[i]) + " vs " + std::to_string(v[i].item<double>())).c_str());
        auto terms = dpo_loss(pc, pr, rc, rr, 0.1, DpoLoss::Sigmoid);
        QVERIFY(std::abs(terms.loss.item<double>() - v[4].item<double>()) < 1e-3);
        terms.loss.backward();
        std::map<std::string, torch::Tensor> lora;
        for (auto& [name, t] : model::lora_parameters(**net))
            lora[lora_module_path(name) + char(lora_matrix_kind(name))] = t;
        int checked = 0;
        for (const auto& [key, grad] : m_ref) {
            if (key.rfind("dpo.grad.", 0) != 0) continue;
            const std::string name = key.substr(9);
            const std::string k = lora_module_path(name) + char(lora_matrix_kind(name));
            QVERIFY2(lora.count(k), k.c_str());
            std::string why;
            QVERIFY2(close(lora[k].grad(), grad, 1e-3, 1e-3, &why), (k + ": " + why).c_str());
            ++checked;
        }
        QCOMPARE(checked, 4);
    }

    // Gradient checkpointing must not change the maths: same loss (bitwise: the forward runs the same ops), same
    // gradients within 1e-6 (the recompute sums in another order), same RNG stream after backward.
    void gradient_checkpointing_equals_plain_data() {
        QTest::addColumn<QString>("mode");
        QTest::newRow("case3 sft, all parameters") << "sft";
        QTest::newRow("dpo, fixture LoRA") << "dpo";
        QTest::newRow("LoRA dropout 0.1, train mode") << "dropout";
    }
    void gradient_checkpointing_equals_plain() {
        QFETCH(QString, mode);
        auto run = [&](bool checkpointing) {
            LossAndGrads r;
            auto net = model::load_qwen2vl(kFixture + "/tiny-qwen2vl");
            if (!net.ok()) return r;
            (*net)->model->gradient_checkpointing = checkpointing;
            torch::manual_seed(5);
            model::ForwardInput in;
            in.pixel_values = m_ref["case1.pixel_values"];
            in.image_grid_thw = m_ref["case1.grid_thw"];
            // Which autograd node produced each decoder layer's output (the checkpoint node when it is on).
            model::Tap tap = [&](const std::string& name, int, const torch::Tensor& t) {
                if (name == "text.layer" && t.grad_fn()) r.layer_nodes.push_back(t.grad_fn()->name());
            };
            in.tap = &tap;
            torch::Tensor loss;
            if (mode == "sft") {
                in.input_ids = m_ref["case3.input_ids"];
                loss = sft_loss((*net)->forward(in).logits, m_ref["case3.labels"]);
            } else {
                if (mode == "dpo") {
                    if (!load_peft_adapter(**net, kFixture + "/peft-adapter").ok()) return r;
                    (*net)->eval();
                } else {
                    torch::manual_seed(11);
                    model::LoraConfig lc;
                    lc.r = 4;
                    lc.dropout = 0.1;
                    if (!model::attach_lora(**net, lc).ok()) return r;
                    torch::NoGradGuard ng;
                    for (auto& [name, t] : model::lora_parameters(**net))
                        if (lora_matrix_kind(name) == 'B') t.normal_(0.0, 0.1);
                    (*net)->train();
                }
                model::freeze_base_weights(**net);
                auto logp = [&](const torch::Tensor& ids) {
                    in.input_ids = ids;
                    return sequence_logps((*net)->forward(in).logits, response_labels(ids, 90));
                };
                auto pc = logp(m_ref["dpo.chosen_ids"]);
                auto pr = logp(m_ref["dpo.rejected_ids"]);
                auto v = m_ref["dpo.values"];
                loss = dpo_loss(pc, pr, v.narrow(0, 2, 1), v.narrow(0, 3, 1), 0.1, DpoLoss::Sigmoid).loss;
            }
            r.loss = loss.item<double>();
            loss.backward();
            r.next_random = torch::rand({1}).item<double>();
            for (auto& p : (*net)->named_parameters(true))
                if (p.value().grad().defined()) r.grads[p.key()] = p.value().grad().clone();
            return r;
        };
        const auto plain = run(false), ckpt = run(true);
        QVERIFY(!plain.grads.empty());
        QVERIFY(!ckpt.layer_nodes.empty());
        for (const auto& n : ckpt.layer_nodes) QVERIFY2(n.find("LayerCheckpoint") != std::string::npos, n.c_str());
        for (const auto& n : plain.layer_nodes) QVERIFY2(n.find("LayerCheckpoint") == std::string::npos, n.c_str());
        QCOMPARE(ckpt.loss, plain.loss);
        QCOMPARE(ckpt.next_random, plain.next_random);
        QCOMPARE(ckpt.grads.size(), plain.grads.size());
        double worst = 0;
        for (const auto& [name, g] : plain.grads) {
            QVERIFY2(ckpt.grads.count(name), name.c_str());
            const double d = (ckpt.grads.at(name) - g).abs().max().item<double>();
            QVERIFY2(d <= 1e-6, (name + ": max abs diff " + std::to_string(d)).c_str());
            worst = std::max(worst, d);
        }
        qInfo("%s: %zu gradients, max abs diff %.3g", qPrintable(mode), plain.grads.size(), worst);
    }

    // DPO with the context forwarded once: the fixture pair alone (against dpo.values / dpo.grad.* within 1e-3) and
    // two pairs of different context and action lengths (padding in both forwards), each against the unshared
    // computation (one full forward per context + action) within 1e-5, log-probs and LoRA gradients.
    void shared_context_equals_unshared_data() {
        QTest::addColumn<int>("n_pairs");
        QTest::addColumn<bool>("checkpointing");
        QTest::newRow("fixture pair") << 1 << false;
        QTest::newRow("two pairs, padded") << 2 << false;
        QTest::newRow("two pairs, padded, checkpointing") << 2 << true;
    }
    void shared_context_equals_unshared() {
        QFETCH(int, n_pairs);
        QFETCH(bool, checkpointing);
        auto c = m_ref["dpo.chosen_ids"], r = m_ref["dpo.rejected_ids"];
        const int64_t start = 90;
        std::vector<PairTokens> pairs(1);
        pairs[0].prompt = to_vec(c, 0, start);
        QVERIFY(pairs[0].prompt == to_vec(r, 0, start));
        pairs[0].chosen = to_vec(c, start, c.size(1));
        pairs[0].rejected = to_vec(r, start, r.size(1));
        if (n_pairs == 2) {  // shorter context (6 text tokens of the task left out), actions swapped and cut
            PairTokens p;
            p.prompt = to_vec(c, 0, 60);
            auto tail = to_vec(c, 66, start);
            p.prompt.insert(p.prompt.end(), tail.begin(), tail.end());
            p.chosen = pairs[0].rejected;
            p.rejected.assign(pairs[0].chosen.begin(), pairs[0].chosen.begin() + 20);
            pairs.push_back(p);
        }
        auto px = m_ref["case1.pixel_values"], grid = m_ref["case1.grid_thw"];
        std::vector<torch::Tensor> pxs(pairs.size(), px), grids(pairs.size(), grid);
        auto all_px = torch::cat(pxs, 0), all_grid = torch::cat(grids, 0);
        const int64_t B = n_pairs;

        auto run = [&](bool shared, torch::Tensor* logps) {
            std::map<std::string, torch::Tensor> grads;
            auto net = model::load_qwen2vl(kFixture + "/tiny-qwen2vl");
            if (!net.ok() || !load_peft_adapter(**net, kFixture + "/peft-adapter").ok()) return grads;
            model::freeze_base_weights(**net);
            (*net)->eval();
            (*net)->model->gradient_checkpointing = checkpointing;
            torch::Tensor lp;
            if (shared) {
                lp = shared_context_logps(**net, pairs, all_px, all_grid, 1800).logps;
            } else {
                std::vector<torch::Tensor> parts(2 * B);
                for (int64_t j = 0; j < 2 * B; ++j) {
                    const auto& p = pairs[j % B];
                    model::ForwardInput in;
                    in.input_ids = to_ids(p.prompt, j < B ? p.chosen : p.rejected);
                    in.pixel_values = px;
                    in.image_grid_thw = grid;
                    parts[j] = sequence_logps((*net)->forward(in).logits,
                                              response_labels(in.input_ids, static_cast<int64_t>(p.prompt.size())));
                }
                lp = torch::cat(parts, 0);
            }
            *logps = lp.detach().clone();
            // A DPO loss against the fixture's reference values (the same for every pair).
            auto v = m_ref["dpo.values"];
            auto rc = v.narrow(0, 2, 1).expand({B}), rr = v.narrow(0, 3, 1).expand({B});
            dpo_loss(lp.narrow(0, 0, B), lp.narrow(0, B, B), rc, rr, 0.1, DpoLoss::Sigmoid).loss.backward();
            for (auto& [name, t] : model::lora_parameters(**net))
                grads[lora_module_path(name) + char(lora_matrix_kind(name))] = t.grad().clone();
            return grads;
        };
        torch::Tensor lp_shared, lp_plain;
        auto g_shared = run(true, &lp_shared);
        auto g_plain = run(false, &lp_plain);
        QVERIFY(!g_plain.empty());
        QCOMPARE(lp_shared.size(0), 2 * B);
        const double lp_diff = (lp_shared - lp_plain).abs().max().item<double>();
        // float32 sums of ~40 log-probs, about -300 in all: one rounding there is 1.5e-5 (half an ulp of 284), so two
        // summation orders agree to a few ulps of the sum, not to 1e-5 absolute (a wrong mask or position is >1e-2).
        const double lp_tol = 1e-5 + 4 * 1.2e-7 * lp_plain.abs().max().item<double>();
        QVERIFY2(lp_diff <= lp_tol, (std::to_string(lp_diff) + " > " + std::to_string(lp_tol)).c_str());
        double worst = 0;
        for (const auto& [k, g] : g_plain) {
            QVERIFY2(g_shared.count(k) && g_shared.at(k).defined(), k.c_str());
            const double d = (g_shared.at(k) - g).abs().max().item<double>();
            QVERIFY2(d <= 1e-5, (k + ": max abs diff " + std::to_string(d)).c_str());
            worst = std::max(worst, d);
        }
        if (B == 1) {  // the fixture's own numbers
            auto v = m_ref["dpo.values"];
            for (int i = 0; i < 2; ++i)
                QVERIFY2(std::abs(lp_shared[i].item<double>() - v[i].item<double>()) < 1e-3, std::to_string(i).c_str());
            int checked = 0;
            for (const auto& [key, grad] : m_ref) {
                if (key.rfind("dpo.grad.", 0) != 0) continue;
                const std::string name = key.substr(9);
                const std::string k = lora_module_path(name) + char(lora_matrix_kind(name));
                std::string why;
                QVERIFY2(close(g_shared.at(k), grad, 1e-3, 1e-3, &why), (k + ": " + why).c_str());
                ++checked;
            }
            QCOMPARE(checked, 4);
        }
        qInfo("%d pair(s): log-prob max diff %.3g, %zu LoRA gradients max diff %.3g", n_pairs, lp_diff, g_plain.size(),
              worst);
    }

    // The trainer's shared-context path: one right-padded batch [chosen, rejected] with logits kept only from the
    // prompt's last position on must equal two separate full forwards.
    // SFT without padding: two sequences of different lengths, each with its image, laid end to end in one row
    // (ForwardInput::segments) give the padded batch's loss and gradients, LoRA and base weights alike.
    void packed_rows_equal_padded_batch() {
        auto a = m_ref["dpo.chosen_ids"], b = m_ref["dpo.rejected_ids"];
        const int64_t La = a.size(1), Lb = b.size(1), L = std::max(La, Lb);
        QVERIFY(La != Lb);
        auto la = response_labels(a, 90), lb = response_labels(b, 70);
        auto px = torch::cat({m_ref["case1.pixel_values"], m_ref["case1.pixel_values"]}, 0);
        auto grid = torch::cat({m_ref["case1.grid_thw"], m_ref["case1.grid_thw"]}, 0);

        auto run = [&](bool packed, double* loss_out) {
            std::map<std::string, torch::Tensor> grads;
            auto net = model::load_qwen2vl(kFixture + "/tiny-qwen2vl");
            if (!net.ok() || !load_peft_adapter(**net, kFixture + "/peft-adapter").ok()) return grads;
            (*net)->eval();
            model::ForwardInput in;
            in.pixel_values = px;
            in.image_grid_thw = grid;
            torch::Tensor labels;
            if (packed) {
                in.input_ids = torch::cat({a, b}, 1);
                in.segments = {La, Lb};
                labels = torch::cat({la, lb}, 1);
            } else {
                in.input_ids = torch::full({2, L}, 1800, torch::kInt64);
                in.attention_mask = torch::zeros({2, L}, torch::kInt64);
                labels = torch::full({2, L}, kIgnoreIndex, torch::kInt64);
                in.input_ids[0].narrow(0, 0, La).copy_(a[0]);
                in.input_ids[1].narrow(0, 0, Lb).copy_(b[0]);
                in.attention_mask[0].narrow(0, 0, La).fill_(1);
                in.attention_mask[1].narrow(0, 0, Lb).fill_(1);
                labels[0].narrow(0, 0, La).copy_(la[0]);
                labels[1].narrow(0, 0, Lb).copy_(lb[0]);
            }
            const LabelRows rows = label_rows(labels);
            in.logit_rows = rows.rows;
            auto loss = sft_loss_at_rows((*net)->forward(in).logits, rows);
            *loss_out = loss.item<double>();
            loss.backward();
            for (auto& p : (*net)->named_parameters(true))
                if (p.value().grad().defined()) grads[p.key()] = p.value().grad().clone();
            return grads;
        };
        double loss_padded = 0, loss_packed = 0;
        auto padded = run(false, &loss_padded);
        auto packed = run(true, &loss_packed);
        QVERIFY(!padded.empty());
        QCOMPARE(packed.size(), padded.size());
        QVERIFY2(std::abs(loss_packed - loss_padded) < 1e-6,
                 (std::to_string(loss_packed) + " vs " + std::to_string(loss_padded)).c_str());
        for (const auto& [name, g] : padded) {
            std::string why;
            QVERIFY2(packed.count(name), name.c_str());
            QVERIFY2(close(packed[name], g, 1e-6, 1e-4, &why), (name + ": " + why).c_str());
        }
        // Refused: segments that do not cover the row, or with an attention mask.
        auto net = model::load_qwen2vl(kFixture + "/tiny-qwen2vl");
        QVERIFY(net.ok());
        model::ForwardInput bad;
        bad.input_ids = torch::cat({a, b}, 1);
        bad.pixel_values = px;
        bad.image_grid_thw = grid;
        bad.segments = {La, Lb - 1};
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, (*net)->forward(bad));
        bad.segments = {La, Lb};
        bad.attention_mask = torch::ones({1, La + Lb}, torch::kInt64);
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, (*net)->forward(bad));
    }

    void batched_pair_forward_equals_separate() {
        auto net = model::load_qwen2vl(kFixture + "/tiny-qwen2vl");
        QVERIFY(net.ok());
        QVERIFY(load_peft_adapter(**net, kFixture + "/peft-adapter").ok());
        (*net)->eval();
        torch::NoGradGuard ng;
        auto c = m_ref["dpo.chosen_ids"], r = m_ref["dpo.rejected_ids"];
        const int64_t L = c.size(1), start = 90;
        auto ids = torch::full({2, L}, 1800, torch::kInt64);
        ids[0].copy_(c[0]);
        ids[1].narrow(0, 0, r.size(1)).copy_(r[0]);
        auto mask = torch::zeros({2, L}, torch::kInt64);
        mask[0].fill_(1);
        mask[1].narrow(0, 0, r.size(1)).fill_(1);
        auto labels = response_labels(ids, start);
        labels.masked_fill_(mask == 0, kIgnoreIndex);
        model::ForwardInput in;
        in.input_ids = ids;
        in.attention_mask = mask;
        in.pixel_values = torch::cat({m_ref["case1.pixel_values"], m_ref["case1.pixel_values"]}, 0);
        in.image_grid_thw = torch::cat({m_ref["case1.grid_thw"], m_ref["case1.grid_thw"]}, 0);
        const int64_t keep = L - (start - 1);
        in.logits_to_keep = keep;
        auto out = (*net)->forward(in);
        QCOMPARE(out.logits.size(1), keep);
        auto both = sequence_logps(out.logits, labels.narrow(1, L - keep, keep));
        auto v = m_ref["dpo.values"];
        QVERIFY2(std::abs(both[0].item<double>() - v[0].item<double>()) < 1e-3, std::to_string(both[0].item<double>()).c_str());
        QVERIFY2(std::abs(both[1].item<double>() - v[1].item<double>()) < 1e-3, std::to_string(both[1].item<double>()).c_str());

        // The trainer's way: logits at the action tokens only. Same values as the last-k logits (the same
        // arithmetic on the same hidden rows), and the counts are the action lengths.
        in.logits_to_keep = 0;
        const LabelRows rows = label_rows(labels);
        in.logit_rows = rows.rows;
        auto at_rows = (*net)->forward(in);
        QCOMPARE(at_rows.logits.dim(), int64_t(2));
        QCOMPARE(at_rows.logits.size(0), rows.rows.size(0));
        auto [sums, counts] = sequence_logps_and_counts_at_rows(at_rows.logits, rows);
        QVERIFY2((sums - both).abs().max().item<double>() < 1e-5, std::to_string((sums - both).abs().max().item<double>()).c_str());
        QCOMPARE(counts[0].item<double>(), double(c.size(1) - start));
        QCOMPARE(counts[1].item<double>(), double(r.size(1) - start));
        in.logits_to_keep = keep;  // both at once is refused
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, (*net)->forward(in));
    }
};

QTEST_GUILESS_MAIN(TestTrainingFixture)
#include "test_training_fixture.moc"
