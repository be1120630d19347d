// Asking an LLM judge about a stored Agent-X run: every task x every Agent-X judge metric goes to the
// configured OpenAI-compatible endpoint (judge.h); the verdicts are stored with the run's results
// (run_results.scores["judge"]) and the judge named in the run summary ("judge": {model, endpoint}), so
// score_stored_run and every later comparison include them without asking again. Nothing is stored for a
// failed request, and nothing is ever made up. Blocking (one HTTP request per task and metric).
#pragma once

#include <string>

#include "core/eval/judge.h"
#include "core/store/project.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace matrix::eval {

struct JudgeRunReport {
    int n_requests = 0;   // task x metric requests planned
    int n_failed = 0;     // failed (or not sent after the first task failed entirely)
    int n_stored = 0;     // verdicts stored
    std::string first_error;
};

// Errors: not an Agent-X run, judge not configured, the Agent-X benchmark not in the project.
Result<JudgeRunReport> judge_stored_run(store::Project& project, int64_t run_id, const JudgeConfig& judge);

}  // namespace matrix::eval
