// Checkpoint directories: checkpoint-<step>/{trainable.safetensors, optimizer.pt, rng.safetensors,
// trainer_state.json, adapter/}. Written under a .tmp name, flushed to disk (files, then folders) and renamed, so
// readers only ever see complete ones, also after a power cut.
#include "core/training/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/model/weights.h"
#include "core/util/error_text.h"
#include "core/util/json_input.h"
#include "core/util/safetensors.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace matrix::train {

namespace {
// fsync of a file or folder; every file under a folder, then the folder.
void sync_path(const fs::path& p) {
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    (void)::fsync(fd);
    ::close(fd);
}
void sync_tree(const fs::path& dir) {
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(dir, ec)) sync_path(e.path());
    sync_path(dir);
}
}  // namespace

Status save_tensors(const std::string& path, const NamedTensors& tensors,
                    const std::map<std::string, std::string>& metadata) {
    try {
        std::vector<torch::Tensor> keep;
        std::vector<TensorToWrite> out;
        for (const auto& [name, t0] : tensors) {
            auto t = t0.detach().to(torch::kCPU).contiguous();
            MATRIX_TRY(DType dt, model::safetensors_dtype(t.scalar_type()));
            keep.push_back(t);
            out.push_back({name, dt, std::vector<int64_t>(t.sizes().begin(), t.sizes().end()), t.data_ptr()});
        }
        return write_safetensors(path, out, metadata);
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), "writing " + path);
    }
}

Result<NamedTensors> load_tensors(const std::string& path) {
    MATRIX_TRY(auto file, SafetensorsFile::open(path));
    NamedTensors out;
    try {
        for (const auto& v : file->tensors()) {
            MATRIX_TRY(auto t, model::view_tensor(v));
            out.emplace_back(v.name, t.clone());
        }
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), "reading " + path);
    }
    return out;
}

json TrainerState::to_json() const {
    return {{"step", step},       {"epoch", epoch},     {"micro", micro},     {"total_steps", total_steps},
            {"tokens", tokens},   {"seconds", seconds}, {"history", history}, {"config", config}};
}

TrainerState TrainerState::from_json(const json& j) {
    TrainerState s;
    s.step = j.value("step", int64_t(0));
    s.epoch = j.value("epoch", int64_t(0));
    s.micro = j.value("micro", int64_t(0));
    s.total_steps = j.value("total_steps", int64_t(0));
    s.tokens = j.value("tokens", int64_t(0));
    s.seconds = j.value("seconds", 0.0);
    if (j.contains("history")) s.history = j["history"];
    if (j.contains("config")) s.config = j["config"];
    return s;
}

namespace {
int64_t checkpoint_step(const fs::path& p) {
    std::string n = p.filename().string();
    const std::string prefix = "checkpoint-";
    if (n.rfind(prefix, 0) != 0) return -1;
    std::string digits = n.substr(prefix.size());
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return -1;
    if (!fs::exists(p / "trainer_state.json")) return -1;
    return std::stoll(digits);
}

std::vector<std::pair<int64_t, fs::path>> list_checkpoints(const std::string& run_dir) {
    std::vector<std::pair<int64_t, fs::path>> out;
    std::error_code ec;
    if (!fs::is_directory(run_dir, ec)) return out;
    for (const auto& e : fs::directory_iterator(run_dir, ec)) {
        if (!e.is_directory()) continue;
        int64_t s = checkpoint_step(e.path());
        if (s >= 0) out.emplace_back(s, e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}
}  // namespace

std::string latest_checkpoint(const std::string& run_dir) {
    auto all = list_checkpoints(run_dir);
    return all.empty() ? std::string() : all.back().second.string();
}

std::vector<std::string> checkpoints_newest_first(const std::string& run_dir) {
    std::vector<std::string> out;
    auto all = list_checkpoints(run_dir);
    for (auto it = all.rbegin(); it != all.rend(); ++it) out.push_back(it->second.string());
    return out;
}

Result<std::string> write_checkpoint(const std::string& run_dir, const std::vector<NamedParam>& trainable,
                                     const std::vector<LoraPair>& lora, const LoraSpec& spec,
                                     const Optimizer& optimizer, const TrainerState& state, int keep) {
    const fs::path final_dir = fs::path(run_dir) / ("checkpoint-" + std::to_string(state.step));
    const fs::path tmp_dir = fs::path(run_dir) / ("checkpoint-" + std::to_string(state.step) + ".tmp");
    const std::string ctx = "writing checkpoint " + final_dir.string();
    try {
        std::error_code ec;
        fs::remove_all(tmp_dir, ec);
        fs::create_directories(tmp_dir);
        NamedTensors params;
        for (const auto& p : trainable) params.emplace_back(p.name, p.tensor.detach().to(torch::kFloat32));
        MATRIX_CHECK(save_tensors((tmp_dir / "trainable.safetensors").string(), params));
        MATRIX_CHECK(optimizer.save((tmp_dir / "optimizer.pt").string()));
        MATRIX_CHECK(save_tensors((tmp_dir / "rng.safetensors").string(), {{"cpu", cpu_rng_state()}}));
        if (!lora.empty()) MATRIX_CHECK(save_peft_adapter((tmp_dir / "adapter").string(), lora, spec));
        {
            std::ofstream out(tmp_dir / "trainer_state.json", std::ios::trunc);
            out << state.to_json().dump(1) << "\n";
            if (!out) return make_error("cannot write trainer_state.json", ctx);
        }
        sync_tree(tmp_dir);
        // A checkpoint of the same step from an earlier attempt is replaced.
        if (fs::exists(final_dir)) fs::remove_all(final_dir);
        fs::rename(tmp_dir, final_dir);
        sync_path(run_dir);
        auto all = list_checkpoints(run_dir);
        for (size_t i = 0; i + static_cast<size_t>(std::max(1, keep)) < all.size(); ++i)
            fs::remove_all(all[i].second, ec);
        return final_dir.string();
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), ctx);
    }
}

Result<TrainerState> read_checkpoint(const std::string& ckpt_dir, const std::vector<NamedParam>& trainable,
                                     Optimizer* optimizer) {
    const std::string ctx = "reading checkpoint " + ckpt_dir;
    try {
        if (!fs::exists(fs::path(ckpt_dir) / "trainer_state.json")) return make_error("trainer_state.json missing", ctx);
        MATRIX_TRY(json state_json, read_json_file((fs::path(ckpt_dir) / "trainer_state.json").string()));
        TrainerState state = TrainerState::from_json(state_json);
        MATRIX_TRY(auto saved, load_tensors((fs::path(ckpt_dir) / "trainable.safetensors").string()));
        std::map<std::string, torch::Tensor> by_name(saved.begin(), saved.end());
        torch::NoGradGuard ng;
        for (const auto& p : trainable) {
            auto it = by_name.find(p.name);
            if (it == by_name.end()) return make_error("tensor " + p.name + " missing", ctx);
            if (it->second.sizes() != p.tensor.sizes()) return make_error("tensor " + p.name + " has another shape", ctx);
            p.tensor.copy_(it->second);
        }
        if (by_name.size() != trainable.size())
            return make_error("checkpoint has " + std::to_string(by_name.size()) + " tensors, the model trains " +
                                  std::to_string(trainable.size()), ctx);
        if (optimizer) MATRIX_CHECK(optimizer->load((fs::path(ckpt_dir) / "optimizer.pt").string()));
        MATRIX_TRY(auto rng, load_tensors((fs::path(ckpt_dir) / "rng.safetensors").string()));
        if (!rng.empty()) set_cpu_rng_state(rng.front().second);
        return state;
    } catch (const std::exception& e) {
        return make_error(one_line_error(e.what()), ctx);
    }
}

}  // namespace matrix::train
