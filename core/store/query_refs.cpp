// The query stored once per task row (see query_refs.h).
#include "core/store/query_refs.h"

#include <vector>

namespace matrix::store {

namespace {

// RFC 6901: '~' -> "~0", '/' -> "~1".
std::string escape_token(const std::string& key) {
    std::string out;
    for (char c : key) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
    }
    return out;
}

void drop_in(nlohmann::json& v, const std::string& query, const std::string& pointer, nlohmann::json& found) {
    if (v.is_string()) {
        if (v.get_ref<const std::string&>() == query) {
            v = nullptr;
            found.push_back(pointer);
        }
    } else if (v.is_object()) {
        for (auto it = v.begin(); it != v.end(); ++it) drop_in(it.value(), query, pointer + "/" + escape_token(it.key()), found);
    } else if (v.is_array()) {
        for (size_t i = 0; i < v.size(); ++i) drop_in(v[i], query, pointer + "/" + std::to_string(i), found);
    }
}

}  // namespace

void drop_query_copies(nlohmann::json& value, const std::string& query) {
    if (query.empty() || !value.is_object() || value.contains("query_at")) return;
    nlohmann::json found = nlohmann::json::array();
    drop_in(value, query, "", found);
    if (!found.empty()) value["query_at"] = std::move(found);
}

void restore_query_copies(nlohmann::json& value, const std::string& query) {
    if (!value.is_object()) return;
    auto it = value.find("query_at");
    if (it == value.end() || !it->is_array()) return;
    const nlohmann::json pointers = std::move(*it);
    value.erase("query_at");
    for (const auto& p : pointers) {
        if (!p.is_string()) continue;
        try {
            value[nlohmann::json::json_pointer(p.get<std::string>())] = query;
        } catch (const nlohmann::json::exception&) {
            // A pointer that does not fit (a row edited by hand): that copy stays null.
        }
    }
}

Status store_bench_task_queries_once(Database& db) {
    std::vector<int64_t> ids;
    {
        MATRIX_TRY(Statement st, db.prepare("SELECT id FROM tasks WHERE extra LIKE '{\"bench_item\":%' ORDER BY id"));
        for (;;) {
            MATRIX_TRY(bool row, st.step());
            if (!row) break;
            ids.push_back(st.column_int64(0));
        }
    }
    MATRIX_TRY(Statement read, db.prepare("SELECT query, prompt_text, extra FROM tasks WHERE id=?"));
    MATRIX_TRY(Statement write, db.prepare("UPDATE tasks SET extra=?, prompt_text=?, prompt_is_query=? WHERE id=?"));
    for (int64_t id : ids) {
        read.bind(1, id);
        MATRIX_TRY(bool row, read.step());
        if (!row) {
            read.reset();
            continue;
        }
        const std::string query = read.column_text(0);
        std::optional<std::string> prompt = read.column_optional_text(1);
        std::string extra = read.column_text(2);
        read.reset();
        nlohmann::json e = nlohmann::json::parse(extra, nullptr, false);
        if (e.is_object() && e.contains("bench_item") && e["bench_item"].is_object()) {
            drop_query_copies(e["bench_item"], query);
            extra = e.dump();
        }  // else: not JSON after all (edited by hand): kept as it is
        const bool prompt_is_query = prompt && *prompt == query;
        if (prompt_is_query) prompt.reset();
        write.bind_all(extra, prompt, int64_t(prompt_is_query), id);
        MATRIX_CHECK(write.run());
    }
    return {};
}

}  // namespace matrix::store
