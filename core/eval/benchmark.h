// The in-memory form of a loaded benchmark (GTA-1, GAIA, Agent-X): items with their query, files, gold
// answer and gold reasoning steps, independent of the source file format and of the project store.
// Loaders (gta_loader.h, gaia_loader.h, agentx_loader.h) produce it; scorers and the store consume it.
// Plain values; no threading concerns.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace matrix::eval {

enum class BenchKind { gta, gaia, agentx };

const char* to_string(BenchKind kind);                    // "gta", "gaia", "agentx"
std::optional<BenchKind> bench_kind_from_string(const std::string& s);

// GTA's three answer forms; GAIA items are all `objective`, Agent-X items carry their query type as category.
enum class AnswerForm { objective, subjective, image_generation };
const char* to_string(AnswerForm form);  // "objective", "subjective", "image_generation"

struct ToolCallSpec {
    std::string name;
    nlohmann::json arguments = nlohmann::json::object();  // as in the source (GTA: object with typed values)
};

// One gold dialog turn / reasoning step. GTA: user, assistant (thought + tool call, or final content), tool.
// Agent-X: one step per reasoning step (role "assistant", tool call + its output in `observation`).
struct GoldStep {
    std::string role;     // "user" | "assistant" | "tool"
    std::string thought;  // assistant's thought (GTA "thought", Agent-X "thought"/"task")
    std::string content;  // user text, assistant final answer, or tool output as text
    std::vector<ToolCallSpec> tool_calls;
    std::string observation;  // Agent-X: the step's tool output
    nlohmann::json raw;       // the source turn, unchanged
};

struct BenchFile {
    std::string type;  // "image" | "file" | ...
    std::string path;  // as written in the source (relative to the benchmark root)
    std::string resolved;  // absolute path when the file exists beside the benchmark, else empty
    std::string url;
};

struct BenchItem {
    std::string id;     // the benchmark's own id: GTA dataset.json key, GAIA task_id, Agent-X key
    std::string query;  // the user question
    AnswerForm form = AnswerForm::objective;
    int level = 0;          // GAIA level 1-3; 0 when not applicable
    std::string category;   // GTA: answer form; GAIA: "level N"; Agent-X: query type
    std::vector<BenchFile> files;
    std::vector<std::string> tools;  // tool names offered with the item (GTA) / gold tool set (Agent-X)
    // Gold answer in the benchmark's own form: GTA gt_answer (dict / list / null), GAIA "Final answer"
    // string, Agent-X final_answer (object with value/justification, or string).
    nlohmann::json gold_answer;
    std::string gold_answer_text;  // a readable one-line form of gold_answer
    std::vector<GoldStep> gold_steps;
    nlohmann::json raw;  // the source record, unchanged
};

struct Benchmark {
    BenchKind kind = BenchKind::gta;
    std::string name;         // e.g. "gta", "gaia-validation"
    std::string source_path;  // the file it was loaded from
    std::vector<BenchItem> items;
    std::vector<std::string> warnings;  // recoverable problems (per item), one line each

    const BenchItem* find(const std::string& id) const;
};

// A BenchItem as JSON and back (what the store keeps in tasks.extra so a stored benchmark can be scored
// without the original file).
nlohmann::json item_to_json(const BenchItem& item);
BenchItem item_from_json(const nlohmann::json& j);

}  // namespace matrix::eval
