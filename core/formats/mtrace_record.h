// One M-TRACE record <-> store rows. A record {id, image, correct, answer, conversations, traj_verification}
// becomes a task (query, verbatim first user turn, verdict, verifier text), its system prompt (deduplicated by
// the importer), media references (the `image` field in its three forms, Picture <img> paths, Attachment
// paths) and a trajectory whose steps keep each assistant turn verbatim with its observation turn.
// rows_to_record rebuilds the same JSON value; a record that the rows cannot reproduce exactly (extra keys,
// unusual turn order, non-string answer) is additionally kept whole in task.extra {"raw": ...}.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"
#include "core/util/result.h"

namespace matrix::formats {

struct MediaRef {
    std::string path;
    std::string role;  // image | attachment
    int position = 0;
    std::optional<std::string> label;  // "<image_00>" (image map key); "Picture k" (only in a Picture line)
};

struct MtraceRows {
    store::Task task;  // external_id, query, prompt_text, answer, verdict, verifier_text, extra
    std::optional<std::string> system_prompt;
    // std::hash of system_prompt, computed by the import's parsing thread so the writing thread does not hash
    // ~13 KB per record (0 = not computed).
    size_t system_prompt_hash = 0;
    std::vector<MediaRef> media;
    store::Trajectory trajectory;  // source "mtrace"
    bool lossless = true;          // false: task.extra holds the raw record
};

// Error = why the record is rejected (missing key, wrong type), with the JSON path in the message.
Result<MtraceRows> mtrace_record_to_rows(const nlohmann::json& record);

// The record as the rows describe it (ignores task.extra). Keys in M-TRACE's order.
nlohmann::ordered_json mtrace_rows_to_record(const store::Task& task, const std::optional<std::string>& system_prompt,
                                             const std::vector<MediaRef>& media,
                                             const std::vector<store::Step>& steps);

// The record to export: task.extra's raw record when present, else the rebuilt one.
nlohmann::ordered_json mtrace_export_record(const store::Task& task, const std::optional<std::string>& system_prompt,
                                            const std::vector<MediaRef>& media, const std::vector<store::Step>& steps);

}  // namespace matrix::formats
