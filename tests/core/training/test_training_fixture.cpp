// The training maths against HF transformers + PEFT (fixtures/qwen2vl-tiny, reference.safetensors): the SFT loss
// and six full-model gradients of case 3, the DPO values (policy/reference log-probs, sigmoid loss) with the
// fixture's LoRA and the four LoRA gradients; and that DPO's batched [chosen, rejected] forward (right padding)
// and its logits-only-after-the-prompt shortcut give the same log-probs as separate forwards.
#include <map>

#include "core/model/lora.h"
#include "core/model/qwen2vl.h"
#include "core/training/adapter_io.h"
#include "core/training/losses.h"
#include "core/training/tensor_io.h"

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
    for (const auto& v : (*f)->tensors()) out[v.name] = view_tensor(v).clone();
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

    void sft_loss_and_gradients() {
        auto net = model::load_qwen2vl(kFixture + "/tiny-qwen2vl");
        QVERIFY2(net.ok(), net.ok() ? "" : net.error().to_string().c_str());
        model::ForwardInput in;
        in.input_ids = m_ref["case3.input_ids"];
        in.pixel_values = m_ref["case1.pixel_values"];
        in.image_grid_thw = m_ref["case1.grid_thw"];
        auto out = (*net)->forward(in);
        auto loss = sft_loss(out.logits, m_ref["case3.labels"]);
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
        auto lc = model::load_peft_adapter(**net, kFixture + "/peft-adapter");
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

    // The trainer's shared-context path: one right-padded batch [chosen, rejected] with logits kept only from the
    // prompt's last position on must equal two separate full forwards.
    void batched_pair_forward_equals_separate() {
        auto net = model::load_qwen2vl(kFixture + "/tiny-qwen2vl");
        QVERIFY(net.ok());
        QVERIFY(model::load_peft_adapter(**net, kFixture + "/peft-adapter").ok());
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
    }
};

QTEST_GUILESS_MAIN(TestTrainingFixture)
#include "test_training_fixture.moc"
