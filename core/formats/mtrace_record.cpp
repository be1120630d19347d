// M-TRACE record conversion (see mtrace_record.h).
#include "core/formats/mtrace_record.h"

#include <algorithm>

#include "core/conversation/steps.h"
#include "core/conversation/user_prompt.h"

namespace matrix::formats {

namespace {
const char* type_name(const nlohmann::json& v) { return v.type_name(); }

template <class J>
J build_record(const store::Task& task, const std::optional<std::string>& system_prompt,
               const std::vector<MediaRef>& media, const std::vector<store::Step>& steps) {
    J r = J::object();
    r["id"] = task.external_id;
    // image: {} / "path" / {"<image_00>": path, ...}
    std::vector<const MediaRef*> images;
    for (const auto& m : media)
        if (m.role == "image" && !(m.label && m.label->rfind("Picture ", 0) == 0)) images.push_back(&m);
    if (images.size() == 1 && !images[0]->label) {
        r["image"] = images[0]->path;
    } else {
        J obj = J::object();
        for (auto* m : images) obj[m->label ? *m->label : std::to_string(m->position)] = m->path;
        r["image"] = std::move(obj);
    }
    r["correct"] = task.verdict;
    r["answer"] = task.answer ? *task.answer : std::string();
    J conv = J::array();
    auto turn = [](const char* from, const std::string& value) {
        J t = J::object();
        t["from"] = from;
        t["value"] = value;
        return t;
    };
    if (system_prompt) conv.push_back(turn("system", *system_prompt));
    if (task.prompt_text) conv.push_back(turn("user", *task.prompt_text));
    conversation::for_each_mtrace_turn(steps, [&](const char* from, const std::string& value) {
        conv.push_back(turn(from, value));
        return true;
    });
    r["conversations"] = std::move(conv);
    r["traj_verification"] = task.verifier_text ? *task.verifier_text : std::string();
    return r;
}
// Whether mtrace_rows_to_record(rows) == rec, checked field by field without building the record (the import
// hot path: no copies of the 13 KB system prompt or the observations).
bool rows_reproduce(const nlohmann::json& rec, const MtraceRows& rows) {
    static const char* kKeys[] = {"id", "image", "correct", "answer", "conversations", "traj_verification"};
    if (rec.size() != 6) return false;
    for (const char* k : kKeys)
        if (!rec.contains(k)) return false;
    const store::Task& task = rows.task;
    auto is_string = [](const nlohmann::json& v, const std::optional<std::string>& s) {
        return v.is_string() && s && v.get_ref<const std::string&>() == *s;
    };
    if (!is_string(rec["id"], task.external_id) || !is_string(rec["correct"], task.verdict) ||
        !is_string(rec["answer"], task.answer) || !is_string(rec["traj_verification"], task.verifier_text))
        return false;
    // The image form (small: build it).
    store::Task image_only;
    nlohmann::json image = build_record<nlohmann::json>(image_only, std::nullopt, rows.media, {})["image"];
    if (image != rec["image"]) return false;
    const auto& conv = rec["conversations"];
    size_t i = 0;
    auto turn_is = [&](const char* from, const std::string& value) {
        if (i >= conv.size()) return false;
        const auto& t = conv[i++];
        return t.size() == 2 && t["from"].get_ref<const std::string&>() == from &&
               t["value"].get_ref<const std::string&>() == value;
    };
    if (rows.system_prompt && !turn_is("system", *rows.system_prompt)) return false;
    if (task.prompt_text && !turn_is("user", *task.prompt_text)) return false;
    if (!conversation::for_each_mtrace_turn(rows.trajectory.steps, turn_is)) return false;
    return i == conv.size();
}
}  // namespace

Result<MtraceRows> mtrace_record_to_rows(const nlohmann::json& rec) {
    if (!rec.is_object()) return make_error(std::string("record is a JSON ") + type_name(rec) + ", not an object");
    auto id = rec.find("id");
    if (id == rec.end()) return make_error("missing key 'id'");
    if (!id->is_string()) return make_error(std::string("'id' is a ") + type_name(*id) + ", not a string");
    auto conv = rec.find("conversations");
    if (conv == rec.end()) return make_error("missing key 'conversations'");
    if (!conv->is_array()) return make_error(std::string("'conversations' is a ") + type_name(*conv) + ", not an array");
    for (size_t i = 0; i < conv->size(); ++i) {
        const auto& t = (*conv)[i];
        const std::string where = "conversations[" + std::to_string(i) + "]";
        if (!t.is_object()) return make_error(where + " is a " + type_name(t) + ", not an object");
        for (const char* k : {"from", "value"}) {
            auto f = t.find(k);
            if (f == t.end()) return make_error(where + ": missing key '" + k + "'");
            if (!f->is_string()) return make_error(where + "." + k + " is a " + type_name(*f) + ", not a string");
        }
    }
    auto image = rec.find("image");
    if (image != rec.end()) {
        if (image->is_object()) {
            for (auto& [k, v] : image->items())
                if (!v.is_string()) return make_error("'image' value for key '" + k + "' is not a string");
        } else if (!image->is_string()) {
            return make_error(std::string("'image' is a ") + type_name(*image) + ", not an object or a string");
        }
    }
    auto correct = rec.find("correct");
    if (correct != rec.end() && !correct->is_string())
        return make_error(std::string("'correct' is a ") + type_name(*correct) + ", not a string");

    MtraceRows rows;
    store::Task& task = rows.task;
    task.external_id = id->get<std::string>();
    task.record_key = task.external_id;
    task.source = "mtrace";
    if (correct != rec.end()) {
        const auto& c = correct->get_ref<const std::string&>();
        task.verdict = (c == "yes" || c == "no") ? c : "unknown";
    }
    if (auto a = rec.find("answer"); a != rec.end())
        task.answer = a->is_string() ? a->get<std::string>() : a->dump();
    if (auto v = rec.find("traj_verification"); v != rec.end())
        task.verifier_text = v->is_string() ? v->get<std::string>() : v->dump();

    // Media: the image field first (its form is rebuilt from these rows), then Picture / Attachment paths.
    int image_pos = 0;
    std::vector<std::string> image_paths;
    if (image != rec.end()) {
        if (image->is_string()) {
            rows.media.push_back({image->get<std::string>(), "image", image_pos++, std::nullopt});
            image_paths.push_back(image->get<std::string>());
        } else {
            for (auto& [k, v] : image->items()) {
                rows.media.push_back({v.get<std::string>(), "image", image_pos++, k});
                image_paths.push_back(v.get<std::string>());
            }
        }
    }

    // Conversations: [system], first user turn (the task), then assistant actions and observation turns.
    size_t i = 0;
    const auto& turns = *conv;
    if (i < turns.size() && turns[i]["from"] == "system") rows.system_prompt = turns[i++]["value"].get<std::string>();
    if (i < turns.size() && turns[i]["from"] == "user") {
        task.prompt_text = turns[i++]["value"].get<std::string>();
        conversation::UserPrompt up = conversation::parse_user_prompt(*task.prompt_text);
        task.query = std::move(up.task);
        int k = 0;
        for (auto& p : up.pictures) {
            ++k;
            if (std::find(image_paths.begin(), image_paths.end(), p) != image_paths.end()) continue;
            rows.media.push_back({p, "image", image_pos++, "Picture " + std::to_string(k)});
        }
        int a = 0;
        for (auto& p : up.attachments) rows.media.push_back({p, "attachment", a++, std::nullopt});
    }
    auto& steps = rows.trajectory.steps;
    for (; i < turns.size(); ++i) {
        const std::string& from = turns[i]["from"].get_ref<const std::string&>();
        const std::string& value = turns[i]["value"].get_ref<const std::string&>();
        if (!conversation::add_mtrace_turn(steps, from, value))
            rows.lossless = false;  // a role the rows cannot place (a second system turn ...): kept in raw
    }
    for (const auto& s : steps) {
        for (const auto& c : s.tool_calls)
            if (c.name == "final_answer") rows.trajectory.final_answer = task.answer;
    }
    rows.trajectory.source = "mtrace";
    if (!rows.trajectory.final_answer) rows.trajectory.final_answer = task.answer;
    task.n_images = image_pos;

    if (rows.lossless) rows.lossless = rows_reproduce(rec, rows);
    if (!rows.lossless) task.extra = nlohmann::json{{"raw", rec}}.dump();
    return rows;
}

nlohmann::ordered_json mtrace_rows_to_record(const store::Task& task, const std::optional<std::string>& system_prompt,
                                             const std::vector<MediaRef>& media,
                                             const std::vector<store::Step>& steps) {
    return build_record<nlohmann::ordered_json>(task, system_prompt, media, steps);
}

nlohmann::ordered_json mtrace_export_record(const store::Task& task, const std::optional<std::string>& system_prompt,
                                            const std::vector<MediaRef>& media, const std::vector<store::Step>& steps) {
    if (task.extra) {
        auto extra = nlohmann::ordered_json::parse(*task.extra, nullptr, false);
        if (extra.is_object() && extra.contains("raw")) return extra["raw"];
    }
    return mtrace_rows_to_record(task, system_prompt, media, steps);
}

}  // namespace matrix::formats
