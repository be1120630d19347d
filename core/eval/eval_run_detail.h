// Helpers shared by eval_run.cpp (the execution) and eval_run_record.cpp (the run's record); not part of the
// eval API.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/agent/agent_job.h"
#include "core/eval/eval_run.h"

namespace matrix::eval::detail {

// The agent's run settings of an evaluation's settings.
agent::AgentRunSettings agent_settings_of(const EvalSettings& s);
// `text` parsed as JSON when it is an object, else an empty object.
nlohmann::json parse_or_object(const std::string& text);
// Whether process `pid` lives (not a zombie) and is a `matrix eval`.
bool runs_matrix_eval(int64_t pid);

}  // namespace matrix::eval::detail
