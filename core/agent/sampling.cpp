// Step-wise Pref-X sampling (see sampling.h).
#include "core/agent/sampling.h"

#include <chrono>
#include <mutex>
#include <thread>

#include "core/agent/agent_loop.h"
#include "core/conversation/action.h"
#include "core/conversation/observation.h"
#include "core/conversation/prefx_history.h"
#include "core/conversation/steps.h"
#include "core/conversation/user_prompt.h"
#include "core/store/dataset_repo.h"
#include "core/store/pair_repo.h"
#include "core/store/project.h"
#include "core/store/run_repo.h"
#include "core/store/sampled_pair_repo.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"

namespace matrix::agent {

namespace {

constexpr const char* k_tool_name = "code interpreter";  // the reference's tool_call_j.tool_name

uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::string answer_text_of(const ExecResult& e) {
    if (!e.final_answer_text.empty()) return e.final_answer_text;
    if (e.final_answer.is_string()) return e.final_answer.get<std::string>();
    if (e.final_answer.is_null()) return "None";
    return e.final_answer.dump();
}

// One candidate of a step after it ran (or failed to parse).
struct RanCandidate {
    std::string text;
    conversation::ParsedAction parsed;
    std::optional<std::string> format_problem;
    std::optional<ExecResult> exec;
    int fork = -1;               // its index in explore()'s input, -1 when not run
    std::string observation;     // the reference's observation_j
    bool is_error = false, is_final = false;
    std::string answer_text;
};

Result<std::vector<Candidate>> generate_with_retries(Controller& controller, const std::vector<tok::ChatMessage>& messages,
                                                     const GenerationSettings& g, const LoopSettings& loop,
                                                     const std::atomic<bool>* cancel) {
    double backoff = loop.retry_backoff_s;
    for (int attempt = 0;; ++attempt) {
        auto r = controller.generate(messages, g, cancel);
        if (r.ok() || !is_infrastructure_error(r.error()) || attempt >= loop.infrastructure_retries) return r;
        const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(int64_t(backoff * 1000));
        while (std::chrono::steady_clock::now() < until && !(cancel && cancel->load()))
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (cancel && cancel->load()) return r;
        backoff *= 2;
    }
}

Result<int64_t> count_task_pairs(store::Database& db, int64_t run_id, int64_t task_id) {
    MATRIX_TRY(store::Statement st, db.prepare("SELECT count(*) FROM sampled_pairs s JOIN pairs p ON p.id=s.pair_id "
                                               "WHERE s.run_id=? AND p.task_id=?"));
    st.bind_all(run_id, task_id);
    MATRIX_TRY(bool row, st.step());
    return row ? st.column_int64(0) : int64_t(0);
}

// Serialises calls to a model shared by workers.
class LockedController : public Controller {
public:
    LockedController(Controller& c, std::mutex& m) : m_c(c), m_m(m) {}
    std::string describe() const override { return m_c.describe(); }
    Result<std::vector<Candidate>> generate(const std::vector<tok::ChatMessage>& messages, const GenerationSettings& s,
                                            const std::atomic<bool>* cancel) override {
        std::lock_guard<std::mutex> lock(m_m);
        return m_c.generate(messages, s, cancel);
    }

private:
    Controller& m_c;
    std::mutex& m_m;
};
class LockedVerifier : public StepVerifier {
public:
    LockedVerifier(StepVerifier& v, std::mutex& m) : m_v(v), m_m(m) {}
    std::string describe() const override { return m_v.describe(); }
    Result<VerifierVerdict> rank(const VerifierRequest& r, const std::atomic<bool>* cancel) override {
        std::lock_guard<std::mutex> lock(m_m);
        return m_v.rank(r, cancel);
    }

private:
    StepVerifier& m_v;
    std::mutex& m_m;
};

}  // namespace

// ---- one task ------------------------------------------------------------------------------------------------

Result<TaskSampleOutcome> sample_task(store::Database& db, int64_t run_id, int64_t task_id, Controller& controller,
                                      StepVerifier& verifier, const ToolRegistry& tools, const SamplingSettings& settings,
                                      const SamplingEvents& events, const std::atomic<bool>* cancel) {
    auto note = [&](const std::string& s) {
        if (events.on_note) events.on_note(task_id, s);
    };
    const int k = settings.k();
    if (k < 2) return make_error("step sampling needs at least 2 candidates per step");
    store::TrajectoryRepo trajectories(db);
    TaskSampleOutcome outcome;

    std::vector<store::Step> steps;
    nlohmann::json traj_extra = nlohmann::json::object();
    MATRIX_TRY(auto existing, trajectories.list_for_run(run_id));
    for (const store::Trajectory& t : existing) {
        if (t.task_id != task_id) continue;
        outcome.trajectory_id = t.id;
        traj_extra = nlohmann::json::parse(t.extra.value_or("{}"), nullptr, false);
        if (!traj_extra.is_object()) traj_extra = nlohmann::json::object();
        const std::string status = traj_extra.value("status", "running");
        if (status == "finished" || status == "skipped") {
            outcome.already_finished = true;
            outcome.status = status;
            outcome.stop_reason = traj_extra.value("stop_reason", "");
            outcome.final_answer = t.final_answer.value_or("");
            outcome.steps = t.n_steps;
            outcome.errors = traj_extra.value("errors", 0);
            outcome.dropped = traj_extra.value("dropped", std::vector<std::string>{});
            MATRIX_TRY(int64_t n, count_task_pairs(db, run_id, task_id));
            outcome.pairs = static_cast<int>(n);
            return outcome;
        }
        MATRIX_TRY(auto full, trajectories.get(t.id, true));
        if (full) steps = full->steps;
    }

    MATRIX_TRY(PreparedTask prepared, prepare_task(db, task_id, settings.agent.system_prompt));
    for (const std::string& m : prepared.missing) note("file not found, the task goes on without it: " + m);
    // The images the model gets, as the task writes them (Pref-X's "images", in the task's order).
    std::vector<std::string> images_written;
    for (const std::string& resolved : prepared.task.images)
        for (const auto& [r, written] : prepared.files)
            if (r == resolved) {
                images_written.push_back(written);
                break;
            }
    std::string beam_task = prepared.task.task_text;
    if (beam_task.rfind("Task: ", 0) == 0) beam_task = beam_task.substr(6);

    if (outcome.trajectory_id == 0) {
        store::Trajectory t;
        t.task_id = task_id;
        t.source = "sample";
        t.run_id = run_id;
        traj_extra = {{"status", "running"}, {"beam_task", beam_task}, {"image_paths", images_written}};
        t.extra = traj_extra.dump();
        MATRIX_TRY(outcome.trajectory_id, trajectories.insert(t));
    }
    outcome.resumed_steps = static_cast<int>(steps.size());
    if (!steps.empty()) note("resuming after " + std::to_string(steps.size()) + " stored steps");

    // Where the pairs go, and their shared parts.
    MATRIX_TRY(auto pairs_dataset, store::DatasetRepo(db).find_or_create(settings.pairs_dataset.empty() ? "sampled" : settings.pairs_dataset, "prefx"));
    MATRIX_TRY(int64_t system_id, store::intern_system_prompt(db, prepared.task.system_prompt));
    const std::string images_json = nlohmann::json(images_written).dump();
    const std::string task_turn = conversation::prefx_task_turn(images_written.size(), prepared.task.task_text);

    int current_step = static_cast<int>(steps.size());
    MATRIX_TRY(auto sandbox, start_task_sandbox(prepared, settings.agent, tools, &current_step));
    note("sandbox: " + sandbox->isolation());
    // Resume: the chosen steps' code runs again to rebuild the interpreter state.
    for (const store::Step& s : steps) {
        if (s.is_error) ++outcome.errors;
        const auto extra = nlohmann::json::parse(s.extra.value_or("{}"), nullptr, false);
        const bool kept = extra.is_object() ? extra.value("state_kept", true) : true;
        if (!s.code.empty() && kept && !s.is_final) {
            auto replayed = sandbox->execute(s.code, s.idx);
            if (!replayed.ok()) return replayed.error().within("replaying step " + std::to_string(s.idx));
        }
    }
    const std::string beam_folder = beam_task_folder(settings, task_id, prepared.task_key);
    const LoopSettings& loop = settings.agent.loop;
    std::string stop_reason, final_answer;
    bool skipped = false;
    if (!steps.empty() && steps.back().is_final) {
        stop_reason = "final_answer";
        const auto extra = nlohmann::json::parse(steps.back().extra.value_or("{}"), nullptr, false);
        if (extra.is_object()) final_answer = extra.value("answer_text", "");
    }
    if (traj_extra.contains("dropped")) outcome.dropped = traj_extra["dropped"].get<std::vector<std::string>>();

    while (stop_reason.empty()) {
        if (cancel && cancel->load()) {
            stop_reason = "cancelled";
            break;
        }
        const int i = static_cast<int>(steps.size());
        if (i >= loop.max_steps) {
            stop_reason = "max_steps";
            break;
        }
        if (outcome.errors >= loop.max_errors) {
            stop_reason = "max_errors";
            break;
        }
        current_step = i;
        GenerationSettings g = loop.generation;
        g.seed = step_seed(loop.generation.seed, task_id, i);
        g.exact_seed = true;
        auto generated = generate_with_retries(controller, agent_prompt(prepared.task, steps), g, loop, cancel);
        if (!generated.ok()) {
            if (cancel && cancel->load()) {
                stop_reason = "cancelled";
                break;
            }
            return generated.error().within("task " + std::to_string(task_id) + ", step " + std::to_string(i));
        }
        if (static_cast<int>(generated->size()) != k)
            return make_error("the controller gave " + std::to_string(generated->size()) + " candidates, expected " +
                              std::to_string(k), "task " + std::to_string(task_id) + ", step " + std::to_string(i));

        // Run every candidate that has code from its own fork of the current state.
        std::vector<RanCandidate> cands(static_cast<size_t>(k));
        std::vector<std::string> codes;
        for (int j = 0; j < k; ++j) {
            RanCandidate& c = cands[size_t(j)];
            c.text = (*generated)[size_t(j)].text;
            c.parsed = conversation::parse_action(c.text);
            c.format_problem = action_format_problem(c.parsed);
            if (!c.format_problem) {
                c.fork = static_cast<int>(codes.size());
                codes.push_back(c.parsed.code);
            }
        }
        std::vector<ExecResult> ran;
        if (!codes.empty()) {
            MATRIX_TRY(ran, sandbox->explore(codes, i));
        }
        for (RanCandidate& c : cands) {
            if (c.format_problem) {
                c.is_error = true;
                c.observation = std::string(conversation::k_parsing_error_prefix) + *c.format_problem;
                continue;
            }
            c.exec = ran[size_t(c.fork)];
            const ExecResult& e = *c.exec;
            if (e.is_final) {
                c.is_final = true;
                c.answer_text = answer_text_of(e);
                c.observation = e.output.empty() ? "Final Answer: " + c.answer_text : e.output;
            } else if (e.error) {
                c.is_error = true;
                c.observation = conversation::execution_error(*e.error);
            } else {
                c.observation = e.output.empty() ? std::string(k_no_output_note) : e.output;
            }
        }

        // A broken server behind a tool: MATRIX skips the whole task.
        bool server_error = false;
        for (const RanCandidate& c : cands) server_error |= formats::is_server_error(c.observation);
        if (server_error) {
            if (!codes.empty()) MATRIX_CHECK(sandbox->discard());
            store::Transaction tx(db);
            MATRIX_CHECK(tx.begin_status());
            MATRIX_TRY(store::Statement del, db.prepare("DELETE FROM pairs WHERE task_id=?2 AND id IN (SELECT pair_id FROM "
                                                        "sampled_pairs WHERE run_id=?1)"));
            del.bind_all(run_id, task_id);
            MATRIX_CHECK(del.run());
            MATRIX_CHECK(tx.commit());
            note("step " + std::to_string(i) + ": a candidate's observation shows a server error; the task is skipped");
            stop_reason = "server_error";
            skipped = true;
            break;
        }

        // The verifier picks the best candidate.
        VerifierRequest request;
        request.task = prepared.task.task_text;
        for (const store::Step& s : steps) request.previous_observations.push_back(s.observation.value_or(""));
        for (const RanCandidate& c : cands) request.candidates.push_back({c.text, c.observation});
        request.seed = splitmix64(g.seed);
        auto verdict = verifier.rank(request, cancel);
        if (!verdict.ok()) {
            if (!codes.empty()) MATRIX_CHECK(sandbox->discard());
            if (cancel && cancel->load()) {
                stop_reason = "cancelled";
                break;
            }
            const std::string why = "step " + std::to_string(i) + ": verifier failed, step dropped: " + verdict.error().to_string();
            note(why);
            outcome.dropped.push_back(why);
            stop_reason = "verifier_failed";
            break;
        }
        const int best = verdict->best;
        RanCandidate& chosen = cands[size_t(best)];
        bool state_kept = false;
        if (!codes.empty()) {
            if (chosen.fork >= 0 && chosen.exec->keeps_state()) {
                MATRIX_CHECK(sandbox->choose(size_t(chosen.fork)));
                state_kept = true;
            } else {
                MATRIX_CHECK(sandbox->discard());
            }
        }

        // The step record: the chosen action as the trajectory's step, every candidate kept.
        store::Step step = conversation::step_from_action(i, chosen.text);
        step.action = chosen.text;
        nlohmann::json finish = nlohmann::json::array();
        for (const Candidate& c : *generated) finish.push_back(c.finish_reason);
        nlohmann::json extra = {{"step number", i + 1},     {"beam_size", k},
                                {"best_step_idx", std::to_string(best)}, {"rank_reason", verdict->reason},
                                {"seed", g.seed},           {"verifier_reply", verdict->raw},
                                {"finish_reasons", finish}, {"state_kept", state_kept}};
        if (chosen.is_final) {
            step.is_final = true;
            extra["final_answer"] = chosen.exec->final_answer;
            extra["answer_text"] = chosen.answer_text;
            if (!chosen.exec->output.empty()) extra["printed"] = chosen.exec->output;
        } else if (chosen.is_error) {
            step.is_error = true;
            step.observation = conversation::with_retry_suffix(chosen.observation);
        } else {
            step.observation = chosen.observation;
        }
        if (chosen.exec) {
            extra["seconds"] = chosen.exec->seconds;
            extra["tool_calls"] = chosen.exec->tool_calls;
            if (chosen.exec->timed_out) extra["timed_out"] = true;
            if (chosen.exec->crashed) extra["crashed"] = true;
        }
        step.extra = extra.dump();
        for (int j = 0; j < k; ++j) {
            const RanCandidate& c = cands[size_t(j)];
            store::StepCandidate sc;
            sc.position = j;
            sc.action = c.text;
            sc.rationale = c.format_problem && !c.parsed.has_code ? c.text : c.parsed.rationale;
            nlohmann::ordered_json call;
            call["tool_name"] = k_tool_name;
            call["tool_arguments"] = c.parsed.has_code ? c.parsed.code : c.text;
            sc.tool_call = call.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
            sc.observation = c.observation;
            sc.is_best = j == best;
            step.candidates.push_back(std::move(sc));
        }

        // The pairs of this step: chosen = best, rejected = MATRIX's selection of the others.
        std::vector<std::string> actions, observations;
        for (const RanCandidate& c : cands) {
            actions.push_back(c.text);
            observations.push_back(c.observation);
        }
        const std::vector<formats::RejectedCandidate> rejected = formats::select_rejected(actions, observations, best, settings.rules);
        nlohmann::json history = nlohmann::json::array();
        history.push_back({{"from", "human"}, {"value", task_turn}});
        for (const store::Step& s : steps)
            conversation::append_prefx_step(history, conversation::with_end_action(conversation::step_action(s)),
                                            conversation::observation_turn(s).value_or(""));
        int step_pairs = 0;
        {
            store::Transaction tx(db);
            MATRIX_CHECK(tx.begin_status());
            MATRIX_CHECK(trajectories.append_steps(outcome.trajectory_id, {step}));
            MATRIX_TRY(store::Statement sid, db.prepare("SELECT id FROM steps WHERE trajectory_id=? AND idx=?"));
            sid.bind_all(outcome.trajectory_id, int64_t(i));
            MATRIX_TRY(bool found, sid.step());
            if (!found) return make_error("the stored step is missing", "task " + std::to_string(task_id));
            const int64_t step_id = sid.column_int64(0);
            sid.reset();
            if (!rejected.empty()) {
                store::PairRepo pairs(db);
                store::SampledPairRepo links(db);
                store::PairPrefix prefix;
                prefix.system_prompt_id = system_id;
                prefix.images = images_json;
                prefix.history = history.dump();
                MATRIX_TRY(int64_t prefix_id, pairs.intern_prefix(prefix));
                MATRIX_TRY(int64_t ordinal, db.query_int64("SELECT COALESCE(max(ordinal)+1, 0) FROM pairs WHERE dataset_id=" +
                                                           std::to_string(pairs_dataset.id)));
                for (const formats::RejectedCandidate& r : rejected) {
                    const RanCandidate& c = cands[size_t(r.candidate)];
                    store::Pair p;
                    p.dataset_id = pairs_dataset.id;
                    p.prefix_id = prefix_id;
                    p.task_id = task_id;
                    p.step_index = i;
                    p.record_key = "run" + std::to_string(run_id) + ":task" + std::to_string(task_id) + ":" +
                                   std::to_string(i) + ":" + std::to_string(r.candidate);
                    p.ordinal = ordinal++;
                    p.chosen_action = conversation::with_end_action(chosen.text);
                    p.chosen_observation = chosen.observation;
                    p.rejected_action = conversation::with_end_action(c.text);
                    p.rejected_observation = c.observation;
                    p.origin = "sampled";
                    p.extra = nlohmann::json{{"run_id", run_id},
                                             {"bleu", r.bleu},
                                             {"rule", r.rule},
                                             {"format_error", r.format_error},
                                             {"error_observation", r.error_observation},
                                             {"candidate", r.candidate},
                                             {"chosen_candidate", best}}
                                  .dump();
                    MATRIX_TRY(int64_t pair_id, pairs.insert(p));
                    store::SampledPairLink link;
                    link.pair_id = pair_id;
                    link.run_id = run_id;
                    link.step_id = step_id;
                    link.candidate = r.candidate;
                    link.chosen_candidate = best;
                    link.verifier_reason = verdict->reason;
                    link.rule = r.rule;
                    link.bleu = r.bleu;
                    MATRIX_CHECK(links.insert(link));
                    ++step_pairs;
                }
            }
            MATRIX_CHECK(tx.commit());
        }
        if (step.is_error) ++outcome.errors;
        steps.push_back(step);
        MATRIX_CHECK(write_beam_record(db, outcome.trajectory_id, beam_folder));
        if (events.on_step) events.on_step(task_id, step, step_pairs);
        if (step.is_final) {
            stop_reason = "final_answer";
            final_answer = chosen.answer_text;
        }
    }

    outcome.steps = static_cast<int>(steps.size());
    outcome.stop_reason = stop_reason;
    outcome.final_answer = final_answer;
    outcome.status = stop_reason == "cancelled" ? "cancelled" : skipped ? "skipped" : "finished";
    MATRIX_TRY(int64_t n_pairs, count_task_pairs(db, run_id, task_id));
    outcome.pairs = static_cast<int>(n_pairs);
    traj_extra["status"] = outcome.status == "cancelled" ? "running" : outcome.status;
    traj_extra["stop_reason"] = stop_reason;
    traj_extra["steps"] = outcome.steps;
    traj_extra["errors"] = outcome.errors;
    traj_extra["pairs"] = outcome.pairs;
    traj_extra["dropped"] = outcome.dropped;
    traj_extra["isolation"] = sandbox->isolation();
    traj_extra["resumed_steps"] = outcome.resumed_steps;
    if (!prepared.missing.empty()) traj_extra["missing_files"] = prepared.missing;
    // The reference's closing element of a rollout that ended without an answer.
    if (stop_reason == "max_steps") traj_extra["beam_error"] = "Reached max iterations.";
    else if (stop_reason == "max_errors")
        traj_extra["beam_error"] = "Reached max execution exception. Max exception tolerance: " + std::to_string(loop.max_errors) + ".";
    else if (stop_reason == "verifier_failed" && !outcome.dropped.empty()) traj_extra["beam_error"] = outcome.dropped.back();
    else traj_extra.erase("beam_error");
    MATRIX_CHECK(trajectories.set_outcome(outcome.trajectory_id,
                                          stop_reason == "final_answer" ? std::optional<std::string>(final_answer) : std::nullopt,
                                          traj_extra.dump()));
    MATRIX_CHECK(write_beam_record(db, outcome.trajectory_id, beam_folder));
    return outcome;
}

// ---- the job -------------------------------------------------------------------------------------------------

Result<SamplingJobOutcome> run_sampling_job(store::Database& db, int64_t run_id, const SamplingSettings& settings,
                                            Controller& controller, StepVerifier& verifier, const ToolRegistry& tools,
                                            const SamplingEvents& events, const std::atomic<bool>* cancel,
                                            bool thread_safe_models) {
    store::RunRepo runs(db);
    MATRIX_CHECK(runs.set_status(run_id, "running"));
    const auto& ids = settings.agent.task_ids;
    const int64_t total = static_cast<int64_t>(ids.size());
    SamplingJobOutcome job;
    std::vector<std::optional<TaskSampleOutcome>> results(ids.size());
    std::mutex event_mutex, model_mutex;
    std::optional<Error> failure;
    int64_t done = 0, done_here = 0;
    const auto started = std::chrono::steady_clock::now();
    auto report = [&](size_t index, const TaskSampleOutcome& out) {
        std::lock_guard<std::mutex> lock(event_mutex);
        results[index] = out;
        if (events.on_task_done) events.on_task_done(ids[index], out);
        if (out.status == "cancelled") return;
        ++done;
        if (!out.already_finished) ++done_here;
        if (events.on_progress) {
            const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
            const double eta = done_here > 0 ? elapsed / double(done_here) * double(total - done) : -1.0;
            events.on_progress(done, total, eta);
        }
    };
    SamplingEvents inner = events;
    auto guard = [&](auto f) {
        return [&, f](auto&&... a) {
            std::lock_guard<std::mutex> lock(event_mutex);
            f(a...);
        };
    };
    if (events.on_task_start) inner.on_task_start = guard(events.on_task_start);
    if (events.on_step) inner.on_step = guard(events.on_step);
    if (events.on_note) inner.on_note = guard(events.on_note);
    inner.on_task_done = {};
    inner.on_progress = {};

    const int workers = std::max(1, std::min<int>(settings.workers, static_cast<int>(ids.size())));
    if (workers <= 1) {
        for (size_t t = 0; t < ids.size(); ++t) {
            if (inner.on_task_start) inner.on_task_start(ids[t]);
            auto out = sample_task(db, run_id, ids[t], controller, verifier, tools, settings, inner, cancel);
            if (!out.ok()) {
                failure = out.error().within("sampling run " + std::to_string(run_id) + ", task " + std::to_string(ids[t]));
                break;
            }
            report(t, *out);
            if (cancel && cancel->load()) break;
        }
    } else {
        LockedController locked_controller(controller, model_mutex);
        LockedVerifier locked_verifier(verifier, model_mutex);
        Controller& c = thread_safe_models ? controller : static_cast<Controller&>(locked_controller);
        StepVerifier& v = thread_safe_models ? verifier : static_cast<StepVerifier&>(locked_verifier);
        std::atomic<size_t> next{0};
        std::atomic<bool> stop{false};
        std::vector<std::thread> threads;
        for (int w = 0; w < workers; ++w) {
            threads.emplace_back([&] {
                auto project = store::Project::open(db.path());
                if (!project.ok()) {
                    std::lock_guard<std::mutex> lock(event_mutex);
                    if (!failure) failure = project.error();
                    stop = true;
                    return;
                }
                for (;;) {
                    if (stop.load() || (cancel && cancel->load())) return;
                    const size_t t = next++;
                    if (t >= ids.size()) return;
                    if (inner.on_task_start) inner.on_task_start(ids[t]);
                    auto out = sample_task(project->db(), run_id, ids[t], c, v, tools, settings, inner, cancel);
                    if (!out.ok()) {
                        std::lock_guard<std::mutex> lock(event_mutex);
                        if (!failure)
                            failure = out.error().within("sampling run " + std::to_string(run_id) + ", task " + std::to_string(ids[t]));
                        stop = true;
                        return;
                    }
                    report(t, *out);
                }
            });
        }
        for (std::thread& th : threads) th.join();
    }
    if (failure) {
        (void)runs.set_status(run_id, "failed", failure->to_string());
        return *failure;
    }
    for (size_t t = 0; t < ids.size(); ++t)
        if (results[t]) job.tasks.emplace_back(ids[t], *results[t]);
    MATRIX_TRY(job.pairs, db.query_int64("SELECT count(*) FROM sampled_pairs WHERE run_id=" + std::to_string(run_id)));
    bool all = true;
    for (const auto& r : results) all &= r.has_value() && r->status != "cancelled";
    job.status = all ? "finished" : "cancelled";
    MATRIX_CHECK(runs.set_summary(run_id, nlohmann::json{{"pairs", job.pairs}, {"tasks_done", done}, {"tasks", total}}.dump()));
    MATRIX_CHECK(runs.set_status(run_id, job.status));
    return job;
}

}  // namespace matrix::agent
