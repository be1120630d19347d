// Internal to core/synth: the state a stage's workers share (settings, the teacher's client, the budget, the
// de-duplication set, the image pool, the agent run), the teacher call with its accounting, and the stage
// functions. Not a public header: front ends use synth_job.h.
// Thread safety: Job's members are shared by the workers: atomics, or guarded by `mutex`, or read-only after
// prepare; each worker passes its own Database.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/agent/controller.h"
#include "core/agent/agent_run.h"
#include "core/net/chat_client.h"
#include "core/store/database.h"
#include "core/store/request_cache_repo.h"
#include "core/synth/synth_job.h"
#include "core/synth/synth_prompts.h"
#include "core/synth/teacher_reply.h"

namespace matrix::synth::detail {

// A unit of work of a stage.
struct Unit {
    std::string key;  // "round-<k>" | "task-<id>"
    int64_t task_id = 0;
    int round = -1;
};

// What a finished unit stores (with its side effects, in one transaction).
struct UnitResult {
    std::string status = "done";  // done | rejected
    int n_out = 0, n_rejected = 0;
    std::string reason;            // rejected: the category (+ detail)
    nlohmann::json output = nlohmann::json::object();
    std::vector<std::pair<Rejection, int64_t>> rejects;  // each rejected output (task id or 0)
    std::string prompt_name, prompt_sha256;
    int64_t seed = 0;

    void reject(const Rejection& r, int64_t task_id = 0) {
        status = "rejected";
        reason = r.to_string();
        ++n_rejected;
        rejects.emplace_back(r, task_id);
    }
};

struct ImageEntry {
    std::string path;     // absolute
    std::string caption;
    std::string caption_source = "pool";  // or the local captioner's describe()
    std::vector<double> embedding;  // empty with the lexical fallback
};

struct Job {
    SynthSettings s;
    std::string db_path;
    int64_t dataset_id = 0;
    std::string media_root;  // <project dir>/<stem>.media (the dataset's image root)
    std::string work_root;   // sandboxes of the files stage, the agent run's folder
    std::unique_ptr<net::ChatClient> client;
    std::shared_ptr<store::RequestCacheRepo> cache;
    const std::atomic<bool>* cancel = nullptr;
    std::atomic<int64_t> paid_tokens{0};
    std::atomic<bool> budget_hit{false};
    // Admission control (synth_budget.cpp): tokens reserved by requests in flight, the estimate of the request
    // that did not fit when the job paused; guarded by budget_mutex (budget_cv: a reservation was released).
    std::mutex budget_mutex;
    std::condition_variable budget_cv;
    int64_t reserved_tokens = 0;
    int64_t refused_tokens = 0;
    std::mutex mutex;
    // queries
    std::vector<std::string> seeds;
    std::set<std::string> known_queries;  // normalised texts of every task, and of queries reserved this run
    // images
    std::vector<ImageEntry> pool;
    bool lexical = false;
    bool local_embeddings = false;  // ranked by job.s.local.embedder
    std::string ranking;            // how, as each output says it
    std::vector<std::string> notes; // from preparation, for the front end (events.on_note)
    // trajectories
    int64_t agent_run_id = 0;
    agent::AgentRunSettings run_settings;

    bool cancelled() const { return cancel && cancel->load(); }
};

// Errors that end a unit without a row: tagged in Error::context.
Error budget_error();
Error cancelled_error();
bool is_budget_error(const Error& e);
bool is_cancelled_error(const Error& e);
bool is_infrastructure(const Error& e);  // an endpoint that could not answer

// The token budget's admission control (synth_budget.cpp). Upper bounds of a request's paid tokens: every text
// byte counts as one token (a byte-level BPE token covers at least one byte), each message k_message_overhead_tokens
// more plus its role (the chat template's markers), the reply's priming k_reply_overhead_tokens, each image as
// Qwen2-VL counts it at its default max_pixels (28x28 patches from the image's header, at most 16,384, + 2), and the
// completion max_tokens per choice (default_max_tokens where the request names none). An endpoint whose tokenizer
// or image pricing gives more than this can pass the budget by the difference.
constexpr int64_t k_message_overhead_tokens = 8;
constexpr int64_t k_reply_overhead_tokens = 8;
int64_t chat_tokens_bound(const net::ChatRequest& request, int default_max_tokens);
int64_t embedding_tokens_bound(const std::vector<std::string>& inputs);

// Tokens reserved for one request in flight; released (the budget's waiters woken) when destroyed.
class BudgetReservation {
public:
    BudgetReservation() = default;
    BudgetReservation(Job* job, int64_t tokens) : m_job(job), m_tokens(tokens) {}
    BudgetReservation(BudgetReservation&& o) noexcept;
    BudgetReservation& operator=(BudgetReservation&& o) noexcept;
    BudgetReservation(const BudgetReservation&) = delete;
    BudgetReservation& operator=(const BudgetReservation&) = delete;
    ~BudgetReservation() { release(); }
    void release();

private:
    Job* m_job = nullptr;
    int64_t m_tokens = 0;
};
// Reserves `tokens` (no budget: nothing). While it does not fit it waits for requests in flight; with none in
// flight it marks the job paused (budget_hit, refused_tokens) and returns budget_error(). cancelled_error() when
// the job is cancelled meanwhile.
Result<BudgetReservation> reserve_budget(Job& job, int64_t tokens);

// The seed of a unit's request: from the settings' seed, the unit and the request's position in it.
int64_t unit_seed(const Job& job, const std::string& item_key, int request);

// One chat request as the teacher: checks the budget and the cancel flag, records usage (stage, model, unit,
// tokens, cache hit) in synth_usage on `db` as soon as the reply arrives. An infrastructure error is returned
// as one (is_infrastructure), never as an answer.
Result<net::ChatResponse> teacher_call(Job& job, store::Database& db, const std::string& stage, const std::string& item_key,
                                       const net::ChatRequest& request, int sample_index = 0);
// A prompt's system + filled user part (with images after the text), one answer's text.
Result<std::string> ask_teacher(Job& job, store::Database& db, const std::string& stage, const std::string& item_key,
                                const SynthPrompt& prompt, const std::map<std::string, std::string>& values,
                                int request_index, const std::vector<std::string>& images = {});
// Records a /v1/embeddings request's usage.
Status record_usage(Job& job, store::Database& db, const std::string& stage, const std::string& model,
                    const std::string& item_key, const std::string& kind, int64_t prompt_tokens,
                    int64_t completion_tokens, bool cached);

// Writes the unit's synth_items row and its rejects (inside the caller's transaction).
Status record_unit(Job& job, store::Database& db, const std::string& stage, const Unit& unit, const UnitResult& r);

// The MATRIX tools' names and descriptions, one per line (the prompts' {{tools}}).
std::string tools_text(const std::vector<std::string>& names);

// The task's synthesis record (tasks.extra "synth").
nlohmann::json task_synth(store::Database& db, int64_t task_id);

// The agent's controller during the trajectories stage: the teacher through teacher_call (so its requests are
// accounted and budgeted like every other), for one unit at a time.
class TeacherController : public agent::Controller {
public:
    TeacherController(Job& job, store::Database& db) : m_job(job), m_db(db) {}
    void set_unit(const std::string& item_key) { m_item = item_key; m_calls = 0; }
    std::string describe() const override;
    Result<std::vector<agent::Candidate>> generate(const std::vector<tok::ChatMessage>& messages,
                                                   const agent::GenerationSettings& settings,
                                                   const std::atomic<bool>* cancel = nullptr) override;

private:
    Job& m_job;
    store::Database& m_db;
    std::string m_item;
    int m_calls = 0;
};

// Stage preparation (once, on the main connection) and one unit (on a worker's connection).
Status prepare_queries(Job& job, store::Database& db);
Result<UnitResult> run_query_round(Job& job, store::Database& db, const Unit& unit);
Result<UnitResult> run_files(Job& job, store::Database& db, const Unit& unit);
Status prepare_images(Job& job, store::Database& db);
Result<UnitResult> run_images(Job& job, store::Database& db, const Unit& unit);
Result<UnitResult> run_verify_files(Job& job, store::Database& db, const Unit& unit);
Status prepare_trajectories(Job& job, store::Database& db);
Result<UnitResult> run_trajectory(Job& job, store::Database& db, const Unit& unit, TeacherController& controller,
                                  const agent::ToolRegistry& tools);
Result<UnitResult> run_verify_trajectory(Job& job, store::Database& db, const Unit& unit);

// Rewrites a task's query and first user turn (files and images named as M-TRACE does) and refreshes its
// counters; inside the caller's transaction.
Status write_task_text(store::Database& db, int64_t task_id, const std::string& query);

}  // namespace matrix::synth::detail
