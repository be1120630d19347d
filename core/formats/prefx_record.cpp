// Pref-X record conversion (see prefx_record.h).
#include "core/formats/prefx_record.h"

namespace matrix::formats {

namespace {
Status check_turn(const nlohmann::json& t, const std::string& where) {
    if (!t.is_object()) return make_error(where + " is a " + std::string(t.type_name()) + ", not an object");
    for (const char* k : {"from", "value"}) {
        auto f = t.find(k);
        if (f == t.end()) return make_error(where + ": missing key '" + k + "'");
        if (!f->is_string()) return make_error(where + "." + k + " is a " + std::string(f->type_name()) + ", not a string");
    }
    if (auto o = t.find("observation"); o != t.end() && !o->is_string())
        return make_error(where + ".observation is a " + std::string(o->type_name()) + ", not a string");
    return {};
}

template <class J>
J build(const std::optional<std::string>& system_prompt, const nlohmann::json& images, const nlohmann::json& history,
        const store::Pair& p) {
    J r = J::object();
    r["images"] = J(images);
    r["system"] = system_prompt ? *system_prompt : std::string();
    r["conversations"] = J(history);
    auto action = [](const std::string& value, const std::optional<std::string>& obs) {
        J a = J::object();
        a["from"] = "gpt";
        a["value"] = value;
        if (obs) a["observation"] = *obs;
        return a;
    };
    r["chosen"] = action(p.chosen_action, p.chosen_observation);
    r["rejected"] = action(p.rejected_action, p.rejected_observation);
    return r;
}
}  // namespace

Result<PrefxRows> prefx_record_to_rows(const nlohmann::json& rec) {
    if (!rec.is_object()) return make_error(std::string("record is a JSON ") + rec.type_name() + ", not an object");
    for (const char* k : {"conversations", "chosen", "rejected"})
        if (!rec.contains(k)) return make_error(std::string("missing key '") + k + "'");
    const auto& conv = rec["conversations"];
    if (!conv.is_array()) return make_error(std::string("'conversations' is a ") + conv.type_name() + ", not an array");
    for (size_t i = 0; i < conv.size(); ++i) MATRIX_CHECK(check_turn(conv[i], "conversations[" + std::to_string(i) + "]"));
    MATRIX_CHECK(check_turn(rec["chosen"], "chosen"));
    MATRIX_CHECK(check_turn(rec["rejected"], "rejected"));
    PrefxRows rows;
    if (auto im = rec.find("images"); im != rec.end()) {
        if (!im->is_array()) return make_error(std::string("'images' is a ") + im->type_name() + ", not an array");
        for (size_t i = 0; i < im->size(); ++i) {
            if (!(*im)[i].is_string()) return make_error("images[" + std::to_string(i) + "] is not a string");
            rows.images.push_back((*im)[i].get<std::string>());
        }
    }
    // LLaMA-Factory pairs each "<image>" in the prompt with one entry of "images" and refuses a record where the
    // counts differ; such a record cannot be trained on.
    size_t placeholders = 0;
    for (const auto& turn : conv) {
        const std::string& v = turn["value"].get_ref<const std::string&>();
        for (size_t at = v.find("<image>"); at != std::string::npos; at = v.find("<image>", at + 7)) ++placeholders;
    }
    if (placeholders != rows.images.size())
        return make_error(std::to_string(rows.images.size()) + " image(s) but " + std::to_string(placeholders) +
                          " <image> placeholder(s) in the conversation (LLaMA-Factory needs one per image)");
    if (auto sys = rec.find("system"); sys != rec.end()) {
        if (!sys->is_string()) return make_error(std::string("'system' is a ") + sys->type_name() + ", not a string");
        rows.system_prompt = sys->get<std::string>();
    }
    rows.history = conv;
    if (!conv.empty()) rows.first_human = conv[0]["value"].get<std::string>();
    rows.prompt = conversation::parse_user_prompt(rows.first_human);
    for (size_t i = 1; i < conv.size(); ++i)
        if (conv[i]["from"] == "gpt") ++rows.step_index;
    rows.chosen_action = rec["chosen"]["value"].get<std::string>();
    rows.rejected_action = rec["rejected"]["value"].get<std::string>();
    if (rec["chosen"].contains("observation")) rows.chosen_observation = rec["chosen"]["observation"].get<std::string>();
    if (rec["rejected"].contains("observation"))
        rows.rejected_observation = rec["rejected"]["observation"].get<std::string>();

    store::Pair p;
    p.chosen_action = rows.chosen_action;
    p.chosen_observation = rows.chosen_observation;
    p.rejected_action = rows.rejected_action;
    p.rejected_observation = rows.rejected_observation;
    rows.lossless = build<nlohmann::json>(rows.system_prompt, nlohmann::json(rows.images), rows.history, p) == rec;
    if (!rows.lossless) rows.extra = nlohmann::json{{"raw", rec}}.dump();
    return rows;
}

nlohmann::ordered_json prefx_rows_to_record(const std::optional<std::string>& system_prompt,
                                            const nlohmann::json& images, const nlohmann::json& history,
                                            const store::Pair& pair) {
    return build<nlohmann::ordered_json>(system_prompt, images, history, pair);
}

nlohmann::ordered_json prefx_export_record(const std::optional<std::string>& system_prompt, const nlohmann::json& images,
                                           const nlohmann::json& history, const store::Pair& pair) {
    if (pair.extra) {
        auto extra = nlohmann::ordered_json::parse(*pair.extra, nullptr, false);
        if (extra.is_object() && extra.contains("raw") && extra["raw"].is_object()) {
            nlohmann::ordered_json r = extra["raw"];
            auto patch = [](nlohmann::ordered_json& side, const std::string& value,
                            const std::optional<std::string>& obs) {
                if (!side.is_object()) side = nlohmann::ordered_json::object();
                side["value"] = value;
                if (obs) side["observation"] = *obs;
                else side.erase("observation");
            };
            patch(r["chosen"], pair.chosen_action, pair.chosen_observation);
            patch(r["rejected"], pair.rejected_action, pair.rejected_observation);
            return r;
        }
    }
    return prefx_rows_to_record(system_prompt, images, history, pair);
}

}  // namespace matrix::formats
