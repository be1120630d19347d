// Names of benchmark kinds and answer forms, and item lookup.
#include "core/bench/benchmark.h"

namespace matrix::bench {

const char* to_string(BenchKind kind) {
    switch (kind) {
        case BenchKind::gta: return "gta";
        case BenchKind::gaia: return "gaia";
        case BenchKind::agentx: return "agentx";
    }
    return "gta";
}

std::optional<BenchKind> bench_kind_from_string(const std::string& s) {
    if (s == "gta") return BenchKind::gta;
    if (s == "gaia") return BenchKind::gaia;
    if (s == "agentx" || s == "agent-x") return BenchKind::agentx;
    return std::nullopt;
}

const char* to_string(AnswerForm form) {
    switch (form) {
        case AnswerForm::objective: return "objective";
        case AnswerForm::subjective: return "subjective";
        case AnswerForm::image_generation: return "image_generation";
    }
    return "objective";
}

const BenchItem* Benchmark::find(const std::string& id) const {
    for (const auto& item : items) {
        if (item.id == id) return &item;
    }
    return nullptr;
}

}  // namespace matrix::bench
