// beam_search_data.json of a sampled trajectory (see sampling.h), rebuilt from the stored step records: the
// reference's keys in its order, json.dump(indent=4, ensure_ascii=False)'s bytes, written atomically.
#include "core/agent/sampling.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "core/store/trajectory_repo.h"

namespace matrix::agent {

namespace fs = std::filesystem;

namespace {

Status write_text_atomically(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) return make_error("cannot write", tmp);
    const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size() && std::fflush(f) == 0;
    std::fclose(f);
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return make_error("cannot write file", path);
    }
    return {};
}

}  // namespace

Result<std::string> beam_record_text(store::Database& db, int64_t trajectory_id) {
    MATRIX_TRY(auto t, store::TrajectoryRepo(db).get(trajectory_id, true));
    if (!t) return make_error("no trajectory " + std::to_string(trajectory_id));
    const auto extra = nlohmann::json::parse(t->extra.value_or("{}"), nullptr, false);
    if (!extra.is_object() || !extra.contains("beam_task")) return make_error("trajectory " + std::to_string(trajectory_id) + " is not a sampled one");
    using oj = nlohmann::ordered_json;
    const oj run_answer = t->final_answer ? oj(*t->final_answer) : oj(nullptr);
    oj list = oj::array();
    oj head;
    head["step number"] = 0;
    head["task"] = extra["beam_task"].get<std::string>();
    head["image_paths"] = extra.value("image_paths", std::vector<std::string>{});
    head["final_answer"] = run_answer;
    list.push_back(std::move(head));
    for (const store::Step& s : t->steps) {
        const auto se = nlohmann::json::parse(s.extra.value_or("{}"), nullptr, false);
        oj e;
        e["step number"] = s.idx + 1;
        e["beam_size"] = static_cast<int>(s.candidates.size());
        for (const store::StepCandidate& c : s.candidates) {
            const std::string j = std::to_string(c.position);
            e["llm_output_" + j] = c.action;
            e["rationale_" + j] = c.rationale.value_or("");
            e["tool_call_" + j] = c.tool_call ? oj::parse(*c.tool_call, nullptr, false) : oj(nullptr);
            e["observation_" + j] = c.observation.value_or("");
        }
        e["best_step_idx"] = se.is_object() ? se.value("best_step_idx", "0") : "0";
        e["rank_reason"] = se.is_object() ? se.value("rank_reason", "") : "";
        e["final_answer"] = s.is_final && se.is_object() && se.contains("answer_text") ? oj(se["answer_text"].get<std::string>()) : run_answer;
        list.push_back(std::move(e));
    }
    const std::string error = extra.value("beam_error", "");
    if (!error.empty()) {
        oj e;
        e["step number"] = static_cast<int>(t->steps.size()) + 1;
        e["error"] = error;
        e["final_answer"] = run_answer;
        list.push_back(std::move(e));
    }
    return list.dump(4, ' ', false, oj::error_handler_t::replace);
}

Status write_beam_record(store::Database& db, int64_t trajectory_id, const std::string& folder) {
    MATRIX_TRY(std::string text, beam_record_text(db, trajectory_id));
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) return make_error("cannot create folder: " + ec.message(), folder);
    return write_text_atomically((fs::path(folder) / "beam_search_data.json").string(), text);
}

}  // namespace matrix::agent
