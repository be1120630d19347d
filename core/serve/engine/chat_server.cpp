// OpenAI-compatible HTTP front of the batch engine (see chat_server.h).
#include "core/serve/engine/chat_server.h"

#include <httplib.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "core/serve/chat_protocol.h"
#include "core/serve/image_url.h"
#include "core/tokenizer/chat_template.h"
#ifdef MATRIX_HAVE_OPENCV
#include "core/image/image_io.h"
#endif

namespace matrix::serve {

namespace {
int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

ApiError api_error(int status, std::string message, std::string code = {}, std::string param = {},
                   std::string type = "invalid_request_error") {
    ApiError e;
    e.status = status;
    e.message = std::move(message);
    e.code = std::move(code);
    e.param = std::move(param);
    e.type = std::move(type);
    return e;
}

// Token ids and pixel values of a request's messages, or the error to answer with.
struct PreparedPrompt {
    std::vector<int64_t> ids;
    torch::Tensor pixel_values, grid_thw;
};
}  // namespace

struct ChatServer::Impl {
    BatchEngine& engine;
    ServerOptions opt;
    httplib::Server http;
    std::atomic<int64_t> requests{0}, errors{0}, next_id{0};
    std::string id_salt;
    int64_t started = unix_now();

    Impl(BatchEngine& e, ServerOptions o) : engine(e), opt(std::move(o)) {
        std::random_device rd;
        char buf[17];
        std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
        id_salt = buf;
    }

    void send_error(httplib::Response& res, const ApiError& e) {
        ++errors;
        res.status = e.status;
        res.set_content(error_body(e), "application/json");
    }

    bool authorized(const httplib::Request& req, httplib::Response& res) {
        if (opt.api_key.empty()) return true;
        const std::string auth = req.get_header_value("Authorization");
        if (auth.empty()) {
            send_error(res, api_error(401, "Missing API key: send it as 'Authorization: Bearer <key>'.", "invalid_api_key",
                                      {}, "authentication_error"));
            return false;
        }
        if (auth != "Bearer " + opt.api_key) {
            send_error(res, api_error(401, "Incorrect API key provided.", "invalid_api_key", {}, "authentication_error"));
            return false;
        }
        return true;
    }

    // Image bytes -> preprocessed image, or an ApiError (400) naming the part.
    Result<PreparedPrompt> prepare(const ChatCompletionRequest& r, ApiError& err) {
        std::vector<tok::ChatMessage> messages;
#ifdef MATRIX_HAVE_OPENCV
        std::vector<vision::PreprocessedImage> images;
#endif
        for (size_t i = 0; i < r.messages.size(); ++i) {
            tok::ChatMessage m{r.messages[i].role, {}};
            for (size_t k = 0; k < r.messages[i].parts.size(); ++k) {
                const MessagePart& p = r.messages[i].parts[k];
                if (!p.is_image) {
                    m.content.push_back(tok::ContentPart::make_text(p.text));
                    continue;
                }
                const std::string param = "messages[" + std::to_string(i) + "].content[" + std::to_string(k) + "]";
#ifdef MATRIX_HAVE_OPENCV
                Result<vision::RgbImage> rgb = make_error("unsupported image URL");
                if (p.image_url.rfind("data:", 0) == 0) {
                    auto d = parse_data_url(p.image_url);
                    if (!d.ok()) {
                        err = api_error(400, "Invalid image: " + d.error().to_string(), "invalid_image", param);
                        return make_error("image");
                    }
                    rgb = vision::decode_rgb(reinterpret_cast<const uint8_t*>(d->bytes.data()), d->bytes.size(), param);
                } else if (p.image_url.rfind("file://", 0) == 0) {
                    auto path = resolve_file_url(p.image_url, opt.image_roots);
                    if (!path.ok()) {
                        err = api_error(400, "Invalid image: " + path.error().to_string(), "invalid_image", param);
                        return make_error("image");
                    }
                    rgb = vision::load_rgb(*path);
                } else {
                    err = api_error(400,
                                    "Unsupported image URL: only data: URLs (and file:// inside the server's image "
                                    "roots) are accepted",
                                    "invalid_image", param);
                    return make_error("image");
                }
                if (!rgb.ok()) {
                    err = api_error(400, "Invalid image: cannot decode " + rgb.error().to_string(), "invalid_image", param);
                    return make_error("image");
                }
                auto img = vision::preprocess(*rgb, opt.preprocess);
                if (!img.ok()) {
                    err = api_error(400, "Invalid image: " + img.error().to_string(), "invalid_image", param);
                    return make_error("image");
                }
                m.content.push_back(tok::ContentPart::make_image(img->n_merged_tokens(opt.preprocess.merge_size)));
                images.push_back(std::move(*img));
#else
                err = api_error(400, "This server was built without image support (engine-only build, no OpenCV)",
                                "invalid_image", param);
                return make_error("image");
#endif
            }
            messages.push_back(std::move(m));
        }
        auto enc = tok::encode_chat(engine.tokenizer(), messages);
        if (!enc.ok()) {
            err = api_error(400, "Cannot render the conversation: " + enc.error().to_string(), {}, "messages");
            return make_error("template");
        }
        PreparedPrompt out;
        out.ids.assign(enc->ids.begin(), enc->ids.end());
#ifdef MATRIX_HAVE_OPENCV
        if (!images.empty()) {
            auto batch = vision::concat(images);
            out.pixel_values =
                torch::from_blob(batch.pixel_values.data(), {batch.n_patches, batch.patch_dim}, torch::kFloat32).clone();
            std::vector<int64_t> g;
            for (auto& row : batch.grid_thw) g.insert(g.end(), row.begin(), row.end());
            out.grid_thw = torch::tensor(g, torch::kInt64).view({-1, 3});
        }
#endif
        return out;
    }

    void chat_completions(const httplib::Request& req, httplib::Response& res) {
        ++requests;
        if (!authorized(req, res)) return;
        ParsedRequest parsed = parse_chat_completion(req.body, opt.max_n);
        if (!parsed.request) return send_error(res, parsed.error);
        const ChatCompletionRequest& r = *parsed.request;
        size_t model_index = 0;
        if (!r.model.empty()) {
            auto it = std::find(opt.model_ids.begin(), opt.model_ids.end(), r.model);
            if (it == opt.model_ids.end())
                return send_error(res, api_error(404, "The model `" + r.model + "` does not exist.", "model_not_found", "model"));
            model_index = static_cast<size_t>(it - opt.model_ids.begin());
        }
        ApiError err;
        auto prompt = prepare(r, err);
        if (!prompt.ok()) return send_error(res, err);
        const int64_t L = static_cast<int64_t>(prompt->ids.size());
        const int64_t max_len = opt.max_model_len > 0 ? opt.max_model_len : engine.config().text.max_position_embeddings;
        if (L >= max_len || (r.max_tokens && L + *r.max_tokens > max_len)) {
            return send_error(res, api_error(400,
                                             "This model's maximum context length is " + std::to_string(max_len) +
                                                 " tokens. However, you requested " +
                                                 std::to_string(L + r.max_tokens.value_or(1)) + " tokens (" +
                                                 std::to_string(L) + " in the messages, " +
                                                 std::to_string(r.max_tokens.value_or(1)) + " in the completion).",
                                             "context_length_exceeded", "messages"));
        }
        auto job = std::make_shared<GenerationJob>();
        job->model_index = model_index;
        job->prompt_ids = std::move(prompt->ids);
        job->pixel_values = prompt->pixel_values;
        job->image_grid_thw = prompt->grid_thw;
        job->n = r.n;
        job->max_tokens = r.max_tokens.value_or(max_len - L);
        job->do_sample = !r.greedy();
        job->temperature = r.temperature;
        job->top_p = r.top_p;
        job->top_k = r.top_k;
        job->repetition_penalty = r.repetition_penalty;
        job->seed = r.seed ? *r.seed : std::random_device{}();
        job->stop = r.stop;
        job->channel = std::make_shared<JobChannel>();

        auto meta = std::make_shared<ResponseMeta>();
        char idbuf[32];
        std::snprintf(idbuf, sizeof idbuf, "%06llx", static_cast<unsigned long long>(++next_id));
        meta->id = "chatcmpl-" + id_salt + idbuf;
        meta->created = unix_now();
        meta->model = opt.model_ids.at(model_index);
        if (r.stream) stream_response(res, job, meta, r);
        else plain_response(res, job, meta, r);
        engine.submit(job);
    }

    // The whole answer once the job is done; meanwhile a space every second (JSON allows leading whitespace) so a
    // client that went away is noticed and its job cancelled.
    void plain_response(httplib::Response& res, std::shared_ptr<GenerationJob> job, std::shared_ptr<ResponseMeta> meta,
                        const ChatCompletionRequest& r) {
        struct State {
            std::vector<ChoiceOut> choices;
            int64_t completion = 0;
            std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
        };
        auto st = std::make_shared<State>();
        st->choices.resize(static_cast<size_t>(r.n));
        const bool ids = r.return_token_ids;
        auto channel = job->channel;
        auto prompt_ids = std::make_shared<std::vector<int64_t>>(job->prompt_ids);
        res.status = 200;
        res.set_chunked_content_provider(
            "application/json",
            [this, st, channel, meta, ids, prompt_ids](size_t, httplib::DataSink& sink) {
                auto events = channel->pop_all(std::chrono::milliseconds(1000));
                // A space at least every second, also while tokens arrive: a write is how a gone client shows.
                const auto now = std::chrono::steady_clock::now();
                if (now - st->last_write >= std::chrono::seconds(1)) {
                    st->last_write = now;
                    if (!sink.write(" ", 1)) {
                        channel->cancel();
                        return false;
                    }
                }
                for (auto& e : events) {
                    if (e.kind == JobEvent::Kind::token) {
                        auto& c = st->choices.at(static_cast<size_t>(e.candidate));
                        c.text += e.text;
                        c.token_ids.push_back(e.token);
                        ++st->completion;
                    } else if (e.kind == JobEvent::Kind::finish) {
                        st->choices.at(static_cast<size_t>(e.candidate)).finish_reason = e.finish_reason;
                    } else if (e.kind == JobEvent::Kind::error) {
                        ++errors;
                        const std::string body = error_body(api_error(500, e.text, {}, {}, "server_error"));
                        sink.write(body.data(), body.size());
                        sink.done();
                        return true;
                    } else {
                        const std::string body = completion_body(
                            *meta, st->choices, {static_cast<int64_t>(prompt_ids->size()), st->completion},
                            ids ? prompt_ids.get() : nullptr);
                        if (!sink.write(body.data(), body.size())) return false;
                        sink.done();
                        return true;
                    }
                }
                return true;
            },
            [channel](bool success) {
                if (!success) channel->cancel();
            });
    }

    void stream_response(httplib::Response& res, std::shared_ptr<GenerationJob> job, std::shared_ptr<ResponseMeta> meta,
                         const ChatCompletionRequest& r) {
        struct State {
            bool started = false;
            int64_t completion = 0;
        };
        auto st = std::make_shared<State>();
        const int64_t n = r.n, prompt_tokens = static_cast<int64_t>(job->prompt_ids.size());
        const bool usage = r.include_usage, ids = r.return_token_ids;
        auto channel = job->channel;
        res.status = 200;
        res.set_header("Cache-Control", "no-cache");
        res.set_chunked_content_provider(
            "text/event-stream",
            [this, st, channel, meta, n, prompt_tokens, usage, ids](size_t, httplib::DataSink& sink) {
                auto send = [&](const std::string& data) {
                    const std::string ev = sse_event(data);
                    if (sink.write(ev.data(), ev.size())) return true;
                    channel->cancel();
                    return false;
                };
                if (!st->started) {
                    st->started = true;
                    for (int64_t i = 0; i < n; ++i) {
                        ChunkDelta d;
                        d.index = i;
                        d.role = "assistant";
                        d.content = "";
                        if (!send(chunk_body(*meta, d))) return false;
                    }
                }
                auto events = channel->pop_all(std::chrono::milliseconds(1000));
                if (events.empty()) {
                    static const char k_keepalive[] = ": keep-alive\n\n";
                    if (!sink.write(k_keepalive, sizeof k_keepalive - 1)) {
                        channel->cancel();
                        return false;
                    }
                    return true;
                }
                for (auto& e : events) {
                    ChunkDelta d;
                    d.index = e.candidate;
                    std::vector<int64_t> one{e.token};
                    if (e.kind == JobEvent::Kind::token) {
                        ++st->completion;
                        d.content = e.text;
                        if (ids) d.token_ids = &one;
                        if (e.text.empty() && !ids) continue;  // held back (a partial character or stop string)
                        if (!send(chunk_body(*meta, d))) return false;
                    } else if (e.kind == JobEvent::Kind::finish) {
                        d.finish_reason = e.finish_reason;
                        if (!send(chunk_body(*meta, d))) return false;
                    } else if (e.kind == JobEvent::Kind::error) {
                        ++errors;
                        send(error_body(api_error(500, e.text, {}, {}, "server_error")));
                        send("[DONE]");
                        sink.done();
                        return true;
                    } else {
                        if (channel->cancelled()) return false;
                        if (usage && !send(usage_chunk_body(*meta, {prompt_tokens, st->completion}))) return false;
                        if (!send("[DONE]")) return false;
                        sink.done();
                        return true;
                    }
                }
                return true;
            },
            [channel](bool success) {
                if (!success) channel->cancel();
            });
    }

    void routes() {
        http.Get("/health", [](const httplib::Request&, httplib::Response& res) {
            res.set_content("{\"status\":\"ok\"}", "application/json");
        });
        http.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
            ++requests;
            if (!authorized(req, res)) return;
            res.set_content(models_body(opt.model_ids, started), "application/json");
        });
        http.Get("/stats", [this](const httplib::Request&, httplib::Response& res) {
            const EngineStats s = engine.stats();
            nlohmann::json j = {{"jobs_submitted", s.jobs_submitted},   {"jobs_completed", s.jobs_completed},
                                {"jobs_cancelled", s.jobs_cancelled},   {"jobs_failed", s.jobs_failed},
                                {"jobs_waiting", s.jobs_waiting},       {"jobs_running", s.jobs_running},
                                {"rows_running", s.rows_running},       {"max_rows_seen", s.max_rows_seen},
                                {"tokens_generated", s.tokens_generated}, {"prompt_tokens", s.prompt_tokens},
                                {"decode_steps", s.decode_steps},       {"http_requests", requests.load()},
                                {"http_errors", errors.load()},         {"models", opt.model_ids}};
            res.set_content(j.dump(), "application/json");
        });
        http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
            try {
                chat_completions(req, res);
            } catch (const std::exception& e) {
                send_error(res, api_error(500, std::string("internal error: ") + e.what(), {}, {}, "server_error"));
            }
        });
        // Unknown routes and httplib's own errors (413 payload too large, 400 bad request line) in OpenAI's shape.
        http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
            if (!res.body.empty()) return;
            ++errors;
            const std::string msg = res.status == 404 ? "Unknown request URL: " + req.method + " " + req.path
                                    : res.status == 413 ? "Request body too large"
                                                        : "HTTP error " + std::to_string(res.status);
            res.set_content(error_body(api_error(res.status, msg, res.status == 404 ? "unknown_url" : "")),
                            "application/json");
        });
    }
};

ChatServer::ChatServer(BatchEngine& engine, ServerOptions options) : m(std::make_unique<Impl>(engine, std::move(options))) {
    const int threads = std::max(4, m->opt.http_threads);
    m->http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
    m->http.set_payload_max_length(m->opt.max_body_bytes);
    m->http.set_keep_alive_timeout(5);
    m->routes();
}

ChatServer::~ChatServer() { stop(); }

Result<int> ChatServer::bind() {
    if (m->opt.port == 0) {
        m_port = m->http.bind_to_any_port(m->opt.host);
    } else {
        m_port = m->http.bind_to_port(m->opt.host, m->opt.port) ? m->opt.port : -1;
    }
    if (m_port <= 0)
        return make_error("cannot listen on " + m->opt.host + ":" + std::to_string(m->opt.port) +
                          " (address in use or invalid)");
    return m_port;
}

// httplib's stop() does nothing before listen has started, so a stop() that comes between bind() and the listen
// loop would be lost: run() checks the flag after announcing itself, and stop() keeps stopping while run() is inside.
void ChatServer::run() {
    m_in_run = true;
    if (!m_stop) m->http.listen_after_bind();
    m_in_run = false;
}

void ChatServer::stop() {
    if (!m) return;
    m_stop = true;
    for (;;) {
        m->http.stop();
        if (!m_in_run) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

}  // namespace matrix::serve
