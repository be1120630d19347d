// Stage "queries": rounds of new tasks from seed examples (the reference's query generation: in-context examples,
// the toolset, a JSON list of {"query", "tools"}; ours adds "needs": file | image | none), de-duplicated by
// normalised text against every task of the project and every query kept so far.
#include <fstream>
#include <random>
#include <sstream>

#include "core/agent/tool.h"
#include "core/store/task_repo.h"
#include "core/synth/synth_context.h"

namespace matrix::synth::detail {

using json = nlohmann::json;

Status prepare_queries(Job& job, store::Database& db) {
    if (!job.s.seed_tasks.empty()) {
        // A selection of tasks: their texts in the order given; a task that is gone or has no text is an error
        // naming it (the user chose it, so leaving it out silently would change the examples behind their back).
        MATRIX_TRY(store::Statement st, db.prepare("SELECT query FROM tasks WHERE id=?"));
        for (int64_t id : job.s.seed_tasks) {
            st.reset();
            st.bind_all(id);
            MATRIX_TRY(bool row, st.step());
            if (!row) return make_error("seed task " + std::to_string(id) + " does not exist in the project");
            if (st.column_text(0).empty()) return make_error("seed task " + std::to_string(id) + " has no query text");
            job.seeds.push_back(st.column_text(0));
        }
    } else if (!job.s.seed_file.empty()) {
        std::ifstream in(job.s.seed_file, std::ios::binary);
        if (!in) return make_error("cannot read the seed file", job.s.seed_file);
        std::stringstream ss;
        ss << in.rdbuf();
        const json j = json::parse(ss.str(), nullptr, false);
        if (!j.is_array()) return make_error("the seed file is not a JSON array", job.s.seed_file);
        for (size_t i = 0; i < j.size(); ++i) {
            const json& e = j[i];
            if (e.is_string()) job.seeds.push_back(e.get<std::string>());
            else if (e.is_object() && e.contains("query") && e["query"].is_string()) job.seeds.push_back(e["query"].get<std::string>());
            else return make_error("record " + std::to_string(i) + " is neither a string nor an object with a string \"query\"",
                                   job.s.seed_file);
        }
    } else if (!job.s.seed_dataset.empty()) {
        MATRIX_TRY(store::Statement st, db.prepare("SELECT t.query FROM tasks t JOIN datasets d ON d.id=t.dataset_id "
                                                   "WHERE d.name=? AND t.query<>'' ORDER BY t.ordinal, t.id"));
        st.bind_all(job.s.seed_dataset);
        for (;;) {
            MATRIX_TRY(bool row, st.step());
            if (!row) break;
            job.seeds.push_back(st.column_text(0));
        }
        if (job.seeds.empty()) return make_error("dataset '" + job.s.seed_dataset + "' has no task to use as an example");
    } else {
        return make_error("the queries stage needs seed examples: --seed-dataset NAME, --seed-file FILE or "
                          "--seed-tasks ID,ID,...");
    }
    if (job.seeds.empty()) return make_error("no seed examples", job.s.seed_file);
    MATRIX_TRY(store::Statement all, db.prepare("SELECT query FROM tasks"));
    for (;;) {
        MATRIX_TRY(bool row, all.step());
        if (!row) break;
        job.known_queries.insert(normalise_query(all.column_text(0)));
    }
    return {};
}

Result<UnitResult> run_query_round(Job& job, store::Database& db, const Unit& unit) {
    MATRIX_TRY(SynthPrompt prompt, load_synth_prompt(db, "queries"));
    UnitResult r;
    r.prompt_name = prompt.name;
    r.prompt_sha256 = prompt.sha256;
    r.seed = unit_seed(job, unit.key, 0);
    // The round's examples: a deterministic draw (same seed and round, same examples, same request).
    std::vector<size_t> order(job.seeds.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::mt19937_64 rng(static_cast<uint64_t>(r.seed));
    std::shuffle(order.begin(), order.end(), rng);
    const size_t n_examples = std::min(order.size(), static_cast<size_t>(std::max(1, job.s.examples)));
    std::string examples;
    json used = json::array();
    for (size_t i = 0; i < n_examples; ++i) {
        examples += json(job.seeds[order[i]]).dump() + "\n";
        used.push_back(job.seeds[order[i]]);
    }
    MATRIX_TRY(std::string answer, ask_teacher(job, db, "queries", unit.key, prompt,
                                               {{"tools", tools_text({})}, {"examples", examples},
                                                {"n", std::to_string(job.s.per_round)}}, 0));
    r.output["examples"] = used;
    if (!job.s.seed_tasks.empty()) r.output["seed_tasks"] = job.s.seed_tasks;  // where the examples came from
    auto rejected_round = [&](const Rejection& why) -> Result<UnitResult> {
        r.reject(why);
        store::Transaction tx(db);
        MATRIX_CHECK(tx.begin_status());
        MATRIX_CHECK(record_unit(job, db, "queries", unit, r));
        MATRIX_CHECK(tx.commit());
        return r;
    };
    ParsedJson parsed = extract_json(answer, job.s.max_answer_chars);
    if (!parsed.ok()) return rejected_round(parsed.rejection);
    json list = *parsed.value;
    if (list.is_object() && list.contains("queries")) list = list["queries"];
    if (!list.is_array() || list.empty())
        return rejected_round({"wrong fields", list.is_array() ? "an empty list"
                                                               : std::string("expected a list of queries, got ") + list.type_name()});

    struct Kept {
        std::string query, needs;
        json tools;
    };
    std::vector<Kept> kept;
    std::vector<Rejection> rejected;
    {
        std::lock_guard<std::mutex> lock(job.mutex);
        for (const json& q : list) {
            std::optional<Rejection> bad = require_string(q, "query");
            if (!bad) bad = require_string_list(q, "tools");
            if (!bad) bad = require_string(q, "needs");
            if (!bad) {
                const std::string n = q["needs"].get<std::string>();
                if (n != "file" && n != "image" && n != "none")
                    bad = Rejection{"wrong fields", "'needs' is \"" + excerpt(n, 20) + "\", not file, image or none"};
            }
            if (bad) {
                rejected.push_back(*bad);
                continue;
            }
            const std::string text = q["query"].get<std::string>();
            const std::string norm = normalise_query(text);
            if (!job.known_queries.insert(norm).second) {
                rejected.push_back({"duplicate", excerpt(text)});
                continue;
            }
            kept.push_back({text, q["needs"].get<std::string>(), q["tools"]});
        }
    }

    store::Transaction tx(db);
    MATRIX_CHECK(tx.begin_status());
    store::TaskRepo tasks(db);
    json made = json::array();
    for (size_t j = 0; j < kept.size(); ++j) {
        store::Task t;
        t.dataset_id = job.dataset_id;
        MATRIX_TRY(t.ordinal, tasks.next_ordinal(job.dataset_id));
        t.record_key = "synth-" + std::to_string(unit.round) + "-" + std::to_string(j);
        t.external_id = "synth_" + std::to_string(unit.round) + "_" + std::to_string(j);
        t.query = kept[j].query;
        t.prompt_text = "Task: " + kept[j].query + "\n";
        t.source = "synth";
        json synth = {{"needs", kept[j].needs},       {"tools", kept[j].tools},     {"round", unit.round},
                      {"model", job.s.model},         {"prompt", prompt.name},      {"prompt_sha256", prompt.sha256},
                      {"seed", r.seed}};
        t.extra = json{{"synth", synth}}.dump();
        MATRIX_TRY(int64_t id, tasks.insert(t));
        made.push_back(id);
    }
    r.n_out = static_cast<int>(kept.size());
    for (const Rejection& x : rejected) {
        ++r.n_rejected;
        r.rejects.emplace_back(x, 0);
    }
    if (kept.empty()) {
        r.status = "rejected";
        r.reason = rejected.empty() ? "no query" : rejected.front().to_string();
    }
    r.output["tasks"] = made;
    MATRIX_CHECK(record_unit(job, db, "queries", unit, r));
    MATRIX_CHECK(tx.commit());
    return r;
}

}  // namespace matrix::synth::detail
