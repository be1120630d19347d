// Throughput of the trajectory parser and char-BLEU on the real M-TRACE subset, so the importer's budget
// (>= 5,000 trajectories/s on the 2-core VM) can be checked against the parsing share of it.
// Usage: bench_trajectory_parser [repeats=200]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/conversation/action.h"
#include "core/conversation/observation.h"
#include "core/formats/char_bleu.h"

using namespace matrix::formats;
using namespace matrix::conversation;

int main(int argc, char** argv) {
    const int repeats = argc > 1 ? std::atoi(argv[1]) : 200;
    std::ifstream f(MATRIX_SHARED_DIR "/data/mtrace/mtrace-subset-60.json");
    const nlohmann::json d = nlohmann::json::parse(f);
    std::vector<std::string> actions, observations;
    size_t action_bytes = 0;
    for (const auto& rec : d) {
        bool first_user = true;
        for (const auto& t : rec["conversations"]) {
            if (t["from"] == "assistant") {
                actions.push_back(t["value"].get<std::string>());
                action_bytes += actions.back().size();
            } else if (t["from"] == "user") {
                if (!first_user) observations.push_back(t["value"].get<std::string>());
                first_user = false;
            }
        }
    }
    using clock = std::chrono::steady_clock;
    size_t calls = 0;
    auto t0 = clock::now();
    for (int r = 0; r < repeats; ++r)
        for (const std::string& a : actions) calls += parse_action(a).tool_calls.size();
    const double action_s = std::chrono::duration<double>(clock::now() - t0).count();
    t0 = clock::now();
    size_t steps = 0;
    for (int r = 0; r < repeats; ++r)
        for (const std::string& o : observations) steps += size_t(parse_observation(o).step + 1);
    const double obs_s = std::chrono::duration<double>(clock::now() - t0).count();
    t0 = clock::now();
    double sum = 0;
    size_t pairs = 0;
    for (int r = 0; r < std::max(1, repeats / 20); ++r)
        for (size_t i = 0; i + 1 < actions.size(); ++i, ++pairs) sum += char_bleu(actions[i], actions[i + 1]);
    const double bleu_s = std::chrono::duration<double>(clock::now() - t0).count();
    const double n_actions = double(actions.size()) * repeats;
    std::printf("parse_action: %zu turns x %d in %.3f s = %.0f turns/s, %.1f MB/s (%zu calls)\n", actions.size(),
                repeats, action_s, n_actions / action_s, double(action_bytes) * repeats / action_s / 1e6, calls);
    std::printf("  = %.0f M-TRACE trajectories/s (60 trajectories per pass)\n", 60.0 * repeats / action_s);
    std::printf("parse_observation: %.0f turns/s (%zu)\n", double(observations.size()) * repeats / obs_s, steps);
    std::printf("char_bleu: %.0f pairs/s over real actions (mean %.4f)\n", double(pairs) / bleu_s, sum / double(pairs));
    return 0;
}
