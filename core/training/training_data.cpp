// Builds SFT and DPO samples from the store. Image grids come from the media rows' pixel sizes through
// smart_resize (no decoding), so token counts and the preview need no pixels; the trainer preprocesses
// pixels per batch. The over-long policy drops whole history steps (oldest first) so that every kept
// assistant turn is complete: a cut assistant turn would train the model to stop mid-action.
#include "core/training/training_data.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/conversation/chat_messages.h"
#include "core/conversation/user_prompt.h"
#include "core/image/smart_resize.h"
#include "core/store/media_repo.h"
#include "core/store/pair_repo.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"
#include "core/util/json_input.h"
#include "core/util/sha256.h"
#ifdef MATRIX_HAVE_OPENCV
#include "core/image/image_io.h"
#endif

namespace fs = std::filesystem;
using nlohmann::json;

namespace matrix::train {

int64_t SftSample::n_trained() const {
    int64_t n = 0;
    for (auto m : mask) n += m;
    return n;
}

std::string DataReport::summary() const {
    std::string s = "used " + std::to_string(used) + " of " + std::to_string(considered);
    std::vector<std::string> parts;
    if (filtered) parts.push_back(std::to_string(filtered) + " filtered");
    if (dropped_overlong) parts.push_back(std::to_string(dropped_overlong) + " over max_length");
    if (truncated) parts.push_back(std::to_string(truncated) + " with history truncated");
    if (missing_images) parts.push_back(std::to_string(missing_images) + " with missing images");
    if (!parts.empty()) {
        s += " (";
        for (size_t i = 0; i < parts.size(); ++i) s += (i ? ", " : "") + parts[i];
        s += ")";
    }
    return s + ", " + std::to_string(tokens) + " tokens";
}

ImageSettings load_image_settings(const std::string& model_dir) {
    ImageSettings s;
    const fs::path path = fs::path(model_dir) / "preprocessor_config.json";
    if (!fs::exists(path)) return s;
    try {
        auto parsed = read_json_file(path.string());
        if (!parsed.ok()) return s;
        json j = std::move(parsed).value();
        if (j.contains("min_pixels")) s.min_pixels = j["min_pixels"].get<int64_t>();
        if (j.contains("max_pixels")) s.max_pixels = j["max_pixels"].get<int64_t>();
        if (j.contains("size") && j["size"].is_object()) {
            s.min_pixels = j["size"].value("shortest_edge", s.min_pixels);
            s.max_pixels = j["size"].value("longest_edge", s.max_pixels);
        }
        s.merge_size = j.value("merge_size", s.merge_size);
        s.patch_size = j.value("patch_size", s.patch_size);
    } catch (...) {
    }
    return s;
}

std::string collapse_image_pads(const std::string& text) {
    static const std::string pad = "<|image_pad|>";
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
        if (text.compare(i, pad.size(), pad) == 0) {
            size_t n = 0;
            while (text.compare(i, pad.size(), pad) == 0) {
                i += pad.size();
                ++n;
            }
            out += pad + "x" + std::to_string(n);
        } else {
            out += text[i++];
        }
    }
    return out;
}

namespace {

// Resolves one image as the store knows it and computes its grid from its pixel size.
Result<SampleImage> resolve_image(store::MediaRepo& media, const store::Media& m, const ImageSettings& s) {
    SampleImage img;
    img.path = m.path;
    if (!m.resolved_path || !fs::exists(*m.resolved_path)) return img;  // missing
    img.resolved = *m.resolved_path;
    int64_t w = m.width.value_or(0), h = m.height.value_or(0);
#ifdef MATRIX_HAVE_OPENCV
    if (w <= 0 || h <= 0) {
        auto rgb = vision::load_rgb(img.resolved);
        if (!rgb.ok()) {
            img.resolved.clear();
            return img;
        }
        w = rgb->width;
        h = rgb->height;
    }
#endif
    if (w <= 0 || h <= 0) return make_error("pixel size unknown (built without OpenCV)", m.path);
    const int64_t factor = int64_t(s.patch_size) * s.merge_size;
    MATRIX_TRY(auto size, vision::smart_resize(h, w, factor, s.min_pixels, s.max_pixels));
    img.grid_thw = {1, size.height / s.patch_size, size.width / s.patch_size};
    return img;
}

std::vector<int64_t> pad_counts(const std::vector<SampleImage>& images, int merge) {
    std::vector<int64_t> out;
    for (const auto& i : images) out.push_back(tok::image_pad_count(i.grid_thw, merge));
    return out;
}

std::string hash_sample(const std::string& text, const std::vector<SampleImage>& images) {
    Sha256 h;
    h.update(text);
    for (const auto& i : images) {
        h.update("\n");
        h.update(i.path);
    }
    return h.hex_digest();
}

// Everything of a trajectory needed to encode it with any number of kept steps.
struct TrajectoryParts {
    int64_t task_id = 0, trajectory_id = 0;
    std::string system, task_text, verdict;
    std::vector<SampleImage> images;
    bool missing_image = false;
    std::vector<store::Step> steps;
};

Result<TrajectoryParts> read_trajectory(store::Database& db, int64_t trajectory_id, const ImageSettings& is) {
    store::TrajectoryRepo trajectories(db);
    store::TaskRepo tasks(db);
    store::MediaRepo media(db);
    MATRIX_TRY(auto t, trajectories.get(trajectory_id, true));
    if (!t) return make_error("no trajectory " + std::to_string(trajectory_id));
    MATRIX_TRY(auto task, tasks.get(t->task_id));
    if (!task) return make_error("no task " + std::to_string(t->task_id));
    TrajectoryParts p;
    p.task_id = task->id;
    p.trajectory_id = t->id;
    p.verdict = task->verdict;
    MATRIX_TRY(auto sys, tasks.system_prompt(task->id));
    p.system = sys.value_or("");
    p.task_text = task->prompt_text ? conversation::strip_picture_lines(*task->prompt_text)
                                    : conversation::task_turn(task->query);
    MATRIX_TRY(auto links, media.for_task(task->id));
    for (const auto& l : links) {
        if (l.role != "image") continue;
        MATRIX_TRY(auto img, resolve_image(media, l.media, is));
        if (img.resolved.empty()) p.missing_image = true;
        p.images.push_back(img);
    }
    p.steps = std::move(t->steps);
    return p;
}

// Encodes the trajectory keeping its steps from `first_step` on (the oldest dropped by truncate_history).
Result<tok::EncodedChat> encode_trajectory(const TrajectoryParts& p, size_t first_step, const tok::Tokenizer& tk,
                                           const ImageSettings& is) {
    conversation::AgentConversation c;
    c.system = p.system;
    c.image_pad_counts = pad_counts(p.images, is.merge_size);
    c.task = p.task_text;
    c.turns = conversation::step_turns(p.steps, first_step);
    return conversation::encode_agent_conversation(tk, c);
}

// Applies max_length and the over-long policy. nullopt = dropped.
Result<std::optional<SftSample>> make_sft_sample(const TrajectoryParts& p, const tok::Tokenizer& tk,
                                                 const ImageSettings& is, const TrainingConfig& cfg,
                                                 bool* truncated) {
    *truncated = false;
    for (size_t first = 0; first < std::max<size_t>(1, p.steps.size()); ++first) {
        MATRIX_TRY(auto enc, encode_trajectory(p, first, tk, is));
        if (static_cast<int64_t>(enc.ids.size()) <= cfg.max_length) {
            SftSample s;
            s.task_id = p.task_id;
            s.trajectory_id = p.trajectory_id;
            s.ids = std::move(enc.ids);
            s.mask = std::move(enc.assistant_mask);
            s.images = p.images;
            s.n_steps = static_cast<int>(p.steps.size());
            s.n_steps_kept = static_cast<int>(p.steps.size() - first);
            s.content_hash = hash_sample(enc.text, p.images);
            *truncated = first > 0;
            return std::optional<SftSample>(std::move(s));
        }
        if (cfg.overlong != "truncate_history") break;
    }
    return std::optional<SftSample>();
}

bool verdict_passes(const std::string& filter, const std::string& verdict) {
    if (filter == "all") return true;
    if (filter == "not_no") return verdict != "no";
    return verdict == "yes";
}

void warn(DataReport& r, const std::string& line) {
    if (r.warnings.size() < 20) r.warnings.push_back(line);
}

}  // namespace

Result<SftDataset> load_sft_data(store::Database& db, int64_t dataset_id, const tok::Tokenizer& tokenizer,
                                 const ImageSettings& images, const TrainingConfig& config,
                                 const Progress& progress) {
    SftDataset out;
    store::TaskRepo tasks(db);
    store::TrajectoryRepo trajectories(db);
    store::TaskFilter filter;
    filter.dataset_id = dataset_id;
    MATRIX_TRY(int64_t n_tasks, tasks.count(filter));
    store::TaskPageRequest page;
    page.limit = 500;
    for (page.offset = 0; page.offset < n_tasks; page.offset += page.limit) {
        MATRIX_TRY(auto rows, tasks.page(filter, page));
        for (const auto& row : rows) {
            if (progress.cancelled()) return make_error("cancelled", "loading SFT data");
            ++out.report.considered;
            if (!verdict_passes(config.verdict_filter, row.verdict)) {
                ++out.report.filtered;
                continue;
            }
            MATRIX_TRY(auto traj, trajectories.primary_for_task(row.id));
            if (!traj || traj->steps.empty()) {
                ++out.report.filtered;
                continue;
            }
            auto parts = read_trajectory(db, traj->id, images);
            if (!parts.ok()) return parts.error().within("task " + row.external_id);
            if (parts->missing_image) {
                ++out.report.missing_images;
                for (const auto& i : parts->images)
                    if (i.resolved.empty()) warn(out.report, "task " + row.external_id + ": missing image " + i.path);
                continue;
            }
            bool truncated = false;
            MATRIX_TRY(auto sample, make_sft_sample(*parts, tokenizer, images, config, &truncated));
            if (!sample) {
                ++out.report.dropped_overlong;
                warn(out.report, "task " + row.external_id + ": longer than max_length " +
                                     std::to_string(config.max_length) + ", dropped");
                continue;
            }
            if (truncated) ++out.report.truncated;
            ++out.report.used;
            out.report.tokens += static_cast<int64_t>(sample->ids.size());
            out.samples.push_back(std::move(*sample));
            progress(out.report.considered, n_tasks, "SFT samples");
        }
    }
    return out;
}

Result<DpoDataset> load_dpo_data(store::Database& db, int64_t dataset_id, const tok::Tokenizer& tokenizer,
                                 const ImageSettings& images, const TrainingConfig& config,
                                 const Progress& progress) {
    DpoDataset out;
    store::PairRepo pairs(db);
    store::MediaRepo media(db);
    store::PairFilter filter;
    filter.dataset_id = dataset_id;
    MATRIX_TRY(auto all, pairs.list(filter));
    std::map<int64_t, store::PairPrefix> prefixes;
    for (const auto& p : all) {
        if (progress.cancelled()) return make_error("cancelled", "loading DPO data");
        ++out.report.considered;
        const bool wanted = config.pairs == "all" ? p.status != "rejected" : p.status == "approved";
        if (!wanted) {
            ++out.report.filtered;
            continue;
        }
        auto it = prefixes.find(p.prefix_id);
        if (it == prefixes.end()) {
            MATRIX_TRY(auto pre, pairs.prefix(p.prefix_id));
            if (!pre) return make_error("pair " + std::to_string(p.id) + " has no prefix row");
            it = prefixes.emplace(p.prefix_id, *pre).first;
        }
        const auto& pre = it->second;
        std::string system;
        if (pre.system_prompt_id) {
            MATRIX_TRY(auto text, store::system_prompt_text(db, *pre.system_prompt_id));
            system = text.value_or("");
        }
        // The history as turns: from its steps (schema 7), else parsed from its text.
        std::vector<conversation::PrefxTurn> history;
        if (pre.task_turn) {
            history = conversation::prefx_turns_of_steps(*pre.task_turn, pre.steps);
        } else {
            const json h = json::parse(pre.history, nullptr, false);
            if (!h.is_array() || h.empty()) return make_error("pair " + std::to_string(p.id) + ": bad history");
            history = conversation::prefx_turns_of_json(h);
        }
        json image_paths = json::parse(pre.images, nullptr, false);
        DpoSample s;
        s.pair_id = p.id;
        bool missing = false;
        if (image_paths.is_array()) {
            for (const auto& ip : image_paths) {
                std::string path = ip.is_string() ? ip.get<std::string>() : "";
                MATRIX_TRY(auto row, media.find(path));
                store::Media m;
                m.path = path;
                if (row) m = *row;
                MATRIX_TRY(auto img, resolve_image(media, m, images));
                if (img.resolved.empty()) {
                    missing = true;
                    warn(out.report, "pair " + std::to_string(p.id) + ": missing image " + path);
                }
                s.images.push_back(img);
            }
        }
        if (missing) {
            ++out.report.missing_images;
            continue;
        }
        s.chosen = tok::encode_response(tokenizer, p.chosen_action, true);
        s.rejected = tok::encode_response(tokenizer, p.rejected_action, true);
        const auto pads = pad_counts(s.images, images.merge_size);
        const size_t n_history_pairs = (history.size() - 1) / 2;
        s.n_history_turns = static_cast<int>(history.size());
        bool fits = false;
        for (size_t drop = 0; drop <= n_history_pairs; ++drop) {
            tok::ChatTemplateOptions opt;
            opt.add_generation_prompt = true;
            const auto messages = conversation::prefx_turn_messages(system, history, drop, pads);
            MATRIX_TRY(auto enc, tok::encode_chat(tokenizer, messages, opt));
            const int64_t len = static_cast<int64_t>(enc.ids.size() + std::max(s.chosen.size(), s.rejected.size()));
            if (len <= config.max_length) {
                s.prompt = std::move(enc.ids);
                s.n_history_kept = static_cast<int>(history.size() - 2 * drop);
                s.content_hash = hash_sample(enc.text + "\n" + p.chosen_action + "\n" + p.rejected_action, s.images);
                if (drop > 0) ++out.report.truncated;
                fits = true;
                break;
            }
            if (config.overlong != "truncate_history") break;
        }
        if (!fits) {
            ++out.report.dropped_overlong;
            warn(out.report, "pair " + std::to_string(p.id) + ": longer than max_length, dropped");
            continue;
        }
        ++out.report.used;
        out.report.tokens += static_cast<int64_t>(s.prompt.size() + s.chosen.size() + s.rejected.size());
        out.samples.push_back(std::move(s));
        progress(out.report.considered, static_cast<int64_t>(all.size()), "DPO pairs");
    }
    return out;
}

Result<SamplePreview> preview_sft_sample(store::Database& db, int64_t trajectory_id, const tok::Tokenizer& tokenizer,
                                         const ImageSettings& images, const TrainingConfig& config) {
    MATRIX_TRY(auto parts, read_trajectory(db, trajectory_id, images));
    MATRIX_TRY(auto full, encode_trajectory(parts, 0, tokenizer, images));
    SamplePreview pv;
    pv.rendered = collapse_image_pads(full.text);
    pv.n_tokens = static_cast<int64_t>(full.ids.size());
    for (size_t i = 0; i < full.ids.size(); ++i) {
        pv.n_trained += full.assistant_mask[i];
        if (full.ids[i] == tokenizer.special_ids().image_pad) ++pv.n_image_tokens;
    }
    pv.n_steps = static_cast<int>(parts.steps.size());
    pv.over_limit = pv.n_tokens > config.max_length;
    if (pv.over_limit) {
        // Does the cut fall before the end of the last assistant token? (always true when the limit is exceeded
        // and an assistant turn ends after it)
        int64_t last_trained = -1;
        for (size_t i = 0; i < full.ids.size(); ++i)
            if (full.assistant_mask[i]) last_trained = static_cast<int64_t>(i);
        pv.cuts_assistant = last_trained >= config.max_length;
        pv.warning = std::to_string(pv.n_tokens) + " tokens > max_length " + std::to_string(config.max_length) +
                     (pv.cuts_assistant ? ": the limit cuts an assistant turn" : "") + "; policy '" + config.overlong +
                     "'";
    }
    if (parts.missing_image) pv.warning += std::string(pv.warning.empty() ? "" : "; ") + "missing image";
    bool truncated = false;
    MATRIX_TRY(auto sample, make_sft_sample(parts, tokenizer, images, config, &truncated));
    if (parts.missing_image) sample.reset();
    pv.sample = std::move(sample);
    if (pv.over_limit)
        pv.warning += pv.sample ? " -> kept " + std::to_string(pv.sample->n_steps_kept) + " of " +
                                      std::to_string(pv.n_steps) + " steps"
                                : " -> dropped";
    return pv;
}

}  // namespace matrix::train
