// Agent-X toolset F1 (see agentx_metrics.h).
#include "core/eval/agentx_metrics.h"

namespace matrix::eval {

namespace {
size_t intersection_size(const std::set<std::string>& a, const std::set<std::string>& b) {
    size_t n = 0;
    for (const auto& x : a) n += b.count(x);
    return n;
}
SetF1 from_counts(double hit, double n_pred, double n_gold) {
    SetF1 r;
    if (n_pred == 0 && n_gold == 0) return {1, 1, 1};
    r.precision = n_pred ? hit / n_pred : 0;
    r.recall = n_gold ? hit / n_gold : 0;
    r.f1 = (r.precision + r.recall) > 0 ? 2 * r.precision * r.recall / (r.precision + r.recall) : 0;
    return r;
}
}  // namespace

SetF1 toolset_f1(const std::set<std::string>& gold, const std::set<std::string>& predicted) {
    return from_counts(double(intersection_size(gold, predicted)), double(predicted.size()), double(gold.size()));
}

ToolsetF1Summary toolset_f1_summary(const std::vector<std::set<std::string>>& gold,
                                    const std::vector<std::set<std::string>>& predicted) {
    ToolsetF1Summary s;
    double sum = 0, hit = 0, np = 0, ng = 0;
    const size_t n = std::min(gold.size(), predicted.size());
    for (size_t i = 0; i < n; ++i) {
        sum += toolset_f1(gold[i], predicted[i]).f1;
        hit += double(intersection_size(gold[i], predicted[i]));
        np += double(predicted[i].size());
        ng += double(gold[i].size());
    }
    s.n_tasks = int(n);
    s.macro_f1 = n ? sum / double(n) : 0;
    s.micro = from_counts(hit, np, ng);
    return s;
}

}  // namespace matrix::eval
