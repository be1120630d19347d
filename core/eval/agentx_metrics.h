// Agent-X metrics that need no judge: toolset F1 between the gold tool set of a task (tools named in its
// gold reasoning steps) and the tools the agent called. Per task: P = |G & T| / |T|, R = |G & T| / |G|,
// F1 = 2PR / (P + R); both sets empty -> 1, one empty -> 0. The run's value is the mean over tasks (macro);
// micro-averaged P/R/F1 over all tasks are reported too.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace matrix::eval {

struct SetF1 {
    double precision = 0, recall = 0, f1 = 0;
};

SetF1 toolset_f1(const std::set<std::string>& gold, const std::set<std::string>& predicted);

struct ToolsetF1Summary {
    double macro_f1 = 0;          // mean of per-task F1
    SetF1 micro;                  // from summed counts
    int n_tasks = 0;
};

ToolsetF1Summary toolset_f1_summary(const std::vector<std::set<std::string>>& gold,
                                    const std::vector<std::set<std::string>>& predicted);

}  // namespace matrix::eval
