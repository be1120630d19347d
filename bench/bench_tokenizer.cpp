// Tokenizer throughput on real MATRIX text: the agent system prompt of M-TRACE (~13 KB) and all 60
// trajectories of the shared subset (~1 MB), encode with a cold BPE cache (fresh tokenizer each run) and
// warm (repeated text, the common case when every step re-sends the same system prompt), and decode.
// usage: bench_tokenizer [tokenizer dir or file]   (default: the tiny Qwen2-VL fixture tokenizer)
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "core/tokenizer/chat_template.h"
#include "core/tokenizer/tokenizer.h"

using namespace matrix::tok;
using Clock = std::chrono::steady_clock;

namespace {
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

template <class F>
double best_of(int runs, F&& f) {
    double best = 1e9;
    for (int i = 0; i < runs; ++i) best = std::min(best, f());
    return best;
}
}  // namespace

int main(int argc, char** argv) {
    std::string tok_path = argc > 1 ? argv[1] : std::string(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny/tiny-qwen2vl";
    std::ifstream in(std::string(MATRIX_SHARED_DIR) + "/data/mtrace/mtrace-subset-60.json");
    if (!in) {
        std::fprintf(stderr, "bench_tokenizer: cannot read the M-TRACE subset\n");
        return 1;
    }
    auto data = nlohmann::json::parse(in);
    std::string system = data[0]["conversations"][0]["value"];
    std::string all;
    for (const auto& rec : data)
        for (const auto& turn : rec["conversations"]) all += turn["value"].get<std::string>() + "\n";

    auto load = [&] {
        auto t = Tokenizer::load(tok_path);
        if (!t) {
            std::fprintf(stderr, "bench_tokenizer: %s\n", t.error().to_string().c_str());
            std::exit(1);
        }
        return *t;
    };
    auto t0 = Clock::now();
    Tokenizer tok = load();
    std::printf("tokenizer: %s (vocab %d), load %.1f ms\n", tok_path.c_str(), tok.vocab_size(), seconds_since(t0) * 1e3);

    for (auto [name, text] : {std::pair<const char*, const std::string*>{"system prompt", &system}, {"60 trajectories", &all}}) {
        const double mb = double(text->size()) / 1e6;
        size_t n_tokens = 0;
        double cold = best_of(5, [&] {
            Tokenizer fresh = load();
            auto s = Clock::now();
            n_tokens = fresh.encode(*text).size();
            return seconds_since(s);
        });
        tok.encode(*text);
        double warm = best_of(5, [&] {
            auto s = Clock::now();
            tok.encode(*text);
            return seconds_since(s);
        });
        auto ids = tok.encode(*text);
        double dec = best_of(5, [&] {
            auto s = Clock::now();
            volatile size_t n = tok.decode(ids).size();
            (void)n;
            return seconds_since(s);
        });
        std::printf("%-16s %8zu bytes %7zu tokens | encode cold %7.2f MB/s, warm %7.2f MB/s (%.2f Mtok/s) | decode %7.2f MB/s\n",
                    name, text->size(), n_tokens, mb / cold, mb / warm, double(n_tokens) / warm / 1e6, mb / dec);
    }
    return 0;
}
