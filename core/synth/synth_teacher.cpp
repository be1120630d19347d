// The teacher's requests with their accounting, unit bookkeeping and the helpers the stages share
// (see synth_context.h).
#include <filesystem>
#include <sstream>

#include "core/agent/tool.h"
#include "core/store/fts.h"
#include "core/store/media_repo.h"
#include "core/store/task_repo.h"
#include "core/synth/synth_context.h"

namespace matrix::synth::detail {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
const char* const k_budget_tag = "synth:budget";
const char* const k_cancel_tag = "synth:cancelled";
const char* const k_infra_tag = "synth:infrastructure";

uint64_t fnv1a(const std::string& s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}
}  // namespace

Error budget_error() { return Error{"the token budget is spent", k_budget_tag}; }
Error cancelled_error() { return Error{"cancelled", k_cancel_tag}; }
bool is_budget_error(const Error& e) { return e.context == k_budget_tag; }
bool is_cancelled_error(const Error& e) { return e.context == k_cancel_tag; }
bool is_infrastructure(const Error& e) {
    return e.context.rfind(k_infra_tag, 0) == 0 || agent::is_infrastructure_error(e);
}

int64_t unit_seed(const Job& job, const std::string& item_key, int request) {
    return static_cast<int64_t>((static_cast<uint64_t>(job.s.seed) * 1000003ull + fnv1a(item_key) +
                                 static_cast<uint64_t>(request) * 7919ull) & 0x7fffffffull);
}

Status record_usage(Job& job, store::Database& db, const std::string& stage, const std::string& model,
                    const std::string& item_key, const std::string& kind, int64_t prompt_tokens,
                    int64_t completion_tokens, bool cached) {
    MATRIX_TRY(store::Statement st, db.prepare("INSERT INTO synth_usage(dataset_id, stage, model, item_key, kind, "
                                               "prompt_tokens, completion_tokens, cached) VALUES(?,?,?,?,?,?,?,?)"));
    st.bind_all(job.dataset_id, stage, model, item_key, kind, prompt_tokens, completion_tokens, int64_t(cached ? 1 : 0));
    MATRIX_CHECK(st.run());
    if (!cached) job.paid_tokens += prompt_tokens + completion_tokens;
    return {};
}

namespace {
// Whether the request cache holds the answer (the key as ChatClient computes it): such a request is not paid, so
// it reserves nothing against the budget.
bool answered_by_cache(Job& job, const net::ChatRequest& request, int sample_index) {
    if (!job.cache) return false;
    auto body = net::build_chat_body(request, job.s.model);
    if (!body.ok()) return false;
    auto hit = job.cache->find(net::request_cache_key(job.client->endpoint(), net::canonical_request(*body), sample_index));
    return hit.ok() && hit->has_value();
}
}  // namespace

Result<net::ChatResponse> teacher_call(Job& job, store::Database& db, const std::string& stage,
                                       const std::string& item_key, const net::ChatRequest& given, int sample_index) {
    if (job.cancelled()) return cancelled_error();
    if (job.budget_hit.load()) return budget_error();
    net::ChatRequest request = given;
    if (!request.max_tokens) request.max_tokens = job.s.max_tokens;  // the completion's bound holds
    BudgetReservation reservation;
    if (job.s.budget_tokens > 0 && !answered_by_cache(job, request, sample_index)) {
        MATRIX_TRY(reservation, reserve_budget(job, chat_tokens_bound(request, job.s.max_tokens)));
    }
    net::CallOptions opt;
    opt.cancel = job.cancel;
    opt.sample_index = sample_index;
    auto reply = job.client->complete(request, opt);
    if (!reply.ok()) {
        const net::ChatError& e = reply.error();
        if (e.kind == net::ErrorKind::cancelled) return cancelled_error();
        Error err = e.to_error();
        if (e.infrastructure()) err.context = std::string(k_infra_tag) + " " + err.context;
        return err;
    }
    const net::ChatResponse& r = reply.value();
    MATRIX_CHECK(record_usage(job, db, stage, request.model.empty() ? job.s.model : request.model, item_key, "chat",
                              r.usage.prompt_tokens, r.usage.completion_tokens, r.from_cache));
    return std::move(reply).value();
}

Result<std::string> ask_teacher(Job& job, store::Database& db, const std::string& stage, const std::string& item_key,
                                const SynthPrompt& prompt, const std::map<std::string, std::string>& values,
                                int request_index, const std::vector<std::string>& images) {
    MATRIX_TRY(std::string user, fill_prompt(prompt.user, values));
    MATRIX_TRY(std::string system, fill_prompt(prompt.system, values));
    net::ChatRequest req;
    req.model = job.s.model;
    if (!system.empty()) req.messages.push_back(net::ChatMessage::text("system", system));
    net::ChatMessage u = net::ChatMessage::text("user", user);
    for (const std::string& i : images) u.content.push_back(net::ContentPart::make_image(i));
    req.messages.push_back(std::move(u));
    req.temperature = job.s.temperature;
    req.max_tokens = job.s.max_tokens;
    req.seed = unit_seed(job, item_key, request_index);
    MATRIX_TRY(net::ChatResponse r, teacher_call(job, db, stage, item_key, req));
    if (r.choices.empty()) return make_error("the endpoint gave no choice", job.s.endpoint);
    return r.choices.front().content;
}

Status record_unit(Job& job, store::Database& db, const std::string& stage, const Unit& unit, const UnitResult& r) {
    MATRIX_TRY(store::Statement st,
               db.prepare("INSERT INTO synth_items(dataset_id, stage, item_key, task_id, status, n_out, n_rejected, "
                          "reason, model, prompt_name, prompt_sha256, seed, output) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    std::optional<int64_t> task;
    if (unit.task_id) task = unit.task_id;
    std::optional<std::string> reason;
    if (!r.reason.empty()) reason = r.reason;
    st.bind_all(job.dataset_id, stage, unit.key, task, r.status, int64_t(r.n_out), int64_t(r.n_rejected), reason,
                job.s.model, r.prompt_name, r.prompt_sha256, r.seed, r.output.dump());
    MATRIX_CHECK(st.run());
    for (const auto& [rej, task_id] : r.rejects) {
        MATRIX_TRY(store::Statement ins, db.prepare("INSERT INTO synth_rejects(dataset_id, stage, item_key, task_id, "
                                                    "reason, detail) VALUES(?,?,?,?,?,?)"));
        std::optional<int64_t> t;
        if (task_id) t = task_id;
        else if (unit.task_id) t = unit.task_id;
        ins.bind_all(job.dataset_id, stage, unit.key, t, rej.reason, rej.detail);
        MATRIX_CHECK(ins.run());
    }
    return {};
}

std::string tools_text(const std::vector<std::string>& names) {
    std::ostringstream out;
    for (const agent::ToolSpec& s : agent::matrix_tool_specs()) {
        if (!names.empty() && std::find(names.begin(), names.end(), s.name) == names.end()) continue;
        out << "- " << s.name << "(";
        for (size_t i = 0; i < s.params.size(); ++i) out << (i ? ", " : "") << s.params[i].name;
        out << "): " << s.description << "\n";
    }
    return out.str();
}

json task_synth(store::Database& db, int64_t task_id) {
    auto st = db.prepare("SELECT extra FROM tasks WHERE id=?");
    if (!st.ok()) return json::object();
    st->bind_all(task_id);
    auto row = st->step();
    if (!row.ok() || !*row) return json::object();
    const json extra = json::parse(st->column_text(0), nullptr, false);
    if (!extra.is_object() || !extra.contains("synth") || !extra["synth"].is_object()) return json::object();
    return extra["synth"];
}

Status write_task_text(store::Database& db, int64_t task_id, const std::string& query) {
    store::MediaRepo media(db);
    MATRIX_TRY(auto links, media.for_task(task_id));
    std::string pictures, attachments;
    int k = 0;
    for (const auto& l : links) {
        if (l.role == "image") pictures += "Picture " + std::to_string(++k) + ": <img>" + l.media.path + "</img>\n";
        if (l.role == "image" || l.role == "attachment") attachments += l.media.path + "; ";
    }
    std::string prompt = pictures + "Task: " + query + "\n";
    if (!attachments.empty()) prompt = pictures + "Task: " + query + "\nAttachment: " + attachments;
    MATRIX_TRY(store::FtsDoc old, store::fts_doc_for_task(db, task_id));
    MATRIX_TRY(store::Statement up, db.prepare("UPDATE tasks SET query=?, prompt_text=? WHERE id=?"));
    up.bind_all(query, prompt, task_id);
    MATRIX_CHECK(up.run());
    MATRIX_CHECK(store::fts_reindex_task(db, task_id, &old));
    store::TaskRepo tasks(db);
    return tasks.refresh_counters(task_id);
}

std::string TeacherController::describe() const {
    return "synthesis teacher: endpoint " + m_job.client->endpoint() + " model " + m_job.s.model;
}

Result<std::vector<agent::Candidate>> TeacherController::generate(const std::vector<tok::ChatMessage>& messages,
                                                                  const agent::GenerationSettings& settings,
                                                                  const std::atomic<bool>* cancel) {
    (void)cancel;  // the job's cancel flag is the one polled (teacher_call)
    net::ChatRequest req;
    req.model = m_job.s.model;
    for (const tok::ChatMessage& m : messages) {
        net::ChatMessage out{m.role, {}};
        for (const tok::ContentPart& p : m.content) {
            if (p.kind == tok::ContentPart::Kind::Text) out.content.push_back(net::ContentPart::make_text(p.text));
            else if (p.kind == tok::ContentPart::Kind::Image && !p.path.empty())
                out.content.push_back(net::ContentPart::make_image(p.path));
            else return make_error("an image part without a file cannot be sent to the teacher");
        }
        req.messages.push_back(std::move(out));
    }
    req.max_tokens = settings.max_new_tokens;
    req.stop = settings.stop;
    req.temperature = m_job.s.temperature;
    // Seeded by the step (the assistant turns so far): a resumed task asks the same request for the same step.
    int step = 0;
    for (const tok::ChatMessage& m : messages) step += m.role == "assistant";
    req.seed = unit_seed(m_job, m_item, step);
    ++m_calls;
    auto r = teacher_call(m_job, m_db, "trajectories", m_item, req);
    if (!r.ok()) {
        if (is_infrastructure(r.error()) || is_budget_error(r.error()) || is_cancelled_error(r.error()))
            return agent::infrastructure_error(r.error().to_string());
        return r.error();
    }
    std::vector<agent::Candidate> out;
    for (const net::ChatChoice& c : r->choices)
        out.push_back({agent::cut_at_stop(c.content, settings.stop), c.finish_reason, r->usage.completion_tokens});
    if (out.empty()) return make_error("the teacher gave no choice", m_job.s.endpoint);
    return out;
}

}  // namespace matrix::synth::detail
