// bench_serve: `matrix serve` under load. Serves a model in-process (the batch engine and the HTTP server on a free
// port, exactly what `matrix serve` runs) and drives it with C concurrent streaming clients (C = 1, 8, 32 by
// default), each sending requests back to back over HTTP: throughput in completion tokens/s, time to first token
// (request sent -> first token's chunk received) and request latency. For comparison, the same requests one at a
// time through core/model/generate() without HTTP (what `matrix generate` does per request).
//   bench_serve [--clients 1,8,32] [--requests N] [--max-tokens 64] [--prompt-words 40] [--max-batch 32]
//               [--device cpu|cuda] [--dtype f32|bf16] [--7b]
// --7b: a Qwen2-VL-7B-shaped model with random weights (the tiny fixture's tokenizer for the prompts).
// --requests N: requests per level (default max(32, 2 C)), spread evenly over the clients.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/model/generation.h"
#include "core/serve/engine/batch_engine.h"
#include "core/serve/engine/chat_server.h"
#include "core/serve/engine/model_set.h"
#include "core/tokenizer/chat_template.h"

using namespace matrix;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string prompt_text(int i, int words) {
    static const char* vocab[] = {"the", "image", "shows", "a", "red", "car", "next", "to", "two", "people", "on",
                                  "street", "count", "objects", "answer", "briefly", "what", "is", "left", "right"};
    std::ostringstream s;
    s << "Request " << i << ":";
    for (int w = 0; w < words; ++w) s << ' ' << vocab[(i * 7 + w * 3) % 20];
    return s.str();
}

struct RequestStat {
    double ttft = -1, latency = 0;
    int64_t tokens = 0;
    bool ok = false;
};

RequestStat stream_one(int port, const std::string& prompt, int64_t max_tokens) {
    RequestStat st;
    httplib::Client cli("127.0.0.1", port);
    cli.set_read_timeout(600, 0);
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/chat/completions";
    req.set_header("Content-Type", "application/json");
    req.body = json{{"messages", {{{"role", "user"}, {"content", prompt}}}},
                    {"temperature", 0},
                    {"max_tokens", max_tokens},
                    {"stream", true},
                    {"return_token_ids", true},
                    {"stream_options", {{"include_usage", true}}}}
                   .dump();
    std::string buf;
    const auto t0 = Clock::now();
    req.content_receiver = [&](const char* d, size_t n, uint64_t, uint64_t) {
        buf.append(d, n);
        size_t e;
        while ((e = buf.find("\n\n")) != std::string::npos) {
            std::string ev = buf.substr(0, e);
            buf.erase(0, e + 2);
            if (ev.rfind("data: ", 0) != 0) continue;
            if (ev == "data: [DONE]") {
                st.ok = true;
                continue;
            }
            json j = json::parse(ev.substr(6), nullptr, false);
            if (j.is_discarded()) continue;
            if (j.contains("usage")) st.tokens = j["usage"]["completion_tokens"].get<int64_t>();
            if (st.ttft < 0)
                for (auto& c : j["choices"])
                    if (c.contains("token_ids")) st.ttft = since(t0);
        }
        return true;
    };
    httplib::Response res;
    httplib::Error err;
    cli.send(req, res, err);
    st.latency = since(t0);
    st.ok = st.ok && res.status == 200;
    return st;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

std::vector<int> parse_list(const std::string& s) {
    std::vector<int> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) out.push_back(std::stoi(item));
    return out;
}
}  // namespace

int main(int argc, char** argv) {
    std::vector<int> clients{1, 8, 32};
    int requests = 0, words = 40, max_batch = 32;
    int64_t max_tokens = 64;
    std::string device = "cpu", dtype = "f32";
    bool big = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--clients") clients = parse_list(next());
        else if (a == "--requests") requests = std::stoi(next());
        else if (a == "--max-tokens") max_tokens = std::stoll(next());
        else if (a == "--prompt-words") words = std::stoi(next());
        else if (a == "--max-batch") max_batch = std::stoi(next());
        else if (a == "--device") device = next();
        else if (a == "--dtype") dtype = next();
        else if (a == "--7b") big = true;
        else {
            std::fprintf(stderr,
                         "usage: bench_serve [--clients 1,8,32] [--requests N] [--max-tokens 64] [--prompt-words 40] "
                         "[--max-batch 32] [--device cpu|cuda] [--dtype f32|bf16] [--7b]\n");
            return 2;
        }
    }
    const std::string fixture = std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny/tiny-qwen2vl";
    auto tokenizer = tok::Tokenizer::load(fixture);
    if (!tokenizer.ok()) {
        std::fprintf(stderr, "%s\n", tokenizer.error().to_string().c_str());
        return 1;
    }
    model::LoadOptions lo;
    lo.device = torch::Device(device);
    lo.dtype = dtype == "bf16" ? torch::kBFloat16 : dtype == "f16" ? torch::kFloat16 : torch::kFloat32;
    std::vector<model::Qwen2VL> models;
    if (big) {
        auto m = model::random_qwen2vl(model::qwen2vl_7b_config(), lo);
        if (!m.ok()) return std::fprintf(stderr, "%s\n", m.error().to_string().c_str()), 1;
        models.push_back(*m);
    } else {
        auto m = serve::load_model_set(fixture, {}, lo);
        if (!m.ok()) return std::fprintf(stderr, "%s\n", m.error().to_string().c_str()), 1;
        models = *m;
    }
    const model::Qwen2VL solo_model = models[0];
    serve::EngineOptions eo;
    eo.max_batch = max_batch;
    if (big) eo.eos_token_ids = {-1};  // random weights: every request runs to max_tokens
    serve::BatchEngine engine(models, *tokenizer, eo);
    serve::ServerOptions so;
    so.port = 0;
    so.model_ids = {big ? "qwen2vl-7b-shaped" : "tiny-qwen2vl"};
    serve::ChatServer server(engine, so);
    auto port = server.bind();
    if (!port.ok()) return std::fprintf(stderr, "%s\n", port.error().to_string().c_str()), 1;
    std::thread http([&] { server.run(); });

    std::printf("# bench_serve: %s, %s %s, max batch %d, prompt ~%d words, %lld new tokens per request (greedy)\n",
                big ? "Qwen2-VL-7B-shaped (random weights)" : "tiny Qwen2-VL fixture", device.c_str(), dtype.c_str(),
                max_batch, words, static_cast<long long>(max_tokens));
    {
        auto enc = tok::encode_chat(*tokenizer, {tok::ChatMessage::make("user", prompt_text(0, words))});
        std::printf("prompt tokens: %zu (request 0, chat template included)\n", enc.ok() ? enc->ids.size() : size_t(0));
    }
    std::printf("torch threads: %d\n\n", at::get_num_threads());
    stream_one(*port, prompt_text(999, words), 4);  // warm-up

    // Baseline: the same requests one after another through generate() (no HTTP, no batching).
    {
        const int n = std::max(8, requests > 0 ? requests / 4 : 8);
        int64_t tokens = 0;
        double ttft_sum = 0;
        const auto t0 = Clock::now();
        for (int i = 0; i < n; ++i) {
            auto enc = tok::encode_chat(*tokenizer, {tok::ChatMessage::make("user", prompt_text(i, words))});
            std::vector<int64_t> ids(enc->ids.begin(), enc->ids.end());
            model::GenerationRequest rq;
            rq.input_ids = torch::tensor(ids, torch::kInt64).view({1, -1});
            model::SamplingOptions opt;
            opt.max_new_tokens = max_tokens;
            opt.ignore_eos = big;
            model::Qwen2VL m = solo_model;
            auto r = model::generate(m, rq, opt);
            if (!r.ok()) return std::fprintf(stderr, "%s\n", r.error().to_string().c_str()), 1;
            tokens += static_cast<int64_t>(r->tokens[0].size());
            ttft_sum += r->prefill_seconds;
        }
        const double wall = since(t0);
        std::printf("generate() one at a time, no HTTP: %d requests, %lld tokens, %.2f s: %.1f tokens/s, "
                    "prefill (time to first token) %.1f ms mean\n\n",
                    n, static_cast<long long>(tokens), wall, tokens / wall, 1000 * ttft_sum / n);
    }

    std::printf("| clients | requests | tokens | wall s | tokens/s | TTFT mean ms | TTFT p50 ms | TTFT p90 ms | latency mean s | failed |\n");
    std::printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int c : clients) {
        const int total = requests > 0 ? requests : std::max(32, 2 * c);
        const int per_client = std::max(1, total / c);
        std::vector<RequestStat> stats(static_cast<size_t>(per_client * c));
        std::vector<std::thread> threads;
        const auto t0 = Clock::now();
        for (int k = 0; k < c; ++k)
            threads.emplace_back([&, k] {
                for (int j = 0; j < per_client; ++j)
                    stats[static_cast<size_t>(k * per_client + j)] =
                        stream_one(*port, prompt_text(k * per_client + j, words), max_tokens);
            });
        for (auto& t : threads) t.join();
        const double wall = since(t0);
        int64_t tokens = 0;
        int failed = 0;
        std::vector<double> ttft, lat;
        for (auto& s : stats) {
            tokens += s.tokens;
            failed += s.ok ? 0 : 1;
            if (s.ttft >= 0) ttft.push_back(s.ttft * 1000);
            lat.push_back(s.latency);
        }
        const double ttft_mean = ttft.empty() ? 0 : std::accumulate(ttft.begin(), ttft.end(), 0.0) / ttft.size();
        std::printf("| %d | %zu | %lld | %.2f | %.1f | %.1f | %.1f | %.1f | %.3f | %d |\n", c, stats.size(),
                    static_cast<long long>(tokens), wall, tokens / wall, ttft_mean, percentile(ttft, 0.5),
                    percentile(ttft, 0.9), std::accumulate(lat.begin(), lat.end(), 0.0) / lat.size(), failed);
        std::fflush(stdout);
    }
    const auto s = engine.stats();
    std::printf("\nengine: %lld jobs, %lld tokens, %lld decode steps (%.1f rows per step), max rows %lld\n",
                static_cast<long long>(s.jobs_completed), static_cast<long long>(s.tokens_generated),
                static_cast<long long>(s.decode_steps),
                s.decode_steps ? double(s.tokens_generated - s.jobs_completed) / s.decode_steps : 0.0,
                static_cast<long long>(s.max_rows_seen));
    server.stop();
    http.join();
    return 0;
}
