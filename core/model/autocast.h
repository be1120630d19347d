// bf16 autocast on CUDA as an RAII scope, and a query of the current state, in one place because the LibTorch API
// moved in 2.4 (set_enabled / set_autocast_gpu_dtype -> set_autocast_enabled(kCUDA) / set_autocast_dtype(kCUDA)).
// Used by the trainer and bench_train for the forward pass and by activation checkpointing, whose recompute in
// backward must run under the autocast state of the original forward. Thread-local state: one scope per thread.
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace matrix::model {

// Whether CUDA autocast is on in this thread, and its dtype.
inline bool cuda_autocast_enabled() {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    return at::autocast::is_autocast_enabled(at::kCUDA);
#else
    return at::autocast::is_enabled();
#endif
}

inline at::ScalarType cuda_autocast_dtype() {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    return at::autocast::get_autocast_dtype(at::kCUDA);
#else
    return at::autocast::get_autocast_gpu_dtype();
#endif
}

// CUDA autocast to `dtype` while alive (no-op when !on). Restores "off" on exit; do not nest inside another
// enabled scope.
class CudaAutocast {
public:
    explicit CudaAutocast(bool on, at::ScalarType dtype = at::kBFloat16) : m_on(on) {
        if (!m_on) return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        at::autocast::set_autocast_enabled(at::kCUDA, true);
        at::autocast::set_autocast_dtype(at::kCUDA, dtype);
#else
        at::autocast::set_enabled(true);
        at::autocast::set_autocast_gpu_dtype(dtype);
#endif
        at::autocast::increment_nesting();
    }
    ~CudaAutocast() {
        if (!m_on) return;
        if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        at::autocast::set_autocast_enabled(at::kCUDA, false);
#else
        at::autocast::set_enabled(false);
#endif
    }
    CudaAutocast(const CudaAutocast&) = delete;
    CudaAutocast& operator=(const CudaAutocast&) = delete;

private:
    bool m_on;
};

}  // namespace matrix::model
