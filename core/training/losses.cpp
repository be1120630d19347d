// SFT and DPO objectives. Log-probs are taken only at labelled positions (gather rows first, then
// log_softmax in float32), so a 150K-vocabulary model does not materialise [B, T, V] log-probs in backward; the
// trainer goes further and asks the model for logits at those rows only (label_rows + ForwardInput::logit_rows).
#include "core/training/losses.h"

namespace matrix::train {

LabelRows label_rows(const torch::Tensor& labels) {
    // labels [B, T] -> targets for positions 0..T-2 are labels[:, 1:]
    const int64_t B = labels.size(0), T = labels.size(1);
    auto shifted = torch::full({B, T}, kIgnoreIndex, labels.options());
    if (T > 1) shifted.narrow(1, 0, T - 1).copy_(labels.narrow(1, 1, T - 1));
    auto flat = shifted.reshape({-1});
    auto rows = (flat != kIgnoreIndex).nonzero().reshape({-1});  // [N] indices into B*T
    return {rows, flat.index_select(0, rows), B, T};
}

namespace {
// log p(target) per row, float32, computed a chunk of rows at a time: forward keeps only the logsumexp per row
// ([N] floats) besides the logits it was given, and backward writes d/dlogits = onehot(target) - softmax straight
// into a gradient of the logits' own dtype. log_softmax + gather instead holds [N, V] float32 copies (the cast, the
// log-probs, gather's zero-filled gradient): ~1.8 GB more for 1,024 labelled tokens of a 152K vocabulary.
constexpr int64_t kRowChunk = 512;

struct RowLogps : torch::autograd::Function<RowLogps> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& logits,
                                 const torch::Tensor& targets) {
        const int64_t N = logits.size(0);
        auto lse = torch::empty({N}, logits.options().dtype(torch::kFloat32));
        auto lp = torch::empty({N}, logits.options().dtype(torch::kFloat32));
        for (int64_t i = 0; i < N; i += kRowChunk) {
            const int64_t n = std::min(kRowChunk, N - i);
            auto chunk = logits.narrow(0, i, n).to(torch::kFloat32);
            auto l = torch::logsumexp(chunk, -1);
            lse.narrow(0, i, n).copy_(l);
            lp.narrow(0, i, n).copy_(chunk.gather(1, targets.narrow(0, i, n).unsqueeze(1)).squeeze(1) - l);
        }
        ctx->save_for_backward({logits, targets, lse});
        return lp;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                   torch::autograd::variable_list grad_out) {
        const auto saved = ctx->get_saved_variables();
        const auto &logits = saved[0], &targets = saved[1], &lse = saved[2];
        const auto g = grad_out[0].to(torch::kFloat32);
        auto grad = torch::empty_like(logits);
        const int64_t N = logits.size(0);
        for (int64_t i = 0; i < N; i += kRowChunk) {
            const int64_t n = std::min(kRowChunk, N - i);
            auto gi = g.narrow(0, i, n).unsqueeze(1);
            auto p = (logits.narrow(0, i, n).to(torch::kFloat32) - lse.narrow(0, i, n).unsqueeze(1)).exp_();
            p.mul_(-gi).scatter_add_(1, targets.narrow(0, i, n).unsqueeze(1), gi);
            grad.narrow(0, i, n).copy_(p);
        }
        return {grad, torch::Tensor()};
    }
};

// log p(target) per row [N], float32.
torch::Tensor row_logps(const torch::Tensor& row_logits, const torch::Tensor& targets) {
    return RowLogps::apply(row_logits, targets);
}

torch::Tensor pick_rows(const torch::Tensor& logits, const LabelRows& r) {
    return logits.reshape({-1, logits.size(-1)}).index_select(0, r.rows);
}
}  // namespace

torch::Tensor sft_loss_at_rows(const torch::Tensor& row_logits, const LabelRows& r) {
    auto lp = row_logps(row_logits, r.targets);
    if (lp.numel() == 0) return (row_logits.sum() * 0).to(torch::kFloat32);  // keeps the graph, loss 0
    return -lp.mean();
}

std::pair<torch::Tensor, torch::Tensor> sequence_logps_and_counts_at_rows(const torch::Tensor& row_logits,
                                                                          const LabelRows& r) {
    auto lp = row_logps(row_logits, r.targets);
    auto seq = torch::div(r.rows, r.length, "floor");  // which sequence each row belongs to
    auto sums = torch::zeros({r.batch}, lp.options()).index_add(0, seq, lp);
    auto counts = torch::zeros({r.batch}, lp.options()).index_add(0, seq, torch::ones_like(lp));
    return {sums, counts};
}

torch::Tensor sft_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
    auto r = label_rows(labels.to(logits.device()));
    return sft_loss_at_rows(pick_rows(logits, r), r);
}

std::pair<torch::Tensor, torch::Tensor> sequence_logps_and_counts(const torch::Tensor& logits,
                                                                  const torch::Tensor& labels) {
    auto r = label_rows(labels.to(logits.device()));
    return sequence_logps_and_counts_at_rows(pick_rows(logits, r), r);
}

torch::Tensor sequence_logps(const torch::Tensor& logits, const torch::Tensor& labels) {
    return sequence_logps_and_counts(logits, labels).first;
}

DpoLoss parse_dpo_loss(const std::string& s) {
    if (s == "ipo") return DpoLoss::Ipo;
    if (s == "hinge") return DpoLoss::Hinge;
    return DpoLoss::Sigmoid;
}

DpoTerms dpo_loss(const torch::Tensor& policy_chosen, const torch::Tensor& policy_rejected,
                  const torch::Tensor& ref_chosen, const torch::Tensor& ref_rejected, double beta, DpoLoss type) {
    auto rc = ref_chosen.to(policy_chosen.device()).to(torch::kFloat32).detach();
    auto rr = ref_rejected.to(policy_chosen.device()).to(torch::kFloat32).detach();
    auto pc = policy_chosen.to(torch::kFloat32), pr = policy_rejected.to(torch::kFloat32);
    auto h = (pc - rc) - (pr - rr);  // [B]
    torch::Tensor per_pair;
    switch (type) {
    case DpoLoss::Sigmoid: per_pair = -torch::log_sigmoid(beta * h); break;
    case DpoLoss::Ipo: per_pair = (h - 1.0 / (2.0 * beta)).pow(2); break;
    case DpoLoss::Hinge: per_pair = torch::relu(1.0 - beta * h); break;
    }
    DpoTerms out;
    out.loss = per_pair.mean();
    out.chosen_rewards = (beta * (pc - rc)).detach();
    out.rejected_rewards = (beta * (pr - rr)).detach();
    auto diff = out.chosen_rewards - out.rejected_rewards;
    out.reward_accuracy = (diff > 0).to(torch::kFloat32).mean().item<double>();
    out.margin = diff.mean().item<double>();
    return out;
}

}  // namespace matrix::train
