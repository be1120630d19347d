// `matrix serve`: the engine behind an OpenAI-compatible HTTP API (core/serve). Loads the model (and adapters
// sharing its weights), starts the continuous-batching engine and the HTTP server, prints
// "matrix serve: listening on http://HOST:PORT" on stdout once it accepts connections (--port 0 picks a free
// port, which that line names), and serves until SIGINT or SIGTERM.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "app/cli/args.h"
#include "app/cli/command.h"
#ifdef MATRIX_HAVE_SERVE
#include "core/serve/engine/batch_engine.h"
#include "core/serve/engine/chat_server.h"
#include "core/serve/engine/model_set.h"
#include "core/tokenizer/tokenizer.h"
#endif

namespace {
using namespace matrix;

const char* k_usage =
    "usage: matrix serve --model DIR [--adapter NAME=DIR]... [--host 127.0.0.1] [--port 8000]\n"
    "                    [--api-key-env VAR] [--device cpu|cuda[:N]] [--dtype f32|bf16|f16] [--max-batch N]\n"
    "                    [--min-pixels N] [--max-pixels N] [--image-root DIR]... [--served-model-name NAME]\n"
    "                    [--max-model-len N] [--http-threads N]\n"
    "  OpenAI-compatible API: GET /v1/models, POST /v1/chat/completions (stream, n, stop, seed, top_k,\n"
    "  repetition_penalty, image_url data: URLs; file:// URLs only under --image-root). GET /stats: load.\n"
    "  The base model's id is --served-model-name (default: the model folder's name); each adapter's is NAME.\n"
    "  --api-key-env VAR: clients must send 'Authorization: Bearer $VAR'. --port 0: any free port.\n"
    "  Pixel limits default to the model folder's preprocessor_config.json (Qwen2-VL's defaults without one).\n";

#ifdef MATRIX_HAVE_SERVE
std::string base_name(std::string dir) {
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    const size_t slash = dir.rfind('/');
    return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

int g_signal_pipe[2] = {-1, -1};
void on_signal(int) {
    const char c = 1;
    [[maybe_unused]] ssize_t n = ::write(g_signal_pipe[1], &c, 1);
}

int run_serve(int argc, char** argv) {
    cli::Args args(k_usage,
                   {"model", "adapter", "host", "port", "api-key-env", "device", "dtype", "max-batch", "min-pixels",
                    "max-pixels", "image-root", "served-model-name", "max-model-len", "http-threads"});
    if (!args.parse(argc, argv)) return args.help_requested() ? 0 : 2;
    if (!args.require({"model"}, "serve")) return 2;
    const std::string model_dir = *args.get("model");
    // SIGINT / SIGTERM (whichever thread gets them) write one byte to a pipe; a watcher thread reading it stops the
    // server, since stopping is not async-signal-safe.
    if (::pipe(g_signal_pipe) != 0) return cli::fail("serve: pipe() failed");
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    try {
        serve::ServerOptions so;
        so.host = args.get_or("host", "127.0.0.1");
        so.port = std::stoi(args.get_or("port", "8000"));
        if (so.port < 0 || so.port > 65535) return cli::fail("serve: --port must be 0..65535");
        if (auto var = args.get("api-key-env")) {
            const char* key = std::getenv(var->c_str());
            if (!key || !*key) return cli::fail("serve: --api-key-env " + *var + ": the variable is not set or empty");
            so.api_key = key;
        }
        so.image_roots = args.get_all("image-root");
        for (auto& r : so.image_roots) {
            struct stat st {};
            if (::stat(r.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
                return cli::fail("serve: --image-root " + r + " is not a folder");
        }
        so.max_model_len = std::stoll(args.get_or("max-model-len", "0"));
        so.http_threads = std::stoi(args.get_or("http-threads", "128"));
#ifdef MATRIX_HAVE_OPENCV
        {
            struct stat st {};
            if (::stat((model_dir + "/preprocessor_config.json").c_str(), &st) == 0) {
                auto pc = vision::load_preprocess_config(model_dir);
                if (!pc.ok()) return cli::fail(pc.error().to_string());
                so.preprocess = *pc;
            }
        }
#endif
        if (args.has("min-pixels")) so.preprocess.min_pixels = std::stoll(*args.get("min-pixels"));
        if (args.has("max-pixels")) so.preprocess.max_pixels = std::stoll(*args.get("max-pixels"));

        std::vector<serve::AdapterSpec> adapters;
        so.model_ids.push_back(args.get_or("served-model-name", base_name(model_dir)));
        for (const auto& a : args.get_all("adapter")) {
            auto spec = serve::parse_adapter_arg(a);
            if (!spec.ok()) return cli::fail("serve: " + spec.error().to_string());
            for (auto& id : so.model_ids)
                if (id == spec->name) return cli::fail("serve: model id '" + id + "' given twice");
            so.model_ids.push_back(spec->name);
            adapters.push_back(*spec);
        }

        auto tokenizer = tok::Tokenizer::load(model_dir);
        if (!tokenizer.ok()) return cli::fail(tokenizer.error().to_string());
        model::LoadOptions lo;
        const std::string dt = args.get_or("dtype", "f32");
        lo.dtype = dt == "bf16" ? torch::kBFloat16 : dt == "f16" ? torch::kFloat16 : torch::kFloat32;
        lo.device = torch::Device(args.get_or("device", "cpu"));
        auto models = serve::load_model_set(model_dir, adapters, lo);
        if (!models.ok()) return cli::fail(models.error().to_string());

        serve::EngineOptions eo;
        eo.max_batch = std::stoll(args.get_or("max-batch", "32"));
        if (eo.max_batch < 1) return cli::fail("serve: --max-batch must be >= 1");
        so.max_n = eo.max_batch;

        serve::BatchEngine engine(std::move(*models), *tokenizer, eo);
        serve::ChatServer server(engine, so);
        auto port = server.bind();
        if (!port.ok()) return cli::fail("serve: " + port.error().to_string());
        std::thread watcher([&] {
            char c = 0;
            while (::read(g_signal_pipe[0], &c, 1) < 0 && errno == EINTR) {
            }
            server.stop();
        });
        std::cout << "matrix serve: listening on http://" << so.host << ":" << *port << " (models:";
        for (auto& id : so.model_ids) std::cout << " " << id;
        std::cout << "; device " << lo.device.str() << ", max batch " << eo.max_batch << ")" << std::endl;
        server.run();
        // run() also returns when the watcher did not stop it (a listen error): wake the watcher to let it end.
        on_signal(0);
        watcher.join();
        std::cout << "matrix serve: stopped" << std::endl;
        return 0;
    } catch (const std::exception& e) {
        return cli::fail(std::string("serve: ") + e.what());
    }
}
#else
int run_serve(int argc, char** argv) {
    cli::Args args(k_usage, {});
    if (argc > 1 && std::string(argv[1]) == "--help") return args.parse(argc, argv) ? 0 : 0;
    return cli::fail("serve: this build has no HTTP server (cpp-httplib was not found when it was configured)");
}
#endif
}  // namespace

MATRIX_CLI_COMMAND("serve", "serve a Qwen2-VL checkpoint over an OpenAI-compatible HTTP API", run_serve);
