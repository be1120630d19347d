// Step-sampling settings and runs in the store (see sampling.h): the reference's sampling groups, `--set` keys,
// the settings as the run's JSON config, per-step seeds, the run row and its folder.
#include "core/agent/sampling.h"

#include <cctype>
#include <filesystem>

#include "core/agent/agent_run.h"
#include "core/store/dataset_repo.h"
#include "core/store/run_repo.h"

namespace matrix::agent {

namespace fs = std::filesystem;

namespace {

uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

bool parse_bool(const std::string& v) { return v == "1" || v == "true" || v == "yes" || v == "on"; }

}  // namespace

int SamplingSettings::k() const {
    int n = 0;
    for (const SamplingGroup& g : agent.loop.generation.groups) n += g.n;
    return n;
}

void set_candidate_count(SamplingSettings& s, int k) {
    auto& groups = s.agent.loop.generation.groups;
    SamplingGroup first = groups.empty() ? SamplingGroup{} : groups[0];
    SamplingGroup rest = groups.size() > 1 ? groups[1] : SamplingGroup{1, true, 1.2, first.top_p, first.top_k, 1.0};
    first.n = 1;
    rest.n = k - 1;
    groups = {first};
    if (k > 1) groups.push_back(rest);
}

SamplingSettings default_sampling_settings(int k) {
    SamplingSettings s;
    s.agent.name = "sampling run";
    s.agent.loop.max_steps = 8;
    s.agent.loop.max_errors = 5;
    s.agent.loop.forced_final_answer = false;
    s.agent.loop.generation.max_new_tokens = 512;
    s.agent.loop.generation.groups = {SamplingGroup{1, true, 0.7, 0.8, 100, 1.05}, SamplingGroup{4, true, 1.2, 0.8, 100, 1.0}};
    set_candidate_count(s, k);
    return s;
}

nlohmann::json SamplingSettings::to_json() const {
    nlohmann::json j = agent.to_json();
    j["sampling"] = {{"k", k()},
                     {"verifier", verifier},
                     {"dataset", dataset},
                     {"pairs_dataset", pairs_dataset},
                     {"bleu_threshold", rules.bleu_threshold},
                     {"max_error_rejects", rules.max_error_rejects},
                     {"verifier_max_new_tokens", verifier_max_new_tokens},
                     {"workers", workers}};
    return j;
}

Result<SamplingSettings> SamplingSettings::from_json(const nlohmann::json& j) {
    MATRIX_TRY(AgentRunSettings agent, AgentRunSettings::from_json(j));
    SamplingSettings s;
    s.agent = std::move(agent);
    try {
        const auto sj = j.value("sampling", nlohmann::json::object());
        s.verifier = sj.value("verifier", s.verifier);
        s.dataset = sj.value("dataset", "");
        s.pairs_dataset = sj.value("pairs_dataset", "");
        s.rules.bleu_threshold = sj.value("bleu_threshold", s.rules.bleu_threshold);
        s.rules.max_error_rejects = sj.value("max_error_rejects", s.rules.max_error_rejects);
        s.verifier_max_new_tokens = sj.value("verifier_max_new_tokens", s.verifier_max_new_tokens);
        s.workers = sj.value("workers", s.workers);
    } catch (const std::exception& e) {
        return make_error(std::string("sampling settings: ") + e.what());
    }
    return s;
}

Status apply_sampling_setting(SamplingSettings& s, const std::string& k, const std::string& v) {
    try {
        auto& gen = s.agent.loop.generation;
        auto each_group = [&](auto f) {
            for (SamplingGroup& g : gen.groups) f(g);
        };
        // Keys of sampling itself, and the sampling settings that apply to every group; the rest is shared with
        // agent and evaluation runs (apply_shared_setting).
        if (k == "k") {
            const int n = std::stoi(v);
            if (n < 2) return make_error("k: at least 2 candidates (pairs need a rejected one)");
            set_candidate_count(s, n);
        } else if (k == "temperature_rest") {
            if (gen.groups.size() > 1) gen.groups[1].temperature = std::stod(v);
        } else if (k == "repetition_penalty_rest") {
            if (gen.groups.size() > 1) gen.groups[1].repetition_penalty = std::stod(v);
        } else if (k == "top_p") {
            const double p = std::stod(v);
            each_group([&](SamplingGroup& g) { g.top_p = p; });
        } else if (k == "top_k") {
            const int t = std::stoi(v);
            each_group([&](SamplingGroup& g) { g.top_k = t; });
        } else if (k == "greedy") {
            const bool greedy = parse_bool(v);
            each_group([&](SamplingGroup& g) { g.do_sample = !greedy; });
        } else if (k == "bleu_threshold") s.rules.bleu_threshold = std::stod(v);
        else if (k == "max_error_rejects") s.rules.max_error_rejects = std::stoi(v);
        else if (k == "verifier_max_new_tokens") s.verifier_max_new_tokens = std::stoi(v);
        else if (k == "pairs_dataset") s.pairs_dataset = v;
        else if (k == "workers") s.workers = std::max(1, std::stoi(v));
        else {
            MATRIX_TRY(bool known, apply_shared_setting(k, v, s.agent.loop, s.agent.sandbox, s.agent.system_prompt,
                                                        s.agent.controller));
            if (!known) return make_error("unknown --set key \"" + k + "\" (see matrix sample --help)");
        }
    } catch (const std::exception&) {
        return make_error("--set " + k + ": bad value \"" + v + "\"");
    }
    return {};
}

uint64_t step_seed(uint64_t run_seed, int64_t task_id, int step) {
    return splitmix64(splitmix64(splitmix64(run_seed) ^ static_cast<uint64_t>(task_id)) ^ static_cast<uint64_t>(step));
}

Result<int64_t> create_sampling_run(store::Database& db, SamplingSettings& settings, const ToolRegistry& tools,
                                    const std::string& controller_description, const std::string& verifier_description,
                                    const std::string& work_root) {
    if (settings.pairs_dataset.empty()) settings.pairs_dataset = settings.dataset.empty() ? "sampled" : settings.dataset + "-sampled";
    nlohmann::json config = settings.to_json();
    config["controller"]["description"] = controller_description;
    config["sampling"]["verifier"]["description"] = verifier_description;
    config["tool_status"] = tools.status_json();
    if (auto usable = bubblewrap_usable(settings.agent.sandbox.bwrap); usable.ok()) config["sandbox"]["bubblewrap"] = "usable";
    else config["sandbox"]["bubblewrap"] = usable.error().message;
    store::Run run;
    run.kind = "sample";
    run.name = settings.agent.name.empty() ? "sampling run" : settings.agent.name;
    run.config = config.dump();
    if (settings.agent.controller.contains("model")) run.model_path = settings.agent.controller.value("model", "");
    if (!settings.agent.controller.value("adapter", "").empty()) run.adapter_path = settings.agent.controller.value("adapter", "");
    if (!settings.dataset.empty()) {
        MATRIX_TRY(auto ds, store::DatasetRepo(db).find(settings.dataset));
        if (ds) run.dataset_id = ds->id;
    }
    store::RunRepo runs(db);
    MATRIX_TRY(int64_t run_id, runs.create(run));
    settings.agent.sandbox.work_dir = (fs::path(work_root) / ("run-" + std::to_string(run_id))).string();
    config["sandbox"]["work_dir"] = settings.agent.sandbox.work_dir;
    MATRIX_CHECK(runs.set_config(run_id, config.dump()));
    return run_id;
}

Result<SamplingSettings> load_sampling_settings(store::Database& db, int64_t run_id) {
    MATRIX_TRY(auto run, store::RunRepo(db).get(run_id));
    if (!run || run->kind != "sample") return make_error("no sampling run " + std::to_string(run_id));
    const nlohmann::json config = nlohmann::json::parse(run->config, nullptr, false);
    if (config.is_discarded()) return make_error("sampling run " + std::to_string(run_id) + ": its settings are not JSON");
    auto s = SamplingSettings::from_json(config);
    if (!s.ok()) return s.error().within("sampling run " + std::to_string(run_id));
    if (s->verifier.is_object()) s->verifier.erase("description");
    if (s->agent.controller.is_object()) s->agent.controller.erase("description");
    return s;
}

Result<std::vector<int64_t>> dataset_task_ids(store::Database& db, const std::string& dataset, int64_t limit) {
    MATRIX_TRY(auto ds, store::DatasetRepo(db).find(dataset));
    if (!ds) return make_error("no dataset named '" + dataset + "'");
    MATRIX_TRY(store::Statement st, db.prepare("SELECT id FROM tasks WHERE dataset_id=? ORDER BY ordinal, id LIMIT ?"));
    st.bind_all(ds->id, limit > 0 ? limit : int64_t(-1));
    std::vector<int64_t> out;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        out.push_back(st.column_int64(0));
    }
    if (out.empty()) return make_error("dataset '" + dataset + "' has no tasks");
    return out;
}

std::string beam_task_folder(const SamplingSettings& settings, int64_t task_id, const std::string& key) {
    bool plain = !key.empty() && key.size() < 100 && key != "." && key != "..";
    for (char c : key) plain &= std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    return (fs::path(settings.agent.sandbox.work_dir) / "beam" / (plain ? key : "task-" + std::to_string(task_id))).string();
}

}  // namespace matrix::agent
