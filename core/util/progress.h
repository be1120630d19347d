// Progress and cancellation hooks for long core work (imports, training, generation), with no Qt types.
// The GUI adapts them to queued signals; the CLI prints lines. Loops call `cancelled()` between units of work.
// Thread safety: `report` is called on the worker thread; `cancel` may be set from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace matrix {

struct Progress {
    // done/total in the unit of the work (records, bytes, steps); total <= 0 when unknown.
    std::function<void(int64_t done, int64_t total, const std::string& what)> report;
    const std::atomic<bool>* cancel = nullptr;

    bool cancelled() const { return cancel && cancel->load(std::memory_order_relaxed); }
    void operator()(int64_t done, int64_t total, const std::string& what = {}) const {
        if (report) report(done, total, what);
    }
};

}  // namespace matrix
