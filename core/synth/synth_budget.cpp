// The token budget's admission control (see synth_context.h): before a request is sent, its worst case (the
// prompt's tokens bounded from above, plus max_tokens for every choice) is reserved against the budget; the reply's
// real usage replaces the reservation. A request that does not fit waits while others are in flight (their
// replies free what they reserved beyond their use) and pauses the job when nothing is in flight and it still does
// not fit, so the paid total never passes --budget-tokens whatever the number of workers.
#include <algorithm>
#include <fstream>

#include "core/formats/image_probe.h"
#include "core/synth/synth_context.h"

namespace matrix::synth::detail {

namespace {

// Qwen2-VL's tokens for an image of w x h at its default max_pixels: one per 28x28 patch after resizing to
// multiples of 28 (at most 12,845,056 pixels = 16,384 patches), plus vision start / end.
int64_t image_tokens_bound(const std::string& path) {
    constexpr int64_t k_max_patches = 16384;
    std::ifstream in(path, std::ios::binary);
    std::string head(1 << 16, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
    const auto info = formats::probe_image(head);
    if (!info || info->width <= 0 || info->height <= 0) return k_max_patches + 2;
    const int64_t patches = ((info->width + 27) / 28) * ((info->height + 27) / 28);
    return std::min(k_max_patches, std::max<int64_t>(4, patches)) + 2;
}

}  // namespace

int64_t chat_tokens_bound(const net::ChatRequest& request, int default_max_tokens) {
    int64_t prompt = k_reply_overhead_tokens;
    for (const net::ChatMessage& m : request.messages) {
        prompt += k_message_overhead_tokens + static_cast<int64_t>(m.role.size());
        for (const net::ContentPart& p : m.content)
            prompt += p.kind == net::ContentPart::Kind::text ? static_cast<int64_t>(p.text.size())
                                                             : image_tokens_bound(p.image_path);
    }
    const int64_t max_tokens = request.max_tokens.value_or(default_max_tokens);
    return prompt + max_tokens * std::max(1, request.n.value_or(1));
}

int64_t embedding_tokens_bound(const std::vector<std::string>& inputs) {
    int64_t n = 0;
    for (const std::string& s : inputs) n += static_cast<int64_t>(s.size()) + k_message_overhead_tokens;
    return n;
}

Result<BudgetReservation> reserve_budget(Job& job, int64_t tokens) {
    if (job.s.budget_tokens <= 0) return BudgetReservation{};
    std::unique_lock<std::mutex> lock(job.budget_mutex);
    for (;;) {
        if (job.cancelled()) return cancelled_error();
        if (job.budget_hit.load()) return budget_error();
        if (job.paid_tokens.load() + job.reserved_tokens + tokens <= job.s.budget_tokens) {
            job.reserved_tokens += tokens;
            return BudgetReservation(&job, tokens);
        }
        if (job.reserved_tokens == 0) {
            job.budget_hit = true;
            job.refused_tokens = tokens;
            job.budget_cv.notify_all();
            return budget_error();
        }
        // Others' replies free what they reserved beyond their use; the cancel flag is polled meanwhile.
        job.budget_cv.wait_for(lock, std::chrono::milliseconds(50));
    }
}

BudgetReservation::BudgetReservation(BudgetReservation&& o) noexcept : m_job(o.m_job), m_tokens(o.m_tokens) {
    o.m_job = nullptr;
}

BudgetReservation& BudgetReservation::operator=(BudgetReservation&& o) noexcept {
    if (this != &o) {
        release();
        m_job = o.m_job;
        m_tokens = o.m_tokens;
        o.m_job = nullptr;
    }
    return *this;
}

void BudgetReservation::release() {
    if (!m_job) return;
    {
        std::lock_guard<std::mutex> lock(m_job->budget_mutex);
        m_job->reserved_tokens -= m_tokens;
    }
    m_job->budget_cv.notify_all();
    m_job = nullptr;
}

}  // namespace matrix::synth::detail
