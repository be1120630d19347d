// The controller that an agent run's settings name ({"kind": "local", "model", "adapter", "dtype", "device"} or
// {"kind": "endpoint", "url", "model", "api_key_env"}), for the CLI and the GUI worker alike. Header-only on
// purpose: the local controller lives in matrix_engine, which exists only in builds with LibTorch, and the
// includer's MATRIX_HAVE_TORCH says whether it is linked. An endpoint's replies go through `cache` (the project's
// request cache), so a resumed run does not pay twice for a request.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/agent/controller.h"
#include "core/agent/endpoint_controller.h"
#ifdef MATRIX_HAVE_TORCH
#include "core/agent/local/local_controller.h"
#endif

namespace matrix::agent {

inline Result<std::unique_ptr<Controller>> make_controller(const nlohmann::json& c,
                                                           std::shared_ptr<net::RequestCache> cache = nullptr) {
    const std::string kind = c.value("kind", "");
    if (kind == "local") {
#ifdef MATRIX_HAVE_TORCH
        LocalControllerOptions o;
        o.model_dir = c.value("model", "");
        o.adapter_dir = c.value("adapter", "");
        o.dtype = c.value("dtype", "f32");
        o.device = c.value("device", "cpu");
        MATRIX_TRY(auto local, LocalController::load(o));
        return std::unique_ptr<Controller>(std::move(local));
#else
        return make_error("this build has no LibTorch engine, so it cannot run a local model: use an endpoint");
#endif
    }
    if (kind == "endpoint") {
        EndpointControllerOptions o;
        o.url = c.value("url", "");
        o.model = c.value("model", "");
        o.api_key_env = c.value("api_key_env", "OPENAI_API_KEY");
        o.cache = std::move(cache);
        MATRIX_TRY(auto endpoint, EndpointController::create(o));
        return std::unique_ptr<Controller>(std::move(endpoint));
    }
    return make_error("no controller: give a local model folder or an endpoint URL and model name");
}

}  // namespace matrix::agent
