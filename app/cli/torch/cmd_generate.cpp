// `matrix generate`: chat with a Qwen2-VL checkpoint from the command line. Renders the prompt with the
// Qwen2-VL chat template (core/tokenizer), preprocesses --image files (core/image), generates with
// core/model/generation (greedy by default; sampling flags as transformers' generate) and streams the text.
// Stops on EOS and on the agent's stop strings (`<end_action>`, `Observation:`; --stop replaces them).
#include <sys/stat.h>

#include <atomic>
#include <csignal>
#include <iostream>

#include "core/conversation/action.h"
#include "core/model/generation.h"
#include "core/model/lora.h"
#include "core/model/qwen2vl.h"
#include "core/training/adapter_io.h"
#include "app/cli/args.h"
#include "app/cli/command.h"
#include "core/tokenizer/chat_template.h"
#include "core/tokenizer/tokenizer.h"
#ifdef MATRIX_HAVE_OPENCV
#include "core/image/multimodal_inputs.h"
#endif

namespace {
using namespace matrix;
using namespace matrix::model;

const char* k_usage =
    "usage: matrix generate --model DIR [--adapter DIR] [--image F]... --prompt S [--system S]\n"
    "                       [--max-new-tokens N] [--temperature T] [--top-p P] [--top-k K]\n"
    "                       [--repetition-penalty R] [--seed N] [--n N] [--stop S]... [--raw]\n"
    "                       [--min-pixels N] [--max-pixels N] [--dtype f32|bf16|f16] [--device cpu|cuda[:N]]\n"
    "  Greedy unless --temperature > 0, --top-p or --top-k is given. --raw: the prompt is already rendered.\n"
    "  With --n > 1 every candidate is printed after generation, each under a '--- candidate k ---' line.\n";

std::atomic<bool> g_cancel{false};
void on_sigint(int) { g_cancel.store(true); }

bool file_exists(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0;
}

int run_generate(int argc, char** argv) {
    cli::Args args(k_usage,
                   {"model", "adapter", "image", "prompt", "system", "max-new-tokens", "temperature", "top-p", "top-k",
                    "repetition-penalty", "seed", "n", "stop", "min-pixels", "max-pixels", "dtype", "device"},
                   {"raw"});
    if (!args.parse(argc, argv)) return args.help_requested() ? 0 : 2;
    if (!args.require({"model", "prompt"}, "generate")) return 2;
    const std::string model_dir = *args.get("model");
    try {
        SamplingOptions opt;
        opt.max_new_tokens = std::stoll(args.get_or("max-new-tokens", "256"));
        opt.temperature = std::stod(args.get_or("temperature", "1.0"));
        opt.top_p = std::stod(args.get_or("top-p", "1.0"));
        opt.top_k = std::stoll(args.get_or("top-k", "0"));
        opt.repetition_penalty = std::stod(args.get_or("repetition-penalty", "1.0"));
        opt.seed = std::stoull(args.get_or("seed", "0"));
        opt.n = std::stoll(args.get_or("n", "1"));
        opt.do_sample = (args.has("temperature") && opt.temperature > 0) || args.has("top-p") || args.has("top-k");
        opt.stop_strings = args.has("stop") ? args.get_all("stop") : conversation::agent_stop_strings();

        auto tokenizer = tok::Tokenizer::load(model_dir);
        if (!tokenizer.ok()) return cli::fail(tokenizer.error().to_string());

        GenerationRequest req;
        std::vector<int32_t> ids;
        const auto images = args.get_all("image");
        if (args.has("raw")) {
            if (!images.empty()) return cli::fail("generate: --raw does not take --image");
            ids = tokenizer->encode(*args.get("prompt"));
        } else {
            std::vector<tok::ChatMessage> messages;
            if (args.has("system")) messages.push_back(tok::ChatMessage::make("system", *args.get("system")));
            tok::ChatMessage user{"user", {}};
            for (auto& f : images) user.content.push_back(tok::ContentPart::make_image_file(f));
            user.content.push_back(tok::ContentPart::make_text(*args.get("prompt")));
            messages.push_back(user);
#ifdef MATRIX_HAVE_OPENCV
            vision::PreprocessConfig pc;
            if (file_exists(model_dir + "/preprocessor_config.json")) {
                auto loaded = vision::load_preprocess_config(model_dir);
                if (!loaded.ok()) return cli::fail(loaded.error().to_string());
                pc = *loaded;
            }
            if (args.has("min-pixels")) pc.min_pixels = std::stoll(*args.get("min-pixels"));
            if (args.has("max-pixels")) pc.max_pixels = std::stoll(*args.get("max-pixels"));
            auto mm = vision::prepare_inputs(*tokenizer, messages, pc);
            if (!mm.ok()) return cli::fail(mm.error().to_string());
            ids = mm->input_ids;
            if (!mm->images.grid_thw.empty()) {
                req.pixel_values = torch::from_blob(mm->images.pixel_values.data(),
                                                    {mm->images.n_patches, mm->images.patch_dim}, torch::kFloat32)
                                       .clone();
                std::vector<int64_t> g;
                for (auto& row : mm->images.grid_thw) g.insert(g.end(), row.begin(), row.end());
                req.image_grid_thw = torch::tensor(g, torch::kInt64).view({-1, 3});
            }
#else
            if (!images.empty()) return cli::fail("generate: this build has no image support (engine-only, no OpenCV)");
            auto enc = tok::encode_chat(*tokenizer, messages);
            if (!enc.ok()) return cli::fail(enc.error().to_string());
            ids = enc->ids;
#endif
        }
        std::vector<int64_t> ids64(ids.begin(), ids.end());
        req.input_ids = torch::tensor(ids64, torch::kInt64).view({1, -1});

        LoadOptions lo;
        const std::string dt = args.get_or("dtype", "f32");
        lo.dtype = dt == "bf16" ? torch::kBFloat16 : dt == "f16" ? torch::kFloat16 : torch::kFloat32;
        lo.device = torch::Device(args.get_or("device", "cpu"));
        auto model = load_qwen2vl(model_dir, lo);
        if (!model.ok()) return cli::fail(model.error().to_string());
        if (auto a = args.get("adapter")) {
            auto st = train::load_peft_adapter(**model, *a);
            if (!st.ok()) return cli::fail(st.error().to_string());
        }

        std::signal(SIGINT, on_sigint);
        DecodeFn decode = [&](const std::vector<int64_t>& t) {
            return tokenizer->decode(std::vector<int32_t>(t.begin(), t.end()));
        };
        tok::StreamDecoder stream(*tokenizer, true);
        TokenCallback on_token;
        if (opt.n == 1)
            on_token = [&](int64_t, int64_t t) { std::cout << stream.push(static_cast<int32_t>(t)) << std::flush; };
        auto r = generate(*model, req, opt, decode, on_token, &g_cancel);
        if (!r.ok()) return cli::fail(r.error().to_string());
        if (opt.n == 1) {
            std::cout << stream.flush() << "\n";
        } else {
            for (size_t s = 0; s < r->tokens.size(); ++s) {
                std::cout << "--- candidate " << s << " (" << r->finish_reasons[s] << ") ---\n"
                          << tokenizer->decode(std::vector<int32_t>(r->tokens[s].begin(), r->tokens[s].end()), true)
                          << "\n";
            }
        }
        const double decode_rate = r->decode_seconds > 0 ? r->decode_steps * opt.n / r->decode_seconds : 0.0;
        std::cerr << "[" << r->prompt_tokens << " prompt tokens, prefill " << r->prefill_seconds << " s, "
                  << decode_rate << " tokens/s, finish: " << r->finish_reasons[0] << "]\n";
        return g_cancel.load() ? 130 : 0;
    } catch (const std::exception& e) {
        return cli::fail(std::string("generate: ") + e.what());
    }
}
}  // namespace

MATRIX_CLI_COMMAND("generate", "generate text with a Qwen2-VL checkpoint (streams to stdout)", run_generate);
