// The endpoint controller: an OpenAI-compatible /v1/chat/completions server (vLLM, an OpenAI or Azure model)
// writes the agent's actions, through core/net's ChatClient (retries with backoff honouring Retry-After, bounded
// concurrency, the project's request cache so an interrupted job resumes without paying twice). Each sampling
// group is one request with n candidates; top_k and repetition_penalty go as vLLM's extra fields. An endpoint
// failure after the client's retries is an infrastructure error (controller.h), never an action.
// Thread safety: generate() may run on several threads at once (the client bounds the requests in flight).
#pragma once

#include <memory>
#include <string>

#include "core/agent/controller.h"
#include "core/net/chat_client.h"

namespace matrix::agent {

struct EndpointControllerOptions {
    std::string url;    // "http://127.0.0.1:8000/v1" or the full .../chat/completions URL
    std::string model;  // the served model's name
    std::string api_key_env = "OPENAI_API_KEY";
    bool azure = false;
    std::string azure_api_version;
    int max_concurrency = 4;
    int timeout_ms = 300000;
    net::RetryPolicy retry;
    std::shared_ptr<net::RequestCache> cache;  // e.g. store::RequestCacheRepo over the project
    bool vllm_extra_fields = true;  // send top_k and repetition_penalty (vLLM); OpenAI rejects them
};

class EndpointController : public Controller {
public:
    static Result<std::unique_ptr<EndpointController>> create(const EndpointControllerOptions& options);
    std::string describe() const override;
    Result<std::vector<Candidate>> generate(const std::vector<tok::ChatMessage>& messages,
                                            const GenerationSettings& settings,
                                            const std::atomic<bool>* cancel = nullptr) override;
    // Greedy answers (temperature 0) through the same client, for the tools.
    VlmEngine tool_engine() override;
    const net::ChatClient& client() const { return *m_client; }

private:
    EndpointController(EndpointControllerOptions options, std::unique_ptr<net::ChatClient> client)
        : m_options(std::move(options)), m_client(std::move(client)) {}
    EndpointControllerOptions m_options;
    std::unique_ptr<net::ChatClient> m_client;
    std::atomic<uint64_t> m_calls{0};
};

}  // namespace matrix::agent
