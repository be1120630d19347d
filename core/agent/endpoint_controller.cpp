// The endpoint controller (see endpoint_controller.h).
#include "core/agent/endpoint_controller.h"

namespace matrix::agent {

Result<std::unique_ptr<EndpointController>> EndpointController::create(const EndpointControllerOptions& options) {
    if (options.url.empty()) return make_error("the endpoint controller needs a URL");
    if (options.model.empty()) return make_error("the endpoint controller needs a model name", options.url);
    net::ChatClientConfig c;
    c.url = options.url;
    c.model = options.model;
    c.api_key_env = options.api_key_env;
    c.auth = options.azure ? net::AuthStyle::azure : net::AuthStyle::bearer;
    c.azure_api_version = options.azure_api_version;
    c.max_concurrency = options.max_concurrency;
    c.timeout_ms = options.timeout_ms;
    c.retry = options.retry;
    c.cache = options.cache;
    auto client = std::make_unique<net::ChatClient>(std::move(c));
    return std::unique_ptr<EndpointController>(new EndpointController(options, std::move(client)));
}

std::string EndpointController::describe() const {
    return "endpoint " + m_client->endpoint() + " model " + m_options.model;
}

VlmEngine EndpointController::tool_engine() {
    VlmEngine e;
    e.backend = describe();
    e.generate = [this](const std::vector<tok::ChatMessage>& messages, int max_new_tokens) -> Result<std::string> {
        GenerationSettings g;
        g.max_new_tokens = max_new_tokens;
        g.stop.clear();
        g.groups = {SamplingGroup{1, false, 0.0, 1.0, -1, 1.0}};
        MATRIX_TRY(auto candidates, generate(messages, g));
        if (candidates.empty()) return make_error("the endpoint gave no answer");
        return candidates.front().text;
    };
    return e;
}

Result<std::vector<Candidate>> EndpointController::generate(const std::vector<tok::ChatMessage>& messages,
                                                            const GenerationSettings& settings,
                                                            const std::atomic<bool>* cancel) {
    net::ChatRequest req;
    req.model = m_options.model;
    for (const tok::ChatMessage& m : messages) {
        net::ChatMessage out{m.role, {}};
        for (const tok::ContentPart& p : m.content) {
            if (p.kind == tok::ContentPart::Kind::Text) {
                out.content.push_back(net::ContentPart::make_text(p.text));
            } else if (p.kind == tok::ContentPart::Kind::Image && !p.path.empty()) {
                out.content.push_back(net::ContentPart::make_image(p.path));
            } else {
                return make_error("an image part without a file cannot be sent to an endpoint");
            }
        }
        req.messages.push_back(std::move(out));
    }
    req.max_tokens = settings.max_new_tokens;
    req.stop = settings.stop;
    ++m_calls;
    std::vector<Candidate> out;
    for (size_t g = 0; g < settings.groups.size(); ++g) {
        const SamplingGroup& group = settings.groups[g];
        net::ChatRequest r = req;
        r.n = group.n;
        // One seed for the whole run: the same prompt gives the same request, so a resumed run is answered from
        // the request cache instead of paying twice.
        r.seed = static_cast<int64_t>(settings.seed);
        if (group.do_sample) {
            r.temperature = group.temperature;
            r.top_p = group.top_p;
            if (m_options.vllm_extra_fields) {
                if (group.top_k > 0) r.extra["top_k"] = group.top_k;
                if (group.repetition_penalty != 1.0) r.extra["repetition_penalty"] = group.repetition_penalty;
            }
        } else {
            r.temperature = 0.0;
        }
        net::CallOptions opt;
        opt.cancel = cancel;
        // The k-th call of a run with the same prompt (a resumed run asks again) is answered from the cache.
        opt.sample_index = static_cast<int>(g);
        auto reply = m_client->complete(r, opt);
        if (!reply.ok()) {
            const net::ChatError& e = reply.error();
            if (e.infrastructure()) return infrastructure_error(e.to_error().to_string());
            return e.to_error();
        }
        if (static_cast<int>(reply->choices.size()) != group.n)
            return make_error("the endpoint returned " + std::to_string(reply->choices.size()) + " choices for n=" +
                              std::to_string(group.n), m_client->endpoint());
        for (const net::ChatChoice& c : reply->choices)
            out.push_back({cut_at_stop(c.content, settings.stop), c.finish_reason, -1});
    }
    return out;
}

}  // namespace matrix::agent
