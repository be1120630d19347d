// Continuous batching over Qwen2-VL (see batch_engine.h).
#include "core/serve/engine/batch_engine.h"

#include <ATen/CPUGeneratorImpl.h>
#include <malloc.h>

#include <algorithm>
#include <unordered_set>

#include "core/model/generation.h"
#include "core/serve/engine/batch_kv.h"
#include "core/serve/stop_filter.h"
#include "core/util/error_text.h"

namespace matrix::serve {

struct BatchEngine::Running {
    std::shared_ptr<GenerationJob> job;
    at::Generator gen;
    struct Candidate {
        std::vector<int64_t> tokens;
        std::unique_ptr<tok::StreamDecoder> decoder;
        StopFilter filter;
        bool done = false;
    };
    std::vector<Candidate> cands;
    int64_t open = 0;  // candidates still generating
    bool closed = false;  // done, failed or cancelled: the channel got its last event
};

namespace {
struct Row {
    std::shared_ptr<BatchEngine::Running> run;
    int64_t cand = 0;
    int64_t start = 0;  // first KV column of this row in its lane's cache
    int64_t last = 0;   // the token to feed next
};

bool row_alive(const Row& r) { return !r.run->closed && !r.run->cands[r.cand].done; }
}  // namespace

struct BatchEngine::Lane {
    model::KVCache cache;
    std::vector<Row> rows;
    bool dirty = false;  // rows finished or were cancelled since the cache was assembled
    struct Newcomer {
        std::shared_ptr<Running> run;
        model::KVCache prefill;
    };
    std::vector<Newcomer> newcomers;
};

BatchEngine::BatchEngine(std::vector<model::Qwen2VL> models, tok::Tokenizer tokenizer, EngineOptions options)
    : m_models(std::move(models)), m_tokenizer(std::move(tokenizer)), m_options(std::move(options)) {
    if (m_options.eos_token_ids.empty()) m_options.eos_token_ids = m_models.at(0)->cfg.eos_token_ids;
    m_options.max_batch = std::max<int64_t>(1, m_options.max_batch);
    m_thread = std::thread([this] { loop(); });
}

BatchEngine::~BatchEngine() {
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

void BatchEngine::submit(std::shared_ptr<GenerationJob> job) {
    ++m_submitted;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_waiting.push_back(std::move(job));
    }
    m_cv.notify_all();
}

EngineStats BatchEngine::stats() const {
    EngineStats s;
    s.jobs_submitted = m_submitted;
    s.jobs_completed = m_completed;
    s.jobs_cancelled = m_cancelled;
    s.jobs_failed = m_failed;
    s.jobs_running = m_running_jobs;
    s.rows_running = m_running_rows;
    s.tokens_generated = m_tokens;
    s.prompt_tokens = m_prompt_tokens;
    s.decode_steps = m_steps;
    s.max_rows_seen = m_max_rows;
    std::lock_guard<std::mutex> lock(m_mutex);
    s.jobs_waiting = static_cast<int64_t>(m_waiting.size());
    return s;
}

void BatchEngine::loop() {
    torch::NoGradGuard no_grad;
    std::unordered_set<int64_t> eos(m_options.eos_token_ids.begin(), m_options.eos_token_ids.end());
    std::vector<Lane> lanes(m_models.size());
    std::deque<std::shared_ptr<GenerationJob>> waiting;
    bool worked_since_trim = false;

    auto close = [&](Running& r) {
        if (r.closed) return;
        r.closed = true;
        --m_running_jobs;
    };
    auto fail = [&](Running& r, const std::string& message) {
        if (r.closed) return;
        r.job->channel->push({JobEvent::Kind::error, 0, message, -1, {}});
        ++m_failed;
        close(r);
    };
    // Appends a chosen token to candidate c: streams its text, detects EOS, stop strings and the length limit.
    auto accept = [&](Running& r, int64_t c, int64_t token) {
        auto& cd = r.cands[c];
        cd.tokens.push_back(token);
        ++m_tokens;
        const bool is_eos = eos.count(token) > 0;
        std::string text = cd.filter.push(is_eos ? cd.decoder->flush() : cd.decoder->push(static_cast<int32_t>(token)));
        std::string reason;
        if (cd.filter.stopped() || is_eos) {
            reason = "stop";
        } else if (static_cast<int64_t>(cd.tokens.size()) >= r.job->max_tokens) {
            reason = "length";
            text += cd.filter.push(cd.decoder->flush());
        }
        if (!reason.empty() && !cd.filter.stopped()) text += cd.filter.finish();
        r.job->channel->push({JobEvent::Kind::token, c, std::move(text), token, {}});
        if (reason.empty()) return;
        cd.done = true;
        r.job->channel->push({JobEvent::Kind::finish, c, {}, token, reason});
        if (--r.open == 0) {
            r.job->channel->push({JobEvent::Kind::done, 0, {}, -1, {}});
            ++m_completed;
            close(r);
        }
    };
    // Token choice for candidate c from its logits row ([V] float32 on the host), as generation.cpp does it.
    auto choose = [&](Running& r, int64_t c, torch::Tensor row) -> int64_t {
        const GenerationJob& j = *r.job;
        if (j.repetition_penalty != 1.0) {
            std::vector<int64_t> seen = j.prompt_ids;
            seen.insert(seen.end(), r.cands[c].tokens.begin(), r.cands[c].tokens.end());
            row = model::apply_repetition_penalty(row, seen, j.repetition_penalty);
        }
        if (!j.do_sample) return row.argmax().item<int64_t>();
        if (j.temperature > 0 && j.temperature != 1.0) row = row / j.temperature;
        row = model::apply_top_k_top_p(row, j.top_k, j.top_p);
        return torch::multinomial(row.softmax(0), 1, false, r.gen).item<int64_t>();
    };
    auto needs_host = [](const GenerationJob& j) { return j.do_sample || j.repetition_penalty != 1.0; };

    // Prefills a job on its own (batch 1) and picks every candidate's first token.
    auto admit = [&](const std::shared_ptr<GenerationJob>& job) {
        auto run = std::make_shared<Running>();
        run->job = job;
        run->gen = at::detail::createCPUGenerator(job->seed);
        for (int64_t c = 0; c < job->n; ++c) {
            Running::Candidate cd;
            cd.decoder = std::make_unique<tok::StreamDecoder>(m_tokenizer, true);
            cd.filter = StopFilter(job->stop);
            run->cands.push_back(std::move(cd));
        }
        run->open = job->n;
        ++m_running_jobs;
        m_prompt_tokens += static_cast<int64_t>(job->prompt_ids.size());
        model::Qwen2VL& m = m_models.at(job->model_index);
        try {
            const int64_t L = static_cast<int64_t>(job->prompt_ids.size());
            auto opts = torch::TensorOptions().dtype(m->dtype()).device(m->device());
            model::KVCache pc = model::KVCache::allocate(m->cfg.text, 1, L, opts);
            model::ForwardInput in;
            in.input_ids = torch::tensor(job->prompt_ids, torch::kInt64).view({1, L}).to(m->device());
            in.pixel_values = job->pixel_values;
            in.image_grid_thw = job->image_grid_thw;
            in.cache = &pc;
            in.logits_to_keep = 1;
            auto logits = m->forward(in).logits.select(1, 0).to(torch::kFloat32);  // [1, V]
            torch::Tensor host;
            if (needs_host(*job)) host = logits[0].to(torch::kCPU);
            const int64_t greedy = needs_host(*job) ? -1 : logits[0].argmax().item<int64_t>();
            for (int64_t c = 0; c < job->n && !run->closed; ++c)
                accept(*run, c, greedy >= 0 ? greedy : choose(*run, c, host));
            if (!run->closed) lanes[job->model_index].newcomers.push_back({run, std::move(pc)});
        } catch (const std::exception& e) {
            fail(*run, std::string("generation failed: ") + one_line_error(e.what()));
        }
        worked_since_trim = true;
    };

    // Drops finished rows, adds newcomers, trims unused columns, grows the capacity: one cache copy.
    auto rebuild = [&](Lane& lane) {
        const model::TextConfig& cfg = m_models.at(&lane - lanes.data())->cfg.text;
        std::vector<Row> rows;
        std::vector<BatchSource> sources;
        int64_t remaining = 1;
        BatchSource old{&lane.cache, {}, INT64_MAX};
        for (size_t i = 0; i < lane.rows.size(); ++i) {
            const Row& r = lane.rows[i];
            if (!row_alive(r)) continue;
            old.rows.push_back(static_cast<int64_t>(i));
            old.start = std::min(old.start, r.start);
            rows.push_back(r);
            remaining = std::max(remaining, r.run->job->max_tokens - static_cast<int64_t>(r.run->cands[r.cand].tokens.size()));
        }
        if (!old.rows.empty()) sources.push_back(old);
        for (auto& nc : lane.newcomers) {
            BatchSource s{&nc.prefill, {}, 0};
            for (int64_t c = 0; c < nc.run->job->n; ++c) {
                if (nc.run->cands[c].done) continue;
                s.rows.push_back(0);
                rows.push_back({nc.run, c, 0, nc.run->cands[c].tokens.back()});
                remaining = std::max(remaining, nc.run->job->max_tokens - static_cast<int64_t>(nc.run->cands[c].tokens.size()));
            }
            if (!s.rows.empty()) sources.push_back(std::move(s));
        }
        model::KVCache merged = merge_caches(sources, std::min(remaining, m_options.capacity_step), cfg);
        // Row starts in the merged cache: each source's columns moved by T - source length.
        size_t k = 0;
        for (const auto& s : sources) {
            const int64_t shift = merged.length - s.cache->length;
            for (size_t i = 0; i < s.rows.size(); ++i, ++k) rows[k].start += shift;
        }
        merged.padded = false;
        for (const auto& r : rows) merged.padded = merged.padded || r.start > 0;
        lane.cache = std::move(merged);
        lane.rows = std::move(rows);
        lane.newcomers.clear();
        lane.dirty = false;
    };

    auto step = [&](Lane& lane) {
        model::Qwen2VL& m = m_models.at(&lane - lanes.data());
        const int64_t R = static_cast<int64_t>(lane.rows.size());
        std::vector<int64_t> ids(R);
        std::vector<int64_t> host_rows;
        for (int64_t i = 0; i < R; ++i) {
            ids[i] = lane.rows[i].last;
            if (needs_host(*lane.rows[i].run->job)) host_rows.push_back(i);
        }
        model::ForwardInput in;
        in.input_ids = torch::tensor(ids, torch::kInt64).view({R, 1}).to(m->device());
        in.cache = &lane.cache;
        in.logits_to_keep = 1;
        auto logits = m->forward(in).logits.select(1, 0).to(torch::kFloat32);  // [R, V]
        auto greedy = logits.argmax(-1).to(torch::kCPU).contiguous();
        torch::Tensor host;
        if (!host_rows.empty())
            host = logits.index_select(0, torch::tensor(host_rows, torch::kInt64).to(m->device())).to(torch::kCPU);
        ++m_steps;
        size_t h = 0;
        for (int64_t i = 0; i < R; ++i) {
            Row& r = lane.rows[i];
            const bool on_host = h < host_rows.size() && host_rows[h] == i;
            const int64_t tok = on_host ? choose(*r.run, r.cand, host[static_cast<int64_t>(h++)])
                                        : greedy.data_ptr<int64_t>()[i];
            if (!row_alive(r)) continue;
            accept(*r.run, r.cand, tok);
            r.last = tok;
            if (!row_alive(r)) lane.dirty = true;
        }
    };

    for (;;) {
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            bool busy = !waiting.empty();
            for (auto& l : lanes) busy = busy || !l.rows.empty();
            if (!busy && m_waiting.empty() && !m_stop) {
                if (worked_since_trim) {
                    // Idle: hand the freed KV caches and activations back to the system.
                    lock.unlock();
                    malloc_trim(0);
                    worked_since_trim = false;
                    lock.lock();
                }
                m_cv.wait(lock, [&] { return m_stop || !m_waiting.empty(); });
            }
            if (m_stop) break;
            while (!m_waiting.empty()) {
                waiting.push_back(std::move(m_waiting.front()));
                m_waiting.pop_front();
            }
        }
        // Cancelled jobs (the client went away) leave now.
        int64_t rows_alive = 0;
        for (auto& lane : lanes)
            for (auto& r : lane.rows) {
                if (!r.run->closed && r.run->job->channel->cancelled()) {
                    ++m_cancelled;
                    r.run->job->channel->push({JobEvent::Kind::done, 0, {}, -1, {}});
                    close(*r.run);
                }
                if (row_alive(r)) ++rows_alive;
                else lane.dirty = true;
            }
        // Admission: first come, first served, while the batch has room (a job always fits an empty batch).
        while (!waiting.empty()) {
            auto job = waiting.front();
            if (job->channel->cancelled()) {
                waiting.pop_front();
                ++m_cancelled;
                job->channel->push({JobEvent::Kind::done, 0, {}, -1, {}});
                continue;
            }
            if (rows_alive > 0 && rows_alive + job->n > m_options.max_batch) break;
            waiting.pop_front();
            admit(job);
            auto& nc = lanes[job->model_index].newcomers;
            if (!nc.empty() && nc.back().run->job == job) rows_alive += nc.back().run->open;
        }
        int64_t rows_total = 0;
        for (auto& lane : lanes) {
            const bool full = !lane.rows.empty() && lane.cache.length >= lane.cache.capacity;
            if (lane.dirty || full || !lane.newcomers.empty()) {
                try {
                    rebuild(lane);
                } catch (const std::exception& e) {
                    for (auto& r : lane.rows) fail(*r.run, std::string("generation failed: ") + one_line_error(e.what()));
                    for (auto& nc : lane.newcomers) fail(*nc.run, std::string("generation failed: ") + one_line_error(e.what()));
                    lane = Lane();
                }
            }
            rows_total += static_cast<int64_t>(lane.rows.size());
        }
        m_running_rows = rows_total;
        if (rows_total > m_max_rows) m_max_rows = rows_total;
        for (auto& lane : lanes) {
            if (lane.rows.empty()) continue;
            try {
                step(lane);
                worked_since_trim = true;
            } catch (const std::exception& e) {
                for (auto& r : lane.rows) fail(*r.run, std::string("generation failed: ") + one_line_error(e.what()));
                lane = Lane();
            }
        }
    }
    // Shutting down: whoever still waits gets an answer.
    for (auto& lane : lanes) {
        for (auto& r : lane.rows) fail(*r.run, "the server is shutting down");
        for (auto& nc : lane.newcomers) fail(*nc.run, "the server is shutting down");
    }
    for (auto& j : waiting) j->channel->push({JobEvent::Kind::error, 0, "the server is shutting down", -1, {}});
    std::lock_guard<std::mutex> lock(m_mutex);
    for (auto& j : m_waiting) j->channel->push({JobEvent::Kind::error, 0, "the server is shutting down", -1, {}});
    m_waiting.clear();
}

}  // namespace matrix::serve
