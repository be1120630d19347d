// M-TRACE synthesis as resumable jobs over the store (issue 20; the reference pipeline is mbzuai-oryx/MATRIX
// data_generation/). Six stages, each run by `matrix synth run --stage S` (or the GUI's Synthesis dock) over one
// output dataset (kind mtrace):
//   queries              rounds of new tasks from seed examples, de-duplicated against every task in the project
//                        (normalised text); each task records whether it needs a file, an image or nothing
//   files                file content (JSON, the reference's contract), then per file a Python program written by
//                        the teacher and run in the agent sandbox; the file goes to the project's media folder
//   images               a photo from a pool folder with captions (or captions made by a local Qwen2-VL for images
//                        without one), by cosine similarity of embeddings from an /v1/embeddings endpoint or a
//                        local model; without either, a lexical fallback (word overlap); each output says which
//   verify-files         the query-file verifier, two rounds as the reference: "no" gives an updated query that is
//                        verified again; accepted tasks may have their query rewritten
//   trajectories         the agent runtime (core/agent) with the teacher as controller and the real tools, 8 steps
//   verify-trajectories  the trajectory verifier: tasks.verdict / verifier_text, exported as `correct` and
//                        `traj_verification` exactly as imported M-TRACE records carry them
// A unit of work (a query round, a task) is written with its synth_items row in one transaction when it is
// finished, so a killed job redoes only unfinished units (the request cache answers their requests again without
// paying). Infrastructure errors (429/5xx after retries, timeouts) leave the unit pending (counted as failed,
// never stored as data); a malformed teacher answer rejects the unit with its reason and the job goes on.
// Accounting: one synth_usage row per request as it is answered (tokens, cache hits). A token budget is held by
// admission control: each request reserves an upper bound of its tokens before it is sent (synth_context.h says
// how it is bounded), the reply's usage replaces it, and the job pauses before a request could pass the budget.
// Thread safety: run_stage owns its worker threads (one connection each); events are called from them, serialised.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/agent/sandbox.h"
#include "core/synth/local_models.h"
#include "core/store/database.h"
#include "core/util/result.h"

namespace matrix::synth {

// The stages in pipeline order.
const std::vector<std::string>& synth_stages();
bool is_synth_stage(const std::string& stage);

struct SynthSettings {
    std::string dataset = "synth";  // the output dataset (created, kind mtrace)
    std::string stage;
    // The teacher: an OpenAI-compatible chat endpoint.
    std::string endpoint;            // "http://host:port/v1"
    std::string model;
    std::string api_key_env = "OPENAI_API_KEY";
    int retry_attempts = 5;          // HTTP requests per call (the client's retries)
    int retry_base_delay_ms = 1000;
    int timeout_ms = 300000;
    double temperature = 0.7;
    int max_tokens = 2048;
    int64_t seed = 0;                // every request's seed derives from it and the unit (same unit, same request)
    size_t max_answer_chars = 100000;  // longer answers are rejected ("answer too long")
    // Work control.
    int limit = 0;                   // queries: rounds to have in total (0: 1); other stages: units this run (0: all)
    int workers = 1;                 // units in flight at once (requests in flight at most the same)
    int64_t budget_tokens = 0;       // paid tokens (prompt + completion, all stages of the dataset); 0: none.
                                     // Never passed: requests are admitted only while their bound fits
    // queries
    std::string seed_dataset;        // seed examples: this dataset's task texts ...
    std::string seed_file;           // ... or a JSON file: an array of strings or of objects with "query"
    std::vector<int64_t> seed_tasks; // ... or these tasks' texts, in this order (a selection in the task browser)
    int examples = 3;                // seed examples per request
    int per_round = 5;               // queries asked per round
    // images
    std::string image_pool;          // a folder of images with captions (captions.json, or <image>.txt beside each)
    std::string embeddings_endpoint; // "http://host:port/v1" (/embeddings appended); empty: local or lexical
    std::string embeddings_model;    // the endpoint's model name
    std::string caption_model_dir;   // recorded: the local captioner's folder (local.captioner does the work)
    std::string embeddings_model_dir;  // recorded: the local embedder's folder (local.embedder)
    SynthLocalModels local;          // made by the front end (core/synth/local/local_models.h); not in to_json
    // trajectories
    std::vector<std::string> tools;  // offered to the agent (empty: all)
    int max_steps = 8;
    agent::SandboxOptions sandbox;   // files and trajectories; work_dir: default <project>.runs/synth-<dataset>

    nlohmann::json to_json() const;  // recorded with the outputs (no key)
};

struct SynthItemReport {
    std::string stage, item_key;
    int64_t task_id = 0;
    std::string status;  // done | rejected | failed (infrastructure: left pending)
    int n_out = 0, n_rejected = 0;
    std::string reason;  // rejected / failed: why
    int done = 0, total = 0;  // this run's progress
    double elapsed_s = 0, eta_s = -1;
};

struct SynthEvents {
    std::function<void(const SynthItemReport&)> on_item;
    std::function<void(const std::string&)> on_note;
};

struct StageOutcome {
    std::string status;  // finished | paused (budget) | cancelled
    int units = 0;       // pending when the run started (after --limit)
    int done = 0, rejected = 0, failed = 0;
    int64_t paid_tokens = 0;  // all stages of the dataset, at the end
    int64_t refused_tokens = 0;  // paused: the bound of the request that did not fit
    std::string note;
};

// Runs (or resumes) one stage. An error only for what stops the whole stage (no endpoint, unreadable seed file,
// a store failure); everything about one unit is in the reports.
Result<StageOutcome> run_stage(const std::string& db_path, const SynthSettings& settings, const SynthEvents& events = {},
                               const std::atomic<bool>* cancel = nullptr);

// Prices per million tokens, by model ("*" for any model not named), from the project setting "synth.prices":
// {"MODEL": {"prompt": 0.5, "completion": 1.5}}.
struct Price {
    double prompt = 0, completion = 0;
};
Result<std::map<std::string, Price>> synth_prices(store::Database& db);
Status set_synth_price(store::Database& db, const std::string& model, const Price& price);

struct StageUsage {
    std::string stage, model;
    int64_t requests = 0, cached_requests = 0;  // cached: answered by the request cache (not paid)
    int64_t prompt_tokens = 0, completion_tokens = 0;  // paid requests only
    double cost = 0;
};
struct StageStatus {
    std::string stage;
    int64_t in = 0;        // units finished (done + rejected)
    int64_t out = 0;       // outputs made
    int64_t rejected = 0;  // outputs or units rejected
    int64_t pending = 0;   // units waiting for this stage now (queries: 0)
    std::map<std::string, int64_t> reasons;  // rejection reason -> count
    // images: how units were made -> count: "ranked by <embeddings endpoint / local embedder / lexical fallback>",
    // "caption from <the pool / the local captioner>"
    std::map<std::string, int64_t> methods;
    std::vector<StageUsage> usage;           // by model
    int64_t prompt_tokens = 0, completion_tokens = 0, requests = 0, cached_requests = 0;
    double cost = 0;
};
struct SynthStatus {
    std::string dataset;
    int64_t dataset_id = 0;
    std::vector<StageStatus> stages;  // in pipeline order
    int64_t paid_tokens = 0;
    double cost = 0;
};
Result<SynthStatus> synth_status(store::Database& db, const std::string& dataset);

// The task ids behind a stage's count (for the task browser): "in", "out" (done), "rejected", "pending".
Result<std::vector<int64_t>> synth_stage_tasks(store::Database& db, const std::string& dataset, const std::string& stage,
                                               const std::string& which);

// The items behind a stage's count, for the Synthesis dock's drill-down (at most `limit`): "rejected" lists every
// rejected output with its reason (a rejected query never became a task: task_id 0, its text from the detail);
// the other counts list synth_stage_tasks' tasks with the stage's status for each ("pending" when the stage has no
// item for it yet) and the reasons recorded against it.
struct SynthItemDetail {
    int64_t task_id = 0;
    std::string query, status, reason;
};
Result<std::vector<SynthItemDetail>> synth_stage_items(store::Database& db, const std::string& dataset,
                                                       const std::string& stage, const std::string& which,
                                                       size_t limit = 1000);

}  // namespace matrix::synth
