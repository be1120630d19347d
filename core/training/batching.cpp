// Batching for the training loop: images preprocessed once per path (ImageCache), sequences right-padded into a
// batch with labels (collate), and which samples each micro-batch of an epoch holds (epoch_order: a pure function
// of seed and epoch, so a resumed run and every rank of a data-parallel run see the same order).
#include "core/training/trainer_session.h"

#include <random>

#ifdef MATRIX_HAVE_OPENCV
#include "core/image/qwen2vl_preprocess.h"
#endif

namespace matrix::train::detail {

Status ImageCache::append(const std::vector<SampleImage>& images, std::vector<torch::Tensor>& pixels,
                          std::vector<torch::Tensor>& grids) {
    for (const auto& img : images) {
        auto it = m_cache.find(img.resolved);
        torch::Tensor pv;
        if (it != m_cache.end()) {
            pv = it->second;
        } else {
#ifdef MATRIX_HAVE_OPENCV
            vision::PreprocessConfig pc;
            pc.min_pixels = m_settings.min_pixels;
            pc.max_pixels = m_settings.max_pixels;
            pc.patch_size = m_settings.patch_size;
            pc.merge_size = m_settings.merge_size;
            MATRIX_TRY(auto pre, vision::preprocess_file(img.resolved, pc));
            pv = torch::from_blob(pre.pixel_values.data(), {pre.n_patches, pre.patch_dim}, torch::kFloat32).clone();
            if (pre.grid_thw != img.grid_thw)
                return make_error("grid differs from the one computed from the media row's size", img.resolved);
            if (m_bytes + pv.numel() * 4 < kBudget) {
                m_cache.emplace(img.resolved, pv);
                m_bytes += pv.numel() * 4;
            }
#else
            return make_error("this build has no image preprocessing (OpenCV)", img.resolved);
#endif
        }
        pixels.push_back(pv);
        grids.push_back(torch::tensor({img.grid_thw[0], img.grid_thw[1], img.grid_thw[2]}, torch::kInt64).view({1, 3}));
    }
    return {};
}

Result<Batch> collate(const std::vector<std::vector<int32_t>>& seqs, const std::vector<std::vector<uint8_t>>& masks,
                      const std::vector<const std::vector<SampleImage>*>& images, ImageCache& cache, int64_t pad_id,
                      const torch::Device& device) {
    Batch b;
    const int64_t B = static_cast<int64_t>(seqs.size());
    int64_t L = 0;
    for (const auto& s : seqs) L = std::max<int64_t>(L, static_cast<int64_t>(s.size()));
    auto ids = torch::full({B, L}, pad_id, torch::kInt64);
    auto att = torch::zeros({B, L}, torch::kInt64);
    auto lab = torch::full({B, L}, kIgnoreIndex, torch::kInt64);
    auto pi = ids.accessor<int64_t, 2>();
    auto pa = att.accessor<int64_t, 2>();
    auto pl = lab.accessor<int64_t, 2>();
    for (int64_t i = 0; i < B; ++i) {
        for (size_t t = 0; t < seqs[i].size(); ++t) {
            pi[i][t] = seqs[i][t];
            pa[i][t] = 1;
            if (masks[i][t]) pl[i][t] = seqs[i][t];
        }
        b.n_tokens += static_cast<int64_t>(seqs[i].size());
    }
    std::vector<torch::Tensor> pixels, grids;
    for (const auto* imgs : images) MATRIX_CHECK(cache.append(*imgs, pixels, grids));
    b.input_ids = ids.to(device);
    b.attention_mask = att.to(device);
    b.labels = lab.to(device);
    if (!pixels.empty()) {
        b.pixel_values = torch::cat(pixels, 0).to(device);
        b.grid_thw = torch::cat(grids, 0);
    }
    return b;
}

int64_t micro_per_epoch(const Session& s) {
    return (static_cast<int64_t>(s.train_idx.size()) + s.cfg.batch_size - 1) / s.cfg.batch_size;
}
int64_t micro_per_step(const Session& s) {
    return static_cast<int64_t>(s.cfg.grad_accum) * s.world;
}
int64_t steps_per_epoch(const Session& s) {
    return (micro_per_epoch(s) + micro_per_step(s) - 1) / micro_per_step(s);
}

// Training order of epoch e: a pure function of (seed, epoch).
std::vector<size_t> epoch_order(const Session& s, int64_t epoch) {
    std::vector<size_t> order = s.train_idx;
    std::mt19937_64 rng(static_cast<uint64_t>(s.cfg.seed) * 1000003ULL + static_cast<uint64_t>(epoch));
    for (size_t i = order.size(); i > 1; --i) {  // Fisher-Yates with our own draws: same on every libstdc++
        size_t j = static_cast<size_t>(rng() % i);
        std::swap(order[i - 1], order[j]);
    }
    return order;
}

}  // namespace matrix::train::detail
