// Helpers shared by the files behind bench_store.h (bench_store.cpp: benchmarks; run_store.cpp: runs;
// run_score_store.cpp: scoring and comparing stored runs). Internal to core/eval.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/eval/benchmark.h"
#include "core/store/dataset_repo.h"
#include "core/store/project.h"
#include "core/util/result.h"

namespace matrix::eval::detail {

// The dataset of this name, or (name empty) the first dataset of the kind.
Result<std::optional<store::Dataset>> find_dataset(store::Project& project, BenchKind kind, const std::string& name);

// `text` parsed as JSON; `fallback` when it is missing, empty or not JSON.
nlohmann::json parse_or(const std::optional<std::string>& text, nlohmann::json fallback);

}  // namespace matrix::eval::detail
