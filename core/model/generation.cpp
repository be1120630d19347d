// Generation loop (see generation.h). Logits processors follow transformers: RepetitionPenaltyLogitsProcessor
// (divide positive / multiply negative scores of tokens already in the sequence, prompt included), then
// TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper (keep the smallest set whose mass reaches top_p,
// at least one token); sampling draws from a seeded CPU generator so results do not depend on the device.
#include "core/model/generation.h"

#include <ATen/CPUGeneratorImpl.h>

#include "core/model/cuda_graph_decode.h"
#include "core/util/error_text.h"

#include <chrono>
#include <set>
#include <unordered_set>

namespace matrix::model {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

torch::Tensor apply_repetition_penalty(const torch::Tensor& logits, const std::vector<int64_t>& seen, double penalty) {
    if (penalty == 1.0 || seen.empty()) return logits;
    std::vector<int64_t> uniq(seen.begin(), seen.end());
    std::sort(uniq.begin(), uniq.end());
    uniq.erase(std::unique(uniq.begin(), uniq.end()), uniq.end());
    auto idx = torch::tensor(uniq, torch::kInt64);
    auto score = logits.index_select(0, idx);
    score = torch::where(score < 0, score * penalty, score / penalty);
    return logits.index_copy(0, idx, score);
}

torch::Tensor apply_top_k_top_p(const torch::Tensor& logits_in, int64_t top_k, double top_p) {
    auto logits = logits_in;
    const float neg_inf = -std::numeric_limits<float>::infinity();
    const int64_t V = logits.size(0);
    if (top_k > 0 && top_k < V) {
        auto kth = std::get<0>(logits.topk(top_k)).min();
        logits = logits.masked_fill(logits < kth, neg_inf);
    }
    if (top_p < 1.0) {
        auto sorted = logits.sort(/*dim=*/0, /*descending=*/false);
        auto sorted_logits = std::get<0>(sorted), order = std::get<1>(sorted);
        auto cum = sorted_logits.softmax(0).cumsum(0);
        auto remove = cum <= (1.0 - top_p);
        remove[V - 1] = false;  // min_tokens_to_keep = 1
        auto remove_orig = torch::zeros_like(remove).scatter(0, order, remove);
        logits = logits.masked_fill(remove_orig, neg_inf);
    }
    return logits;
}

Result<GenerationResult> generate(Qwen2VL& model, const GenerationRequest& request, const SamplingOptions& opt,
                                  const DecodeFn& decode, const TokenCallback& on_token, const std::atomic<bool>* cancel) {
    GenerationResult res;
    try {
        torch::NoGradGuard no_grad;
        model->eval();
        if (!request.input_ids.defined() || request.input_ids.dim() != 2)
            return make_error("input_ids must be [B, L]", "generate");
        if (opt.n < 1 || opt.max_new_tokens < 0) return make_error("n must be >= 1 and max_new_tokens >= 0", "generate");
        if (!opt.stop_strings.empty() && !decode) return make_error("stop strings need a decode callback", "generate");
        const auto dev = model->device();
        auto ids_cpu = request.input_ids.to(torch::kCPU, torch::kInt64).contiguous();
        const int64_t B = ids_cpu.size(0), L = ids_cpu.size(1);
        auto mask_cpu = request.attention_mask.defined() ? request.attention_mask.to(torch::kCPU, torch::kInt64).contiguous()
                                                         : torch::ones({B, L}, torch::kInt64);
        // Re-align every row to left padding so that new tokens follow the prompt directly.
        const int64_t pad_id = model->cfg.pad_token_id >= 0 ? model->cfg.pad_token_id : 0;
        auto ids_left = torch::full({B, L}, pad_id, torch::kInt64);
        auto mask_left = torch::zeros({B, L}, torch::kInt64);
        std::vector<std::vector<int64_t>> prompt_tokens(B);
        bool any_pad = false;
        {
            auto ia = ids_cpu.accessor<int64_t, 2>();
            auto ma = mask_cpu.accessor<int64_t, 2>();
            auto ol = ids_left.accessor<int64_t, 2>();
            auto om = mask_left.accessor<int64_t, 2>();
            for (int64_t b = 0; b < B; ++b) {
                for (int64_t l = 0; l < L; ++l)
                    if (ma[b][l] != 0) prompt_tokens[b].push_back(ia[b][l]);
                const int64_t n = static_cast<int64_t>(prompt_tokens[b].size());
                if (n == 0) return make_error("prompt row " + std::to_string(b) + " is empty", "generate");
                any_pad = any_pad || n < L;
                for (int64_t i = 0; i < n; ++i) {
                    ol[b][L - n + i] = prompt_tokens[b][i];
                    om[b][L - n + i] = 1;
                }
            }
        }
        std::unordered_set<int64_t> eos(opt.eos_token_ids.begin(), opt.eos_token_ids.end());
        if (eos.empty()) eos.insert(model->cfg.eos_token_ids.begin(), model->cfg.eos_token_ids.end());
        size_t max_stop_len = 0;
        for (auto& s : opt.stop_strings) max_stop_len = std::max(max_stop_len, s.size());

        res.prompt_tokens = L;
        const int64_t R = B * opt.n;
        res.tokens.assign(R, {});
        res.finish_reasons.assign(R, "length");
        if (opt.max_new_tokens == 0) return res;

        auto t0 = std::chrono::steady_clock::now();
        KVCache cache = KVCache::allocate(model->cfg.text, B, L + opt.max_new_tokens,
                                          torch::TensorOptions().dtype(model->dtype()).device(dev));
        ForwardInput in;
        in.input_ids = ids_left.to(dev);
        in.attention_mask = any_pad ? mask_left.to(dev) : torch::Tensor();
        in.pixel_values = request.pixel_values;
        in.image_grid_thw = request.image_grid_thw;
        in.cache = &cache;
        in.logits_to_keep = 1;
        auto out = model->forward(in);
        // A broken config (rope_theta 0, a negative rms_norm_eps) or damaged weights give NaN logits and, from them,
        // token 0 over and over; fail loudly instead.
        if (!torch::isfinite(out.logits).all().item<bool>())
            return make_error("the model produced non-finite logits (NaN or infinity) for the prompt: check the model's "
                              "config.json (rope_theta, rms_norm_eps) and weights");
        // Greedy without a repetition penalty picks tokens on the model's device: per step only the R chosen ids
        // come back to the host (one small copy, the step's only sync) and go straight into the next forward,
        // instead of the [R, vocab] float32 logits going to the host and the ids coming back.
        if (!opt.per_candidate.empty() && static_cast<int64_t>(opt.per_candidate.size()) != opt.n)
            return make_error("per_candidate sampling needs one entry per candidate (n = " + std::to_string(opt.n) + ")");
        bool any_sampling = opt.do_sample || opt.repetition_penalty != 1.0;
        if (!opt.per_candidate.empty()) {
            any_sampling = false;
            for (const auto& c : opt.per_candidate) any_sampling |= c.do_sample || c.repetition_penalty != 1.0;
        }
        const bool device_greedy = !any_sampling;
        torch::Tensor logits;  // [R, V] float32 on the host (sampling / penalty path)
        torch::Tensor next_dev;  // [R] int64 on the device (device_greedy)
        if (device_greedy) next_dev = out.logits.select(1, 0).to(torch::kFloat32).argmax(-1);
        else logits = out.logits.select(1, 0).to(torch::kCPU, torch::kFloat32);  // [B, V]
        if (opt.n > 1) {
            cache.repeat_rows(opt.n);
            if (device_greedy) next_dev = next_dev.repeat_interleave(opt.n, 0);
            else logits = logits.repeat_interleave(opt.n, 0);
        }
        // CUDA runs asynchronously: the finiteness check above waited for the logits only, while the first token's
        // argmax and the cache's row copies may still be queued. Wait for the device before reading the clock, so
        // prefill_seconds is the device's real time to the first token (the first token included).
        if (dev.is_cuda()) torch::cuda::synchronize();
        res.prefill_seconds = seconds_since(t0);
        std::unique_ptr<CudaGraphDecoder> graph;
        const bool capture = opt.cuda_graph && dev.is_cuda() && cuda_graph_decoding_available();
        if (device_greedy && (capture || opt.static_decode)) {
            auto g = CudaGraphDecoder::create(model, cache, capture);
            if (!g.ok()) return g.error().within("generate");
            graph = std::move(*g);
            res.cuda_graph = capture;
        }
        torch::Tensor done_dev;  // [R] bool on the device once some row is done (device_greedy)

        auto gen = at::detail::createCPUGenerator(opt.seed);
        std::vector<bool> done(R, false);
        int64_t n_done = 0;
        auto t1 = std::chrono::steady_clock::now();
        for (int64_t step = 0; step < opt.max_new_tokens; ++step) {
            if (cancel && cancel->load()) {
                for (int64_t r = 0; r < R; ++r)
                    if (!done[r]) res.finish_reasons[r] = "cancelled";
                break;
            }
            std::vector<int64_t> next(R, pad_id);
            torch::Tensor next_host;
            if (device_greedy) next_host = next_dev.to(torch::kCPU).contiguous();
            const int64_t n_done_before = n_done;
            for (int64_t r = 0; r < R; ++r) {
                if (done[r]) continue;
                int64_t tok;
                if (device_greedy) {
                    tok = next_host.data_ptr<int64_t>()[r];
                } else {
                    auto row = logits[r];
                    const bool per = !opt.per_candidate.empty();
                    const double penalty = per ? opt.per_candidate[r % opt.n].repetition_penalty : opt.repetition_penalty;
                    const bool sample = per ? opt.per_candidate[r % opt.n].do_sample : opt.do_sample;
                    const double temperature = per ? opt.per_candidate[r % opt.n].temperature : opt.temperature;
                    if (penalty != 1.0) {
                        std::vector<int64_t> seen = prompt_tokens[r / opt.n];
                        seen.insert(seen.end(), res.tokens[r].begin(), res.tokens[r].end());
                        row = apply_repetition_penalty(row, seen, penalty);
                    }
                    if (!sample) {
                        tok = row.argmax().item<int64_t>();
                    } else {
                        if (temperature > 0 && temperature != 1.0) row = row / temperature;
                        row = apply_top_k_top_p(row, opt.top_k, opt.top_p);
                        auto probs = row.softmax(0);
                        tok = torch::multinomial(probs, 1, false, gen).item<int64_t>();
                    }
                }
                next[r] = tok;
                res.tokens[r].push_back(tok);
                if (on_token) on_token(r, tok);
                if (!opt.ignore_eos && eos.count(tok)) {
                    done[r] = true;
                    res.finish_reasons[r] = "eos";
                } else if (max_stop_len > 0) {
                    const auto& seq = res.tokens[r];
                    const size_t tail = std::min<size_t>(seq.size(), max_stop_len + 8);
                    std::string text = decode(std::vector<int64_t>(seq.end() - tail, seq.end()));
                    for (auto& s : opt.stop_strings)
                        if (text.find(s) != std::string::npos) {
                            done[r] = true;
                            res.finish_reasons[r] = "stop";
                            break;
                        }
                }
                if (done[r]) ++n_done;
            }
            if (n_done == R || step + 1 == opt.max_new_tokens) break;
            ++res.decode_steps;
            if (device_greedy) {
                // Finished rows are fed the pad id, as on the host path (their outputs are not used).
                if (n_done != n_done_before) {
                    std::vector<uint8_t> d(done.begin(), done.end());
                    done_dev = torch::tensor(d, torch::kUInt8).to(dev).to(torch::kBool);
                }
                auto ids = done_dev.defined() ? next_dev.masked_fill(done_dev, pad_id) : next_dev;
                if (graph) {
                    next_dev = graph->step(ids);
                    continue;
                }
                ForwardInput step_in;
                step_in.input_ids = ids.view({R, 1});
                step_in.cache = &cache;
                step_in.logits_to_keep = 1;
                next_dev = model->forward(step_in).logits.select(1, 0).to(torch::kFloat32).argmax(-1);
                continue;
            }
            ForwardInput step_in;
            step_in.input_ids = torch::tensor(next, torch::kInt64).view({R, 1}).to(dev);
            step_in.cache = &cache;
            step_in.logits_to_keep = 1;
            auto so = model->forward(step_in);
            logits = so.logits.select(1, 0).to(torch::kCPU, torch::kFloat32);
        }
        res.decode_seconds = seconds_since(t1);
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), "generate");
    }
    return res;
}

}  // namespace matrix::model
