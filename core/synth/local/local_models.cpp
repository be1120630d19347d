// The Qwen2-VL captioner and text embedder of the images stage (see local_models.h).
#include "core/synth/local/local_models.h"

#include <mutex>

#include "core/agent/local/local_controller.h"
#include "core/model/qwen2vl.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/utf8.h"

namespace matrix::synth {

namespace {

torch::ScalarType dtype_of(const std::string& d) {
    return d == "bf16" ? torch::kBFloat16 : d == "f16" ? torch::kFloat16 : torch::kFloat32;
}

// A caption as one line of valid UTF-8 (a decoded token run may end inside a character: U+FFFD, as Python does).
std::string one_line(std::string s) {
    s = utf8::sanitize(s);
    for (char& c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    const size_t a = s.find_first_not_of(' ');
    if (a == std::string::npos) return {};
    const size_t b = s.find_last_not_of(' ');
    return s.substr(a, b - a + 1);
}

class LocalCaptioner : public ImageCaptioner {
public:
    LocalCaptioner(std::unique_ptr<agent::LocalController> controller, LocalModelOptions options)
        : m_controller(std::move(controller)), m_options(std::move(options)), m_engine(m_controller->tool_engine()) {}

    std::string describe() const override { return m_controller->describe(); }
    std::string identity() const override {
        return "local Qwen2-VL caption\n" + m_options.model_dir + "\n" + m_options.dtype + "\n" +
               std::to_string(m_options.max_pixels) + "\n" + std::to_string(m_options.max_new_tokens) + "\n" +
               k_caption_prompt;
    }
    Result<std::string> caption(const std::string& image_path, const std::atomic<bool>* cancel) override {
        if (cancel && cancel->load()) return make_error("cancelled");
        std::lock_guard<std::mutex> lock(m_mutex);
        tok::ChatMessage user{"user", {tok::ContentPart::make_image_file(image_path), tok::ContentPart::make_text(k_caption_prompt)}};
        auto out = m_engine.generate({user}, m_options.max_new_tokens);
        if (!out.ok()) return out.error().within("captioning " + image_path);
        return one_line(*out);
    }

private:
    std::unique_ptr<agent::LocalController> m_controller;
    LocalModelOptions m_options;
    agent::VlmEngine m_engine;
    std::mutex m_mutex;
};

class LocalEmbedder : public TextEmbedder {
public:
    LocalEmbedder(tok::Tokenizer tokenizer, model::Qwen2VL model, LocalModelOptions options)
        : m_tokenizer(std::move(tokenizer)), m_model(std::move(model)), m_options(std::move(options)) {}

    std::string describe() const override {
        return "local Qwen2-VL " + m_options.model_dir + " (" + m_options.dtype + ", " + m_options.device +
               "): mean-pooled final hidden states, L2-normalised";
    }

    Result<std::vector<std::vector<float>>> embed(const std::vector<std::string>& texts) override {
        std::lock_guard<std::mutex> lock(m_mutex);
        std::vector<std::vector<float>> out;
        try {
            torch::NoGradGuard no_grad;
            for (size_t i = 0; i < texts.size(); ++i) {
                std::vector<int32_t> ids = m_tokenizer.encode(texts[i], false);
                if (ids.empty()) return make_error("text " + std::to_string(i) + " is empty: nothing to embed");
                if (static_cast<int>(ids.size()) > m_options.max_text_tokens) ids.resize(m_options.max_text_tokens);
                std::vector<int64_t> ids64(ids.begin(), ids.end());
                model::ForwardInput in;
                in.input_ids = torch::tensor(ids64, torch::kInt64).view({1, -1}).to(m_model->device());
                torch::Tensor hidden;  // [1, L, hidden] after the final norm
                const model::Tap tap = [&](const std::string& name, int, const torch::Tensor& t) {
                    if (name == "text.norm") hidden = t;
                };
                in.tap = &tap;
                in.skip_logits = true;
                MATRIX_TRY(auto fwd, model::run_forward(m_model, in));
                (void)fwd;
                if (!hidden.defined()) return make_error("the model gave no final hidden states");
                torch::Tensor pooled = hidden[0].to(torch::kFloat32).mean(0);  // [hidden]
                const double norm = pooled.norm().item<double>();
                if (!(norm > 0)) return make_error("text " + std::to_string(i) + " embeds to a zero vector");
                pooled = (pooled / norm).contiguous().cpu();
                out.emplace_back(pooled.data_ptr<float>(), pooled.data_ptr<float>() + pooled.numel());
            }
        } catch (const std::exception& e) {
            return make_error(e.what(), "embedding with " + m_options.model_dir);
        }
        return out;
    }

private:
    tok::Tokenizer m_tokenizer;
    model::Qwen2VL m_model;
    LocalModelOptions m_options;
    std::mutex m_mutex;
};

}  // namespace

Result<std::shared_ptr<ImageCaptioner>> load_local_captioner(const LocalModelOptions& options) {
    agent::LocalControllerOptions o;
    o.model_dir = options.model_dir;
    o.dtype = options.dtype;
    o.device = options.device;
    o.max_pixels = options.max_pixels;
    MATRIX_TRY(auto controller, agent::LocalController::load(o));
    return std::shared_ptr<ImageCaptioner>(std::make_shared<LocalCaptioner>(std::move(controller), options));
}

Result<std::shared_ptr<TextEmbedder>> load_local_embedder(const LocalModelOptions& options) {
    try {
        MATRIX_TRY(auto tokenizer, tok::Tokenizer::load(options.model_dir));
        model::LoadOptions lo;
        lo.dtype = dtype_of(options.dtype);
        lo.device = torch::Device(options.device);
        MATRIX_TRY(auto model, model::load_qwen2vl(options.model_dir, lo));
        model->eval();
        return std::shared_ptr<TextEmbedder>(std::make_shared<LocalEmbedder>(std::move(tokenizer), model, options));
    } catch (const std::exception& e) {
        return make_error(e.what(), "loading the embedding model " + options.model_dir);
    }
}

}  // namespace matrix::synth
