// Training objectives shared by the trainer and the tests: SFT cross-entropy over labelled tokens (HF's
// one-position shift, -100 = ignored) and the DPO family (sigmoid as in the DPO paper / MATRIX, IPO, hinge)
// computed from summed action log-probs of policy and reference, with TRL's reward metrics.
// Pure functions of tensors; thread-compatible.
#pragma once

#include <torch/torch.h>

#include <string>

namespace matrix::train {

constexpr int64_t kIgnoreIndex = -100;

// logits [B, T, V], labels [B, T] (kIgnoreIndex where not trained). Position t predicts labels[t + 1].
// Mean cross-entropy over all labelled tokens of the batch (HF's ForCausalLMLoss), float32 scalar.
torch::Tensor sft_loss(const torch::Tensor& logits, const torch::Tensor& labels);

// Same shift; per-sequence sum of log p(label) over labelled tokens -> [B] float32.
torch::Tensor sequence_logps(const torch::Tensor& logits, const torch::Tensor& labels);

// Per-sequence sum and count in one pass: {sum logp [B], n tokens [B]} (for SFT terms in DPO).
std::pair<torch::Tensor, torch::Tensor> sequence_logps_and_counts(const torch::Tensor& logits,
                                                                  const torch::Tensor& labels);

// The positions whose next token is trained: rows of the flattened [B * T] positions (position t predicts
// labels[t + 1]), their targets, and the batch shape. Pass `rows` as ForwardInput::logit_rows so the LM head runs
// on those rows only, then take the losses below from the [N, V] logits it returns.
struct LabelRows {
    torch::Tensor rows;     // [N] int64, on the labels' device
    torch::Tensor targets;  // [N] int64
    int64_t batch = 0, length = 0;
};
LabelRows label_rows(const torch::Tensor& labels);

// sft_loss / sequence_logps_and_counts from logits computed at r.rows only ([N, V]); the same values as the
// full-logits forms above.
torch::Tensor sft_loss_at_rows(const torch::Tensor& row_logits, const LabelRows& r);
std::pair<torch::Tensor, torch::Tensor> sequence_logps_and_counts_at_rows(const torch::Tensor& row_logits,
                                                                          const LabelRows& r);

enum class DpoLoss { Sigmoid, Ipo, Hinge };
DpoLoss parse_dpo_loss(const std::string& s);  // unknown -> Sigmoid (the config validates the name)

struct DpoTerms {
    torch::Tensor loss;              // scalar: mean over pairs (differentiable)
    torch::Tensor chosen_rewards;    // [B] beta * (pi - ref) for chosen, detached
    torch::Tensor rejected_rewards;  // [B] detached
    double reward_accuracy = 0;      // share of pairs with chosen reward > rejected reward
    double margin = 0;               // mean (chosen - rejected) reward
};

// Log-probs are per-pair sums over the action tokens, all [B].
// sigmoid: -log sigmoid(beta * h), ipo: (h - 1/(2 beta))^2, hinge: relu(1 - beta * h), with
// h = (pi_c - ref_c) - (pi_r - ref_r).
DpoTerms dpo_loss(const torch::Tensor& policy_chosen, const torch::Tensor& policy_rejected,
                  const torch::Tensor& ref_chosen, const torch::Tensor& ref_rejected, double beta, DpoLoss type);

}  // namespace matrix::train
