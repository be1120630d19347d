// The models a sampling run's settings name: the controller (controller_factory.h) and the verifier (an endpoint's
// model, a local model, or the controller's own model, each behind our verifier prompt), for the CLI and the GUI
// worker alike. Header-only like controller_factory.h (the local engine exists only in builds with LibTorch).
// Endpoint replies go through `cache` (the project's request cache), so a resumed run does not pay twice.
#pragma once

#include <memory>

#include "core/agent/controller_factory.h"
#include "core/agent/sampling.h"
#include "core/agent/step_verifier.h"

namespace matrix::agent {

struct SamplingModels {
    std::unique_ptr<Controller> controller;
    std::unique_ptr<Controller> verifier_model;  // null when the controller's model verifies
    std::unique_ptr<LlmStepVerifier> verifier;
    bool thread_safe = false;  // both are endpoints: workers may call them at once
};

inline bool sampling_uses_endpoint(const SamplingSettings& s) {
    return s.agent.controller.value("kind", "") == "endpoint" || s.verifier.value("kind", "") == "endpoint";
}

inline Result<SamplingModels> make_sampling_models(const SamplingSettings& s,
                                                   std::shared_ptr<net::RequestCache> cache = nullptr) {
    SamplingModels m;
    MATRIX_TRY(m.controller, make_controller(s.agent.controller, cache));
    const std::string kind = s.verifier.value("kind", "controller");
    if (kind == "endpoint" || kind == "local") {
        auto made = make_controller(s.verifier, cache);
        if (!made.ok()) return made.error().within("verifier");
        m.verifier_model = std::move(*made);
    } else if (kind != "controller") {
        return make_error("unknown verifier kind \"" + kind + "\" (endpoint, local or controller)");
    }
    m.verifier = std::make_unique<LlmStepVerifier>(m.verifier_model ? *m.verifier_model : *m.controller,
                                                   s.verifier_max_new_tokens);
    const bool controller_endpoint = s.agent.controller.value("kind", "") == "endpoint";
    m.thread_safe = controller_endpoint && (kind == "endpoint" || kind == "controller");
    return m;
}

}  // namespace matrix::agent
