// The synthesis pipeline's counts, reasons, usage and cost (see synth_job.h), and the task ids behind a count.
#include "core/store/dataset_repo.h"
#include "core/synth/synth_job.h"

namespace matrix::synth {

using json = nlohmann::json;

Result<std::map<std::string, Price>> synth_prices(store::Database& db) {
    std::map<std::string, Price> out;
    MATRIX_TRY(auto v, db.query_text("SELECT value FROM settings WHERE key='synth.prices'"));
    if (!v) return out;
    const json j = json::parse(*v, nullptr, false);
    if (!j.is_object()) return make_error("project setting synth.prices is not a JSON object");
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (!it->is_object()) return make_error("project setting synth.prices: '" + it.key() + "' is not an object");
        out[it.key()] = Price{it->value("prompt", 0.0), it->value("completion", 0.0)};
    }
    return out;
}

Status set_synth_price(store::Database& db, const std::string& model, const Price& price) {
    json j = json::object();
    MATRIX_TRY(auto v, db.query_text("SELECT value FROM settings WHERE key='synth.prices'"));
    if (v) {
        j = json::parse(*v, nullptr, false);
        if (!j.is_object()) j = json::object();
    }
    j[model] = {{"prompt", price.prompt}, {"completion", price.completion}};
    MATRIX_TRY(store::Statement st, db.prepare("INSERT OR REPLACE INTO settings(key, value) VALUES('synth.prices', ?)"));
    st.bind_all(j.dump());
    return st.run();
}

namespace {

double cost_of(const std::map<std::string, Price>& prices, const std::string& model, int64_t prompt, int64_t completion) {
    auto it = prices.find(model);
    if (it == prices.end()) it = prices.find("*");
    if (it == prices.end()) return 0;
    return (double(prompt) * it->second.prompt + double(completion) * it->second.completion) / 1e6;
}

}  // namespace

Result<SynthStatus> synth_status(store::Database& db, const std::string& dataset) {
    store::DatasetRepo datasets(db);
    MATRIX_TRY(auto ds, datasets.find(dataset));
    if (!ds) return make_error("no dataset named '" + dataset + "'");
    MATRIX_TRY(auto prices, synth_prices(db));
    SynthStatus out;
    out.dataset = dataset;
    out.dataset_id = ds->id;
    for (const std::string& stage : synth_stages()) {
        StageStatus s;
        s.stage = stage;
        MATRIX_TRY(store::Statement items, db.prepare("SELECT count(*), COALESCE(SUM(n_out),0), COALESCE(SUM(n_rejected),0) "
                                                      "FROM synth_items WHERE dataset_id=? AND stage=?"));
        items.bind_all(ds->id, stage);
        MATRIX_TRY(bool row, items.step());
        if (row) {
            s.in = items.column_int64(0);
            s.out = items.column_int64(1);
            s.rejected = items.column_int64(2);
        }
        MATRIX_TRY(store::Statement reasons, db.prepare("SELECT reason, count(*) FROM synth_rejects WHERE dataset_id=? AND "
                                                        "stage=? GROUP BY reason ORDER BY count(*) DESC, reason"));
        reasons.bind_all(ds->id, stage);
        for (;;) {
            MATRIX_TRY(bool r, reasons.step());
            if (!r) break;
            s.reasons[reasons.column_text(0)] = reasons.column_int64(1);
        }
        MATRIX_TRY(store::Statement usage,
                   db.prepare("SELECT model, count(*), SUM(cached), SUM(CASE WHEN cached=0 THEN prompt_tokens ELSE 0 END), "
                              "SUM(CASE WHEN cached=0 THEN completion_tokens ELSE 0 END) FROM synth_usage "
                              "WHERE dataset_id=? AND stage=? GROUP BY model ORDER BY model"));
        usage.bind_all(ds->id, stage);
        for (;;) {
            MATRIX_TRY(bool r, usage.step());
            if (!r) break;
            StageUsage u;
            u.stage = stage;
            u.model = usage.column_text(0);
            u.requests = usage.column_int64(1);
            u.cached_requests = usage.column_int64(2);
            u.prompt_tokens = usage.column_int64(3);
            u.completion_tokens = usage.column_int64(4);
            u.cost = cost_of(prices, u.model, u.prompt_tokens, u.completion_tokens);
            s.requests += u.requests;
            s.cached_requests += u.cached_requests;
            s.prompt_tokens += u.prompt_tokens;
            s.completion_tokens += u.completion_tokens;
            s.cost += u.cost;
            s.usage.push_back(u);
        }
        if (stage == "images") {  // which embedder ranked, where captions came from (older rows: endpoint / lexical)
            MATRIX_TRY(store::Statement methods,
                       db.prepare("SELECT 'ranked by ' || json_extract(output,'$.ranking'), count(*) FROM synth_items "
                                  "WHERE dataset_id=? AND stage='images' AND json_extract(output,'$.ranking') IS NOT NULL "
                                  "GROUP BY 1 UNION ALL SELECT 'caption from ' || json_extract(output,'$.caption_source'), "
                                  "count(*) FROM synth_items WHERE dataset_id=? AND stage='images' AND "
                                  "json_extract(output,'$.caption_source') IS NOT NULL GROUP BY 1"));
            methods.bind_all(ds->id, ds->id);
            for (;;) {
                MATRIX_TRY(bool r, methods.step());
                if (!r) break;
                s.methods[methods.column_text(0)] = methods.column_int64(1);
            }
        }
        if (stage != "queries") {
            MATRIX_TRY(auto pending, synth_stage_tasks(db, dataset, stage, "pending"));
            s.pending = static_cast<int64_t>(pending.size());
        }
        out.paid_tokens += s.prompt_tokens + s.completion_tokens;
        out.cost += s.cost;
        out.stages.push_back(std::move(s));
    }
    return out;
}

Result<std::vector<int64_t>> synth_stage_tasks(store::Database& db, const std::string& dataset, const std::string& stage,
                                               const std::string& which) {
    if (!is_synth_stage(stage)) return make_error("unknown stage '" + stage + "'");
    store::DatasetRepo datasets(db);
    MATRIX_TRY(auto ds, datasets.find(dataset));
    if (!ds) return make_error("no dataset named '" + dataset + "'");
    std::string sql;
    if (which == "pending") {
        auto has = [](const std::string& s, const std::string& status) {
            return "EXISTS(SELECT 1 FROM synth_items i WHERE i.dataset_id=t.dataset_id AND i.task_id=t.id AND i.stage" + s +
                   (status.empty() ? "" : " AND i.status='" + status + "'") + ")";
        };
        const std::string needs = "json_extract(t.extra,'$.synth.needs')";
        std::string where;
        if (stage == "queries") return std::vector<int64_t>{};
        if (stage == "files") where = needs + "='file'";
        else if (stage == "images") where = needs + "='image'";
        else if (stage == "verify-files") where = has(" IN ('files','images')", "done");
        else if (stage == "trajectories") where = "(" + needs + "='none' OR " + has("='verify-files'", "done") + ")";
        else where = has("='trajectories'", "done");
        sql = "SELECT t.id FROM tasks t WHERE t.dataset_id=? AND " + where + " AND NOT " + has("='" + stage + "'", "") +
              " ORDER BY t.ordinal, t.id";
    } else if (stage == "queries" && (which == "out" || which == "in")) {
        sql = "SELECT t.id FROM tasks t WHERE t.dataset_id=? AND t.source='synth' ORDER BY t.ordinal, t.id";
    } else if (which == "in") {
        sql = "SELECT task_id FROM synth_items WHERE dataset_id=? AND stage='" + stage + "' AND task_id IS NOT NULL ORDER BY id";
    } else if (which == "out") {
        sql = "SELECT task_id FROM synth_items WHERE dataset_id=? AND stage='" + stage +
              "' AND status='done' AND task_id IS NOT NULL ORDER BY id";
    } else if (which == "rejected") {
        sql = "SELECT DISTINCT task_id FROM synth_rejects WHERE dataset_id=? AND stage='" + stage +
              "' AND task_id IS NOT NULL ORDER BY task_id";
    } else {
        return make_error("unknown count '" + which + "' (in, out, rejected, pending)");
    }
    MATRIX_TRY(store::Statement st, db.prepare(sql));
    st.bind_all(ds->id);
    std::vector<int64_t> ids;
    for (;;) {
        MATRIX_TRY(bool row, st.step());
        if (!row) break;
        ids.push_back(st.column_int64(0));
    }
    return ids;
}

Result<std::vector<SynthItemDetail>> synth_stage_items(store::Database& db, const std::string& dataset,
                                                       const std::string& stage, const std::string& which,
                                                       size_t limit) {
    std::vector<SynthItemDetail> rows;
    if (which == "rejected") {
        if (!is_synth_stage(stage)) return make_error("unknown stage '" + stage + "'");
        MATRIX_TRY(store::Statement rej,
                   db.prepare("SELECT COALESCE(r.task_id, 0), COALESCE(t.query, ''), r.reason, r.detail FROM "
                              "synth_rejects r JOIN datasets d ON d.id=r.dataset_id LEFT JOIN tasks t ON t.id=r.task_id "
                              "WHERE d.name=? AND r.stage=? ORDER BY r.id LIMIT ?"));
        rej.bind_all(dataset, stage, static_cast<int64_t>(limit));
        for (;;) {
            MATRIX_TRY(bool row, rej.step());
            if (!row) break;
            SynthItemDetail r;
            r.task_id = rej.column_int64(0);
            const std::string detail = rej.column_text(3);
            r.query = rej.column_text(1).empty() ? detail : rej.column_text(1);
            r.status = "rejected";
            r.reason = rej.column_text(2) + (detail.empty() ? "" : ": " + detail);
            rows.push_back(std::move(r));
        }
        return rows;
    }
    MATRIX_TRY(std::vector<int64_t> ids, synth_stage_tasks(db, dataset, stage, which));
    MATRIX_TRY(store::Statement q, db.prepare("SELECT query FROM tasks WHERE id=?"));
    // The stage's item for the task (for queries: the round that made it) and the reasons recorded against it.
    MATRIX_TRY(store::Statement item,
               db.prepare("SELECT i.status, COALESCE(i.reason, ''), (SELECT group_concat(r.reason || CASE WHEN "
                          "r.detail<>'' THEN ': ' || r.detail ELSE '' END, '; ') FROM synth_rejects r WHERE "
                          "r.dataset_id=i.dataset_id AND r.stage=i.stage AND r.task_id=?1) FROM synth_items i JOIN "
                          "datasets d ON d.id=i.dataset_id WHERE d.name=?2 AND i.stage=?3 AND (i.task_id=?1 OR "
                          "(?3='queries' AND i.item_key=(SELECT 'round-' || json_extract(extra,'$.synth.round') FROM "
                          "tasks WHERE id=?1)))"));
    for (int64_t id : ids) {
        if (rows.size() >= limit) break;
        SynthItemDetail r;
        r.task_id = id;
        q.reset();
        q.bind_all(id);
        MATRIX_TRY(bool has_task, q.step());
        if (has_task) r.query = q.column_text(0);
        item.reset();
        item.bind_all(id, dataset, stage);
        MATRIX_TRY(bool has_item, item.step());
        if (has_item) {
            r.status = item.column_text(0);
            r.reason = item.column_text(2).empty() ? item.column_text(1) : item.column_text(2);
        } else {
            r.status = "pending";
        }
        rows.push_back(std::move(r));
    }
    return rows;
}

}  // namespace matrix::synth
