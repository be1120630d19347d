// Agent-X judge metrics on a scored run: asks a configured OpenAI-compatible judge (judge.h) to score each
// task on each Agent-X judge metric (grounding, tool precision, ...) and adds "judge_<metric>" per task and
// as run means (percent). Without a configured judge nothing is added and the run keeps its "not
// configured" note; failed requests are left out and counted in a note. No score is ever invented.
// Blocking (one HTTP request per task and metric): call it off the UI thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/eval/benchmark.h"
#include "core/eval/judge.h"
#include "core/eval/run.h"
#include "core/eval/run_scoring.h"

namespace matrix::eval {

// Returns the number of judge requests that failed. When every request of the first task fails (endpoint
// down, garbage replies), the rest are not sent and are counted as failed too.
int add_agentx_judge_metrics(RunScore& score, const std::vector<TaskResult>& results, const Benchmark& bench,
                             const JudgeConfig& judge, std::string* first_error = nullptr);

// task id -> judge metric name ("grounding", ...) -> verdict in [0, 1].
using JudgeVerdicts = std::map<std::string, std::map<std::string, double>>;

// Adds verdicts to a scored run: "judge_<metric>" per task (detail) and as run means (percent), and replaces
// the "judge metrics ... not configured" note with "judge metrics from <source>".
void apply_judge_verdicts(RunScore& score, const JudgeVerdicts& verdicts, const std::string& source);

}  // namespace matrix::eval
