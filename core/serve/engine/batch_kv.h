// The KV cache of a continuously batched decode: rows of several caches (the running batch, the prefills of newly
// admitted requests) assembled into one static KVCache, left-padded to a common length. A row keeps its keys and
// values, its padding mask and its next M-RoPE position (rope_deltas is adjusted for the shift), so decoding it in
// the new batch continues it exactly. The same call drops finished rows, trims columns no row uses any more and
// grows the capacity, so one cache copy covers every change between two decode steps.
// Thread safety: none; the engine thread owns every cache.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "core/model/config.h"
#include "core/model/kv_cache.h"

namespace matrix::serve {

struct BatchSource {
    const model::KVCache* cache = nullptr;
    std::vector<int64_t> rows;  // rows of `cache` to take, in output order (a row may repeat: n candidates)
    int64_t start = 0;          // the first column any of these rows uses (columns before it are padding for all)
};

// Rows of all sources, in order, in a cache of length T = max(cache.length - start) and capacity T + extra.
// Columns a row never filled are zero with mask 0. `padded` is set when some source's first column lands after
// column 0; a caller whose rows within one source start at different columns (the running batch) sets it from its
// own row starts. Sources need rope_deltas (set by their prefill).
model::KVCache merge_caches(const std::vector<BatchSource>& sources, int64_t extra_capacity,
                            const model::TextConfig& cfg);

}  // namespace matrix::serve
