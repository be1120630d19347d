// Agent-X judge metrics on a scored run: asks a configured OpenAI-compatible judge (judge.h) to score each
// task on each Agent-X judge metric (grounding, tool precision, ...) and adds "judge_<metric>" per task and
// as run means (percent). Without a configured judge nothing is added and the run keeps its "not
// configured" note; failed requests are left out and counted in a note. No score is ever invented.
// Blocking (one HTTP request per task and metric): call it off the UI thread.
#pragma once

#include <vector>

#include "core/bench/benchmark.h"
#include "core/bench/judge.h"
#include "core/bench/run.h"
#include "core/bench/run_scoring.h"

namespace matrix::bench {

// Returns the number of judge requests that failed.
int add_agentx_judge_metrics(RunScore& score, const std::vector<TaskResult>& results, const Benchmark& bench,
                             const JudgeConfig& judge);

}  // namespace matrix::bench
