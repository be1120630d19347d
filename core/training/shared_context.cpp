// Shared-context DPO forward (see shared_context.h). Layout for B pairs:
//   context forward  [B, Pc]:  prompt_b[0 .. n_b - 2], right-padded; records keys/values per layer, no LM head.
//   continuations    [2B, Lc]: row j (pair b = j mod B) = prompt_b[n_b - 1] + action (chosen for j < B, else
//                     rejected), right-padded; attends to the context's keys/values tiled twice (masked where the
//                     context row is padding) and causally to itself.
// M-RoPE: the continuation is text, so its positions count on from the context's largest position + 1 on all
// three axes (what get_rope_index gives the same tokens in the full sequence).
#include "core/training/shared_context.h"

#include <stdexcept>

#include "core/training/losses.h"

namespace matrix::train {

PairLogps shared_context_logps(model::Qwen2VLImpl& net, const std::vector<PairTokens>& pairs,
                               const torch::Tensor& pixel_values, const torch::Tensor& image_grid_thw, int64_t pad_id) {
    const int64_t B = static_cast<int64_t>(pairs.size());
    if (B == 0) throw std::runtime_error("shared-context forward of no pairs");
    const int64_t image_token = net.cfg.image_token_id;
    int64_t Pc = 0, Lc = 0;
    for (const auto& p : pairs) {
        if (p.prompt.size() < 2) throw std::runtime_error("shared-context forward: prompt shorter than 2 tokens");
        if (p.prompt.back() == image_token) throw std::runtime_error("shared-context forward: prompt ends in an image");
        for (const auto* a : {&p.chosen, &p.rejected})
            for (int32_t t : *a)
                if (t == image_token) throw std::runtime_error("shared-context forward: an action holds an image token");
        Pc = std::max<int64_t>(Pc, static_cast<int64_t>(p.prompt.size()) - 1);
        Lc = std::max<int64_t>(Lc, 1 + static_cast<int64_t>(std::max(p.chosen.size(), p.rejected.size())));
    }
    const auto dev = net.device();
    PairLogps out;

    // Context forward: keys/values of every layer (differentiable), positions for the continuation.
    auto ctx_ids = torch::full({B, Pc}, pad_id, torch::kInt64);
    auto ctx_mask = torch::zeros({B, Pc}, torch::kInt64);
    {
        auto pi = ctx_ids.accessor<int64_t, 2>();
        auto pm = ctx_mask.accessor<int64_t, 2>();
        for (int64_t b = 0; b < B; ++b) {
            const auto& pr = pairs[b].prompt;
            for (size_t t = 0; t + 1 < pr.size(); ++t) {
                pi[b][t] = pr[t];
                pm[b][t] = 1;
            }
            out.tokens += static_cast<int64_t>(pr.size()) - 1;
        }
    }
    model::PrefixKV context_kv;
    model::ForwardInput cin;
    cin.input_ids = ctx_ids;
    cin.attention_mask = ctx_mask;
    if (pixel_values.defined() && pixel_values.numel() > 0) {
        cin.pixel_values = pixel_values;
        cin.image_grid_thw = image_grid_thw;
    }
    cin.record = &context_kv;
    cin.skip_logits = true;
    auto cout = net.forward(cin);
    // Next text position of each context row: its largest real position + 1 ([3, B, Pc] -> [B]).
    auto next_pos = cout.position_ids.masked_fill((ctx_mask == 0).unsqueeze(0), -1).amax({0, 2}) + 1;

    // Continuations [2B, Lc]: chosen rows then rejected rows.
    auto ids = torch::full({2 * B, Lc}, pad_id, torch::kInt64);
    auto mask = torch::zeros({2 * B, Lc}, torch::kInt64);
    auto labels = torch::full({2 * B, Lc}, kIgnoreIndex, torch::kInt64);
    auto pos = torch::zeros({2 * B, Lc}, torch::kInt64);
    {
        auto pi = ids.accessor<int64_t, 2>();
        auto pm = mask.accessor<int64_t, 2>();
        auto pl = labels.accessor<int64_t, 2>();
        auto pp = pos.accessor<int64_t, 2>();
        auto np = next_pos.accessor<int64_t, 1>();
        for (int64_t j = 0; j < 2 * B; ++j) {
            const auto& p = pairs[j % B];
            const auto& act = j < B ? p.chosen : p.rejected;
            pi[j][0] = p.prompt.back();
            pm[j][0] = 1;
            for (size_t t = 0; t < act.size(); ++t) {
                pi[j][t + 1] = act[t];
                pm[j][t + 1] = 1;
                pl[j][t + 1] = act[t];
            }
            for (int64_t t = 0; t < Lc; ++t) pp[j][t] = np[j % B] + t;
            out.tokens += 1 + static_cast<int64_t>(act.size());
        }
    }
    auto prefix = context_kv.tiled(2);
    model::ForwardInput in;
    in.input_ids = ids;
    in.attention_mask = mask;
    in.position_ids = pos.unsqueeze(0).expand({3, 2 * B, Lc}).contiguous();
    in.prefix = &prefix;
    in.prefix_mask = ctx_mask.repeat({2, 1});
    const LabelRows rows = label_rows(labels.to(dev));
    in.logit_rows = rows.rows;  // logits [N, V] at the action tokens only
    std::tie(out.logps, out.counts) = sequence_logps_and_counts_at_rows(net.forward(in).logits, rows);
    return out;
}

}  // namespace matrix::train
