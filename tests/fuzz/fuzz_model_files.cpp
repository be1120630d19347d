// libFuzzer target for the JSON files of a model or adapter folder a user points the engine at: config.json
// (both layouts) and PEFT's adapter_config.json. The first byte picks the parser, the rest is the text.
// Invariants: no crash, no exception out of a parser, errors in one line without the JSON library's text, and
// what parses is usable: every size positive, head counts dividing widths, eps and theta positive and finite;
// an adapter's rank in 1..65536, alpha positive and finite, dropout in [0, 1).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/model/config.h"
#include "core/training/adapter_config.h"

// Says which invariant broke, and on what, before the abort libFuzzer reports.
[[noreturn]] inline void fuzz_fail(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "fuzz invariant broken: %s%s%s\n", what, detail.empty() ? "" : ": ", detail.c_str());
    std::abort();
}

namespace {

// Errors may quote the input, so an input holding the library's prefix itself is exempt.
void check_error(const matrix::Error& e, const std::string& input) {
    const std::string line = e.to_string();
    if (line.find("[json.exception.") != std::string::npos && input.find("[json.exception.") == std::string::npos)
        fuzz_fail("library text in the error", line);
    if (line.find('\n') != std::string::npos) fuzz_fail("error spans lines", line);
}

void check_config(const matrix::model::Qwen2VLConfig& c) {
    const auto& t = c.text;
    const auto& v = c.vision;
    if (t.vocab_size <= 0 || t.hidden_size <= 0 || t.intermediate_size <= 0 || t.num_hidden_layers <= 0) fuzz_fail("unusable value accepted");
    if (t.num_attention_heads <= 0 || t.num_key_value_heads <= 0 || t.attn_head_dim() <= 0) fuzz_fail("unusable value accepted");
    if (t.num_attention_heads % t.num_key_value_heads != 0) fuzz_fail("unusable value accepted");
    if (!(t.rms_norm_eps > 0) || !std::isfinite(t.rms_norm_eps)) fuzz_fail("unusable value accepted");
    if (!(t.rope_theta > 0) || !std::isfinite(t.rope_theta)) fuzz_fail("unusable value accepted");
    if (v.embed_dim <= 0 || v.num_heads <= 0 || v.embed_dim % v.num_heads != 0 || v.patch_size <= 0) fuzz_fail("unusable value accepted");
    if (!(v.mlp_ratio > 0) || !std::isfinite(v.mlp_ratio)) fuzz_fail("unusable value accepted");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    try {
        if (data[0] % 2 == 0) {
            auto cfg = matrix::model::parse_config(text, "config.json");
            if (!cfg.ok()) check_error(cfg.error(), text);
            else check_config(*cfg);
        } else {
            auto a = matrix::train::parse_peft_adapter_config(text, "adapter_config.json");
            if (!a.ok()) {
                check_error(a.error(), text);
            } else {
                if (a->r < 1 || a->r > matrix::train::k_max_lora_rank) fuzz_fail("unusable value accepted");
                if (!(a->lora_alpha > 0) || !std::isfinite(a->lora_alpha)) fuzz_fail("unusable value accepted");
                if (!(a->lora_dropout >= 0 && a->lora_dropout < 1)) fuzz_fail("unusable value accepted");
            }
        }
    } catch (const std::exception& e) {
        fuzz_fail("exception out of a parser", e.what());
    } catch (...) {
        fuzz_fail("exception out of a parser");
    }
    return 0;
}
