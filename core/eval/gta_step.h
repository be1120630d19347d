// GTA step-by-step mode for the MATRIX code agent (GTA's "every_with_gt" inference):
// for every gold assistant turn of an item, the controller predicts ONE step from the gold dialog before it (the
// gold tool calls written as code, the gold tool outputs as observations; tools are not executed). When the gold
// turn is the final answer, the reference's last-turn instruction to summarise without tools is added to the
// prompt. The predicted action is read back into GTA's message form ({"role": "assistant", "tool_calls": [...]}
// or {"role": "assistant", "content": answer}) and scored with gta_step_metrics (core/eval/gta_metrics.h).
// Who answers a step is a StepAnswerer: a controller (local model or endpoint), or the gold answerer that
// writes the gold step (a check of this harness and the scorer: ToolAcc = ArgAcc = 100).
// Pure functions are thread-safe; answerers say so per class.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/agent/controller.h"
#include "core/eval/benchmark.h"
#include "core/tokenizer/chat_template.h"
#include "core/util/result.h"

namespace matrix::eval {

// What GTA's lagent wrapper appends as a user turn when it asks for the final answer (models/lagent.py,
// next_step(stop=True)); the same words here, so a step-mode score means the same thing.
extern const char* const k_gta_summarise_instruction;

// GTA's task text as the reference agent receives it: q + "\nAttachment:\n" + the item's file paths, one a line.
std::string gta_task_text(const eval::BenchItem& item);

// The system prompt of step mode: the bundled agent prompt with its tool list replaced by the item's GTA tools
// (name, inputs, output, description from dataset.json), since the gold history calls GTA's tools.
std::string gta_step_system_prompt(const eval::BenchItem& item);

// One step to predict.
struct GtaStepContext {
    std::string item_id;
    int item_ordinal = 0;          // the item's position in the benchmark (0-based)
    int position = 0;              // index among the item's gold assistant turns
    nlohmann::json gold;           // the gold assistant message (GTA dialog form)
    bool summarise = false;        // the last-turn instruction was added
    std::vector<tok::ChatMessage> messages;  // system, user(images + task), gold prefix [, instruction]
};

// Every step of an item, in order. `images`: resolved image files given to the model with the task.
std::vector<GtaStepContext> gta_step_contexts(const eval::BenchItem& item, int item_ordinal,
                                              const std::string& system_prompt,
                                              const std::vector<std::string>& images = {});

// JSON value as a Python literal that parse_action reads back to the same JSON ("a\n" -> "a\\n" quoted,
// true -> True, null -> None, objects as dicts).
std::string python_literal(const nlohmann::json& v);

// The action a perfect controller writes for a gold message: "Thought: <gold thought>" and code calling the
// gold tool with the gold arguments by keyword (print(Tool(k=v, ...))), or final_answer(<gold content>).
std::string gta_gold_action(const nlohmann::json& gold_message);

// A predicted action as a GTA message: final_answer(x) -> {"role": "assistant", "content": str(x)}; else the
// first tool call (agent tool names mapped to GTA's) -> {"role": "assistant", "tool_calls": [{"type":
// "function", "function": {"name", "arguments"}}]}; no call at all -> a "NoAction" tool call with an "error"
// (lagent's answer to a reply it cannot parse: wrong instruction type, counted as a tool-call error).
nlohmann::json gta_message_of_action(const std::string& action_text);

// Who writes a step. answer() may be called from several threads at once: implementations serialise
// what must be serialised (one GPU queue) themselves.
class StepAnswerer {
public:
    virtual ~StepAnswerer() = default;
    virtual std::string describe() const = 0;
    virtual Result<std::string> answer(const GtaStepContext& step, const std::atomic<bool>* cancel) = 0;
};

// The gold step, always.
class GoldStepAnswerer : public StepAnswerer {
public:
    std::string describe() const override { return "gold replay"; }
    Result<std::string> answer(const GtaStepContext& step, const std::atomic<bool>*) override {
        return gta_gold_action(step.gold);
    }
};

// The gold step with known faults, for checks of the scorer (tests, the demo project's second run). With
// k = item_ordinal + position: tool steps with k % 3 == 0 call another tool (the name with "X" appended),
// tool steps with k % 3 == 1 keep the tool and change its arguments (an extra "perturbed": True); answer steps of
// items with an even ordinal answer "I do not know".
class PerturbedGoldAnswerer : public StepAnswerer {
public:
    std::string describe() const override { return "perturbed gold replay"; }
    Result<std::string> answer(const GtaStepContext& step, const std::atomic<bool>*) override;
};

// A controller (local model or endpoint). `serialise`: one call at a time (a local model: one GPU queue);
// endpoints take concurrent requests when the controller is one per worker or thread-safe.
class ControllerStepAnswerer : public StepAnswerer {
public:
    ControllerStepAnswerer(std::shared_ptr<agent::Controller> controller, agent::GenerationSettings settings,
                           bool serialise)
        : m_controller(std::move(controller)), m_settings(std::move(settings)), m_serialise(serialise) {}
    std::string describe() const override { return m_controller->describe(); }
    Result<std::string> answer(const GtaStepContext& step, const std::atomic<bool>* cancel) override;

private:
    std::shared_ptr<agent::Controller> m_controller;
    agent::GenerationSettings m_settings;
    bool m_serialise;
    std::mutex m_mutex;
};

}  // namespace matrix::eval
