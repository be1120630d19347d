// Conversations as chat messages (tok::ChatMessage) for the model: the MATRIX agent conversation
// [system, user(images + task), assistant(action 0), user("[OUTPUT OF STEP 0] Observation:\n..."),
// assistant(action 1), ...] built from stored steps (SFT, the agent loop) or from a Pref-X history (DPO), and
// its SFT encoding. Rendering itself is core/tokenizer/chat_template (generic ChatML).
// Thread safety: free functions, reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/conversation/prefx_history.h"
#include "core/store/trajectory_repo.h"
#include "core/tokenizer/chat_template.h"
#include "core/util/result.h"

namespace matrix::conversation {

struct AgentConversation {
    std::string system;                     // the agent prompt; "" -> Qwen2-VL's default system prompt
    std::vector<int64_t> image_pad_counts;  // one per task image, in order (image_pad_count of its grid)
    std::vector<std::string> image_paths;   // alternatively the files (matrix::vision::prepare_agent_inputs)
    std::string task;                       // first user text, placed after the images
    // Turns after the task, alternating assistant / user: actions (thought + code) and observation texts
    // (already rendered with render_observation, as M-TRACE stores them); step_turns() makes them from steps.
    std::vector<tok::ChatMessage> turns;
    bool add_generation_prompt = false;     // true: end with "<|im_start|>assistant\n" for the next step
};

std::vector<tok::ChatMessage> agent_messages(const AgentConversation& conversation);
// The turns alternate assistant / user after the task; an error names the first turn that does not.
Status check_agent_turns(const AgentConversation& conversation);
Result<tok::EncodedChat> encode_agent_conversation(const tok::Tokenizer& tokenizer,
                                                   const AgentConversation& conversation);

// The turns of steps[first, end): assistant(step_action) for each step and, before every following step, a
// user turn with its observation_turn (an empty "[OUTPUT OF STEP i] Observation:\n" when the step has none,
// i = its position in `steps`). The last step's observation is not included (nothing follows it).
std::vector<tok::ChatMessage> step_turns(const std::vector<store::Step>& steps, size_t first = 0);

// A Pref-X pair's prompt messages: [system when not empty], then the history's turns with the oldest
// `drop_pairs` (gpt, human) pairs after the task turn left out. gpt / assistant turns become "assistant",
// system "system", anything else "user"; each "<image>" placeholder becomes an image part in place
// (LLaMA-Factory's mm_plugin), taking pad counts from `pads` in order.
std::vector<tok::ChatMessage> prefx_history_messages(const std::string& system, const nlohmann::json& history,
                                                     size_t drop_pairs, const std::vector<int64_t>& pads);
// The same from turns (conversation/prefx_history.h: prefx_turns of a stored prefix).
std::vector<tok::ChatMessage> prefx_turn_messages(const std::string& system, const std::vector<PrefxTurn>& turns,
                                                  size_t drop_pairs, const std::vector<int64_t>& pads);

}  // namespace matrix::conversation
