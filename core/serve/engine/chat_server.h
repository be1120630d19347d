// The HTTP side of `matrix serve` (cpp-httplib): OpenAI's GET /v1/models and POST /v1/chat/completions (plain and
// streamed as server-sent events), GET /health and GET /stats (the engine's counters: load, tokens, cancelled jobs),
// over a BatchEngine. A request is checked (API key, JSON, model, images, context length) and turned into token ids
// and pixel values on its own HTTP thread, so only generation runs on the engine thread. A client that goes away
// cancels its job: streams notice on their next write, and every waiting response writes a keep-alive every second
// (an SSE comment, or JSON-legal leading whitespace) so that a silent disconnect is noticed too.
// Thread safety: run() blocks the calling thread; stop() may be called from any other thread, also before run()
// (run() then returns at once) or while it starts; it returns once run() has returned or will not listen.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/image/qwen2vl_preprocess.h"
#include "core/serve/engine/batch_engine.h"
#include "core/util/result.h"

namespace matrix::serve {

struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8000;                      // 0: any free port (see ChatServer::port)
    std::string api_key;                  // empty: no key needed; else "Authorization: Bearer <key>"
    std::vector<std::string> model_ids;   // one per engine model: [0] the base, then the adapters
    std::vector<std::string> image_roots; // folders file:// image URLs may point into
    vision::PreprocessConfig preprocess;  // pixel limits and normalisation for images
    int64_t max_model_len = 0;            // prompt + completion tokens; 0: the config's max_position_embeddings
    int64_t max_n = 128;
    int http_threads = 128;               // connections served at once (a streaming client holds one)
    size_t max_body_bytes = size_t(64) << 20;
};

class ChatServer {
public:
    ChatServer(BatchEngine& engine, ServerOptions options);
    ~ChatServer();
    ChatServer(const ChatServer&) = delete;
    ChatServer& operator=(const ChatServer&) = delete;

    // Binds host:port; returns the bound port. Error when the address is taken or invalid.
    Result<int> bind();
    void run();   // serves until stop()
    void stop();
    int port() const { return m_port; }

    struct Impl;

private:
    std::unique_ptr<Impl> m;
    int m_port = -1;
    std::atomic<bool> m_stop{false}, m_in_run{false};
};

}  // namespace matrix::serve
