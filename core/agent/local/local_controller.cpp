// The local Qwen2-VL controller (see local_controller.h).
#include "core/agent/local/local_controller.h"

#include <sys/stat.h>

#include <mutex>

#include "core/model/generation.h"
#include "core/model/qwen2vl.h"
#include "core/tokenizer/tokenizer.h"
#include "core/training/adapter_io.h"
#ifdef MATRIX_HAVE_OPENCV
#include "core/image/multimodal_inputs.h"
#endif

namespace matrix::agent {

struct LocalController::Impl {
    LocalControllerOptions options;
    std::unique_ptr<tok::Tokenizer> tokenizer;
    model::Qwen2VL model{nullptr};
#ifdef MATRIX_HAVE_OPENCV
    vision::PreprocessConfig preprocess;
#endif
    uint64_t calls = 0;
    std::mutex mutex;  // one generation at a time: the agent's and the tools'
};

LocalController::LocalController(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
LocalController::~LocalController() = default;

Result<std::unique_ptr<LocalController>> LocalController::load(const LocalControllerOptions& options) {
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    try {
        MATRIX_TRY(auto tokenizer, tok::Tokenizer::load(options.model_dir));
        impl->tokenizer = std::make_unique<tok::Tokenizer>(std::move(tokenizer));
#ifdef MATRIX_HAVE_OPENCV
        struct stat st{};
        if (::stat((options.model_dir + "/preprocessor_config.json").c_str(), &st) == 0) {
            MATRIX_TRY(auto pc, vision::load_preprocess_config(options.model_dir));
            impl->preprocess = pc;
        }
        if (options.min_pixels > 0) impl->preprocess.min_pixels = options.min_pixels;
        if (options.max_pixels > 0) impl->preprocess.max_pixels = options.max_pixels;
#endif
        model::LoadOptions lo;
        lo.dtype = options.dtype == "bf16" ? torch::kBFloat16 : options.dtype == "f16" ? torch::kFloat16 : torch::kFloat32;
        lo.device = torch::Device(options.device);
        MATRIX_TRY(auto loaded, model::load_qwen2vl(options.model_dir, lo));
        impl->model = loaded;
        if (!options.adapter_dir.empty()) MATRIX_CHECK(train::load_peft_adapter(*impl->model, options.adapter_dir));
    } catch (const std::exception& e) {
        return make_error(e.what(), "loading the local controller " + options.model_dir);
    }
    return std::unique_ptr<LocalController>(new LocalController(std::move(impl)));
}

std::string LocalController::describe() const {
    std::string d = "local Qwen2-VL " + m->options.model_dir;
    if (!m->options.adapter_dir.empty()) d += " + adapter " + m->options.adapter_dir;
    return d + " (" + m->options.dtype + ", " + m->options.device + ")";
}

Result<std::vector<Candidate>> LocalController::generate(const std::vector<tok::ChatMessage>& messages,
                                                         const GenerationSettings& settings,
                                                         const std::atomic<bool>* cancel) {
    std::lock_guard<std::mutex> lock(m->mutex);
    return generate_locked(messages, settings, cancel);
}

VlmEngine LocalController::tool_engine() {
    VlmEngine e;
    e.backend = describe();
    e.box_format = "qwen2vl";
    e.generate = [this](const std::vector<tok::ChatMessage>& messages, int max_new_tokens) -> Result<std::string> {
        GenerationSettings g;
        g.max_new_tokens = max_new_tokens;
        g.stop.clear();
        g.groups = {SamplingGroup{1, false, 1.0, 1.0, 0, 1.0}};
        std::lock_guard<std::mutex> lock(m->mutex);
        const uint64_t calls = m->calls;  // a tool's call does not move the agent's seeds
        auto out = generate_locked(messages, g, nullptr);
        m->calls = calls;
        if (!out.ok()) return out.error();
        if (out->empty()) return make_error("the local engine gave no answer");
        return out->front().text;
    };
    return e;
}

Result<std::vector<Candidate>> LocalController::generate_locked(const std::vector<tok::ChatMessage>& messages,
                                                                const GenerationSettings& settings,
                                                                const std::atomic<bool>* cancel) {
    try {
        model::GenerationRequest req;
        std::vector<int32_t> ids;
#ifdef MATRIX_HAVE_OPENCV
        MATRIX_TRY(auto mm, vision::prepare_inputs(*m->tokenizer, messages, m->preprocess));
        ids = mm.input_ids;
        if (!mm.images.grid_thw.empty()) {
            req.pixel_values = torch::from_blob(mm.images.pixel_values.data(),
                                                {mm.images.n_patches, mm.images.patch_dim}, torch::kFloat32)
                                   .clone();
            std::vector<int64_t> g;
            for (auto& row : mm.images.grid_thw) g.insert(g.end(), row.begin(), row.end());
            req.image_grid_thw = torch::tensor(g, torch::kInt64).view({-1, 3});
        }
#else
        for (const auto& msg : messages)
            for (const auto& part : msg.content)
                if (part.kind != tok::ContentPart::Kind::Text)
                    return make_error("this build has no image support (engine-only, no OpenCV)");
        MATRIX_TRY(auto enc, tok::encode_chat(*m->tokenizer, messages));
        ids = enc.ids;
#endif
        std::vector<int64_t> ids64(ids.begin(), ids.end());
        req.input_ids = torch::tensor(ids64, torch::kInt64).view({1, -1});
        model::DecodeFn decode = [&](const std::vector<int64_t>& t) {
            return m->tokenizer->decode(std::vector<int32_t>(t.begin(), t.end()));
        };
        std::vector<Candidate> out;
        auto collect = [&](const model::GenerationResult& r) {
            for (size_t s = 0; s < r.tokens.size(); ++s) {
                const std::string text =
                    m->tokenizer->decode(std::vector<int32_t>(r.tokens[s].begin(), r.tokens[s].end()), true);
                out.push_back({cut_at_stop(text, settings.stop), r.finish_reasons[s],
                               static_cast<int64_t>(r.tokens[s].size())});
            }
        };
        // Groups that differ only in temperature, repetition penalty or greedy choice are one batch sharing the
        // prompt's cache (one prefill for all K candidates).
        bool shared_filters = true;
        for (const SamplingGroup& g : settings.groups)
            shared_filters &= g.top_k == settings.groups.front().top_k && g.top_p == settings.groups.front().top_p;
        if (settings.groups.size() > 1 && shared_filters) {
            model::SamplingOptions opt;
            opt.max_new_tokens = settings.max_new_tokens;
            opt.do_sample = true;
            opt.top_p = settings.groups.front().top_p;
            opt.top_k = settings.groups.front().top_k;
            opt.seed = settings.exact_seed ? settings.seed : settings.seed + m->calls++;
            opt.stop_strings = settings.stop;
            opt.n = 0;
            for (const SamplingGroup& g : settings.groups) {
                opt.n += g.n;
                for (int i = 0; i < g.n; ++i)
                    opt.per_candidate.push_back({g.do_sample, g.temperature, g.repetition_penalty});
            }
            MATRIX_TRY(auto r, model::generate(m->model, req, opt, decode, {}, cancel));
            collect(r);
            return out;
        }
        for (size_t gi = 0; gi < settings.groups.size(); ++gi) {
            const SamplingGroup& g = settings.groups[gi];
            model::SamplingOptions opt;
            opt.max_new_tokens = settings.max_new_tokens;
            opt.do_sample = g.do_sample;
            opt.temperature = g.temperature;
            opt.top_p = g.top_p;
            opt.top_k = g.top_k;
            opt.repetition_penalty = g.repetition_penalty;
            opt.seed = settings.exact_seed ? settings.seed + gi : settings.seed + m->calls++;
            opt.n = g.n;
            opt.stop_strings = settings.stop;
            MATRIX_TRY(auto r, model::generate(m->model, req, opt, decode, {}, cancel));
            collect(r);
        }
        return out;
    } catch (const std::exception& e) {
        return make_error(e.what(), "local controller");
    }
}

}  // namespace matrix::agent
