// Tokenizer: loading tokenizer.json and the encode/decode pipelines (see tokenizer.h for the order of steps
// and which HF behaviours are reproduced). Unsupported tokenizer.json features fail loudly at load time.
#include "core/tokenizer/tokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <fstream>
#include <functional>
#include <sstream>
#include <sys/stat.h>
#include <unordered_map>
#include <unordered_set>

#include "core/tokenizer/bpe.h"
#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/regex_splitter.h"
#include "core/tokenizer/unicode_normalize.h"
#include "core/util/json_input.h"
#include "core/util/utf8.h"

namespace matrix::tok {

namespace {

// GPT-2's pattern, used by a ByteLevel pre-tokenizer with use_regex=true.
const char* const k_gpt2_pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

struct PreTokStep {
    enum class Kind { Split, ByteLevel } kind;
    std::optional<RegexSplitter> splitter;  // Split, or ByteLevel with use_regex
    bool add_prefix_space = false;          // ByteLevel
};

bool is_ws(char32_t c) {
    return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}
// Approximates Rust's char::is_alphanumeric || '_' (used by single_word): ASCII word chars and any non-ASCII
// non-space character.
bool is_word_char(char32_t c) {
    if (c < 0x80) return std::isalnum(int(c)) || c == '_';
    return !is_ws(c);
}
char32_t last_char(std::string_view s) {
    if (s.empty()) return 0;
    const size_t i = utf8::floor_boundary(s, s.size() - 1);
    auto cps = utf8_decode(s.substr(i));
    return cps.empty() ? 0 : cps[0];
}
char32_t first_char(std::string_view s) {
    if (s.empty()) return 0;
    size_t len = 1;
    while (len < s.size() && len < 4 && utf8::is_continuation(static_cast<unsigned char>(s[len]))) ++len;
    auto cps = utf8_decode(s.substr(0, len));
    return cps.empty() ? 0 : cps[0];
}

}  // namespace

struct Tokenizer::Impl {
    std::shared_ptr<BpeModel> bpe;
    bool ignore_merges = false;
    bool normalize_nfc = false;
    std::vector<PreTokStep> pre_steps;
    bool byte_level_decoder = false;
    std::vector<AddedToken> added;
    std::unordered_map<std::string, int32_t> added_by_content;
    std::unordered_map<int32_t, size_t> added_by_id;  // -> index in `added`
    std::vector<std::string> id_to_token;             // dense, "" for holes
    SpecialIds special;

    // One pass of added-token matching: pieces of `text` that are not added tokens are passed to `gap`,
    // matched tokens to `token`. `normalized_pass` selects tokens with normalized == that value.
    template <class Gap, class Tok>
    void split_added(std::string_view text, bool normalized_pass, bool allow_special, Gap&& gap, Tok&& token) const;
    void encode_gap(std::string_view normalized, std::vector<int32_t>& out) const;
    void encode_steps(size_t step, std::string_view piece, std::vector<int32_t>& out) const;
    std::vector<std::string> id_to_bytes;  // what each id decodes to (ByteLevel mapped back), "" for holes
    // Added tokens by first byte, per pass (0: normalized == false, 1: normalized == true).
    std::array<std::array<std::vector<const AddedToken*>, 256>, 2> by_first_byte;
};

template <class Gap, class Tok>
void Tokenizer::Impl::split_added(std::string_view text, bool normalized_pass, bool allow_special, Gap&& gap,
                                  Tok&& token) const {
    size_t gap_start = 0, pos = 0;
    const auto& table = by_first_byte[normalized_pass ? 1 : 0];
    while (pos < text.size()) {
        const auto& candidates = table[static_cast<unsigned char>(text[pos])];
        if (candidates.empty()) {
            ++pos;
            continue;
        }
        const AddedToken* best = nullptr;
        // Leftmost-longest: the longest added token starting at the first position where any starts.
        for (const AddedToken* t : candidates) {
            if ((t->special && !allow_special) || text.size() - pos < t->content.size()) continue;
            if (text.compare(pos, t->content.size(), t->content) != 0) continue;
            if (!best || t->content.size() > best->content.size()) best = t;
        }
        if (!best) {
            ++pos;
            continue;
        }
        size_t start = pos, stop = pos + best->content.size();
        if (best->single_word) {
            bool start_ok = start == 0 || !is_word_char(last_char(text.substr(0, start)));
            bool stop_ok = stop == text.size() || !is_word_char(first_char(text.substr(stop)));
            if (!start_ok || !stop_ok) {
                ++pos;
                continue;
            }
        }
        if (best->lstrip) {
            while (start > gap_start && is_ws(last_char(text.substr(gap_start, start - gap_start)))) {
                --start;
                while (start > gap_start && utf8::is_continuation(static_cast<unsigned char>(text[start]))) --start;
            }
        }
        if (best->rstrip) {
            while (stop < text.size() && is_ws(first_char(text.substr(stop)))) {
                ++stop;
                stop = utf8::ceil_boundary(text, stop);
            }
        }
        if (start > gap_start) gap(text.substr(gap_start, start - gap_start));
        token(*best);
        gap_start = pos = stop;
    }
    if (gap_start < text.size()) gap(text.substr(gap_start));
}

void Tokenizer::Impl::encode_gap(std::string_view normalized, std::vector<int32_t>& out) const {
    encode_steps(0, normalized, out);
}

// Applies pre-tokenizer steps [step, end) to `piece` depth-first, so pieces stay views into their
// parent's buffer and only ByteLevel-mapped text is materialised (one reused buffer per depth).
void Tokenizer::Impl::encode_steps(size_t step, std::string_view piece, std::vector<int32_t>& out) const {
    if (piece.empty()) return;
    if (step == pre_steps.size()) {
        if (ignore_merges) {
            auto it = bpe->vocab().find(std::string(piece));
            if (it != bpe->vocab().end()) {
                out.push_back(it->second);
                return;
            }
        }
        bpe->encode(piece, out);
        return;
    }
    const PreTokStep& st = pre_steps[step];
    std::vector<std::string_view> views;
    if (st.kind == PreTokStep::Kind::Split) {
        st.splitter->split(piece, views);
        for (auto v : views) encode_steps(step + 1, v, out);
        return;
    }
    std::string prefixed;
    if (st.add_prefix_space && piece[0] != ' ') {
        prefixed = " " + std::string(piece);
        piece = prefixed;
    }
    if (st.splitter) st.splitter->split(piece, views);
    else views.push_back(piece);
    std::string mapped;
    for (auto v : views) {
        mapped = byte_level_encode(v);
        encode_steps(step + 1, mapped, out);
    }
}

Result<Tokenizer> Tokenizer::load(const std::string& path) {
    std::string file = path;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) file = path + "/tokenizer.json";
    std::ifstream in(file, std::ios::binary);
    if (!in) return make_error("cannot open tokenizer file", file);
    std::stringstream ss;
    ss << in.rdbuf();
    return from_json(ss.str(), file);
}

Result<Tokenizer> Tokenizer::from_json(std::string_view json_text, const std::string& context) {
    using nlohmann::json;
    auto impl = std::make_shared<Impl>();
    try {
        auto parsed = parse_json(json_text);
        if (!parsed.ok()) return parsed.error().within(context);
        json j = std::move(parsed).value();
        // --- model
        const json& model = j.at("model");
        std::string type = model.value("type", "BPE");
        if (type != "BPE") return make_error("unsupported model type \"" + type + "\" (only BPE)", context);
        if (model.contains("continuing_subword_prefix") && !model["continuing_subword_prefix"].is_null())
            return make_error("unsupported BPE option continuing_subword_prefix", context);
        if (model.contains("end_of_word_suffix") && !model["end_of_word_suffix"].is_null())
            return make_error("unsupported BPE option end_of_word_suffix", context);
        if (model.value("byte_fallback", false))
            return make_error("unsupported BPE option byte_fallback", context);
        if (model.contains("dropout") && !model["dropout"].is_null() && model["dropout"].get<double>() > 0)
            return make_error("unsupported BPE option dropout", context);
        impl->ignore_merges = model.value("ignore_merges", false);
        std::unordered_map<std::string, int32_t> vocab;
        vocab.reserve(model.at("vocab").size());
        for (auto it = model.at("vocab").begin(); it != model.at("vocab").end(); ++it)
            vocab.emplace(it.key(), it.value().get<int32_t>());
        std::vector<std::pair<std::string, std::string>> merges;
        const json& jm = model.at("merges");
        merges.reserve(jm.size());
        for (size_t i = 0; i < jm.size(); ++i) {
            const json& m = jm[i];
            if (m.is_string()) {  // "a b" (older tokenizers)
                const std::string& s = m.get_ref<const std::string&>();
                size_t sp = s.find(' ');
                if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
                    return make_error("merge " + std::to_string(i) + " is not \"a b\": \"" + s + "\"", context);
                merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
            } else if (m.is_array() && m.size() == 2) {  // ["a", "b"] (tokenizers >= 0.20)
                merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
            } else {
                return make_error("merge " + std::to_string(i) + " is neither \"a b\" nor [a, b]", context);
            }
        }
        auto bpe = BpeModel::create(std::move(vocab), merges);
        if (!bpe) return bpe.error().within(context);
        impl->bpe = *bpe;

        // --- normalizer
        std::function<Status(const json&)> parse_norm = [&](const json& n) -> Status {
            if (n.is_null()) return {};
            std::string t = n.at("type").get<std::string>();
            if (t == "NFC") impl->normalize_nfc = true;
            else if (t == "Sequence") {
                for (const json& s : n.at("normalizers")) MATRIX_CHECK(parse_norm(s));
            } else return make_error("unsupported normalizer \"" + t + "\"", context);
            return {};
        };
        if (j.contains("normalizer")) MATRIX_CHECK(parse_norm(j["normalizer"]));

        // --- pre-tokenizer
        std::function<Status(const json&)> parse_pre = [&](const json& p) -> Status {
            if (p.is_null()) return {};
            std::string t = p.at("type").get<std::string>();
            if (t == "Sequence") {
                for (const json& s : p.at("pretokenizers")) MATRIX_CHECK(parse_pre(s));
            } else if (t == "Split") {
                const json& pat = p.at("pattern");
                std::string rx;
                if (pat.contains("Regex")) rx = pat["Regex"].get<std::string>();
                else return make_error("unsupported Split pattern (only Regex)", context);
                if (p.value("invert", false)) return make_error("unsupported Split option invert", context);
                std::string behavior = p.value("behavior", "Isolated");
                RegexSplitter::Behavior b;
                if (behavior == "Isolated") b = RegexSplitter::Behavior::Isolated;
                else if (behavior == "Removed") b = RegexSplitter::Behavior::Removed;
                else return make_error("unsupported Split behavior \"" + behavior + "\"", context);
                auto sp = RegexSplitter::create(rx, b);
                if (!sp) return sp.error().within(context);
                impl->pre_steps.push_back({PreTokStep::Kind::Split, std::move(*sp), false});
            } else if (t == "ByteLevel") {
                PreTokStep step{PreTokStep::Kind::ByteLevel, std::nullopt, p.value("add_prefix_space", false)};
                if (p.value("use_regex", true)) {
                    auto sp = RegexSplitter::create(k_gpt2_pattern);
                    if (!sp) return sp.error().within(context);
                    step.splitter = std::move(*sp);
                }
                impl->pre_steps.push_back(std::move(step));
            } else {
                return make_error("unsupported pre-tokenizer \"" + t + "\"", context);
            }
            return {};
        };
        if (j.contains("pre_tokenizer")) MATRIX_CHECK(parse_pre(j["pre_tokenizer"]));

        // --- decoder
        if (j.contains("decoder") && !j["decoder"].is_null()) {
            std::string t = j["decoder"].at("type").get<std::string>();
            if (t != "ByteLevel") return make_error("unsupported decoder \"" + t + "\" (only ByteLevel)", context);
            impl->byte_level_decoder = true;
        }

        // --- added tokens
        if (j.contains("added_tokens")) {
            for (const json& a : j["added_tokens"]) {
                AddedToken t;
                t.id = a.at("id").get<int32_t>();
                t.content = a.at("content").get<std::string>();
                t.special = a.value("special", false);
                t.normalized = a.value("normalized", !t.special);
                t.lstrip = a.value("lstrip", false);
                t.rstrip = a.value("rstrip", false);
                t.single_word = a.value("single_word", false);
                impl->added_by_content[t.content] = t.id;
                impl->added_by_id[t.id] = impl->added.size();
                impl->added.push_back(std::move(t));
            }
        }
    } catch (const std::exception& e) {
        return make_error(std::string("invalid tokenizer.json: ") + e.what(), context);
    }

    for (const AddedToken& t : impl->added)
        if (!t.content.empty())
            impl->by_first_byte[t.normalized ? 1 : 0][static_cast<unsigned char>(t.content[0])].push_back(&t);
    int32_t max_id = -1;
    for (const auto& [tok, id] : impl->bpe->vocab()) max_id = std::max(max_id, id);
    for (const AddedToken& t : impl->added) max_id = std::max(max_id, t.id);
    // Ids index tables sized by the largest one: a vocabulary is dense (Qwen2's 151,657 tokens use ids 0..151,656),
    // so an id far past the number of tokens is a broken (or hostile) file, not a few holes.
    const int64_t n_tokens = int64_t(impl->bpe->vocab().size()) + int64_t(impl->added.size());
    for (const auto& [tok, id] : impl->bpe->vocab())
        if (id < 0) return make_error("invalid tokenizer.json: vocab token has a negative id " + std::to_string(id), context);
    for (const AddedToken& t : impl->added)
        if (t.id < 0) return make_error("invalid tokenizer.json: added token has a negative id " + std::to_string(t.id), context);
    if (int64_t(max_id) >= 2 * n_tokens + 1024)
        return make_error("invalid tokenizer.json: token id " + std::to_string(max_id) + " is far past the " +
                              std::to_string(n_tokens) + " tokens the file defines",
                          context);
    impl->id_to_token.assign(size_t(max_id + 1), std::string());
    for (const auto& [tok, id] : impl->bpe->vocab())
        if (id >= 0) impl->id_to_token[size_t(id)] = tok;
    for (const AddedToken& t : impl->added)
        if (t.id >= 0) impl->id_to_token[size_t(t.id)] = t.content;
    // Decoded bytes per id. HF's ByteLevel decoder maps each character back to its byte; a token with a
    // character outside the byte map (e.g. an added token with non-Latin-1 text) contributes its UTF-8.
    impl->id_to_bytes.resize(impl->id_to_token.size());
    for (size_t id = 0; id < impl->id_to_token.size(); ++id) {
        const std::string& tok = impl->id_to_token[id];
        if (!impl->byte_level_decoder || !byte_level_decode_append(tok, impl->id_to_bytes[id]))
            impl->id_to_bytes[id] = tok;
    }

    auto find = [&](const char* s) {
        auto it = impl->added_by_content.find(s);
        if (it != impl->added_by_content.end()) return it->second;
        auto iv = impl->bpe->vocab().find(s);
        return iv != impl->bpe->vocab().end() ? iv->second : -1;
    };
    impl->special = {find("<|endoftext|>"), find("<|im_start|>"),   find("<|im_end|>"),  find("<|vision_start|>"),
                     find("<|vision_end|>"), find("<|image_pad|>"), find("<|video_pad|>")};
    Tokenizer tk;
    tk.m_impl = std::move(impl);
    return tk;
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool allow_special) const {
    const Impl& im = *m_impl;
    std::vector<int32_t> out;
    out.reserve(text.size() / 3 + 4);
    std::string clean = utf8_sanitize(text);
    im.split_added(
        clean, /*normalized_pass=*/false, allow_special,
        [&](std::string_view gap) {
            std::string normalized = im.normalize_nfc ? nfc(gap) : std::string(gap);
            im.split_added(
                normalized, /*normalized_pass=*/true, allow_special,
                [&](std::string_view piece) { im.encode_gap(piece, out); },
                [&](const AddedToken& t) { out.push_back(t.id); });
        },
        [&](const AddedToken& t) { out.push_back(t.id); });
    return out;
}

std::string Tokenizer::decode_bytes(const std::vector<int32_t>& ids, bool skip_special) const {
    const Impl& im = *m_impl;
    std::string out;
    out.reserve(ids.size() * 4);
    bool first = true;
    for (int32_t id : ids) {
        if (id < 0 || size_t(id) >= im.id_to_bytes.size()) continue;
        if (skip_special && is_special(id)) continue;
        const std::string& bytes = im.id_to_bytes[size_t(id)];
        if (bytes.empty()) continue;
        if (!im.byte_level_decoder && !first) out.push_back(' ');  // no decoder: HF joins tokens with spaces
        out += bytes;
        first = false;
    }
    return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
    return utf8_sanitize(decode_bytes(ids, skip_special));
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
    std::string key(token);
    auto it = m_impl->added_by_content.find(key);
    if (it != m_impl->added_by_content.end()) return it->second;
    auto iv = m_impl->bpe->vocab().find(key);
    if (iv != m_impl->bpe->vocab().end()) return iv->second;
    return std::nullopt;
}

std::string Tokenizer::id_to_token(int32_t id) const {
    if (id < 0 || size_t(id) >= m_impl->id_to_token.size()) return {};
    return m_impl->id_to_token[size_t(id)];
}

std::vector<std::string> Tokenizer::ids_to_tokens(const std::vector<int32_t>& ids) const {
    std::vector<std::string> out;
    out.reserve(ids.size());
    for (int32_t id : ids) out.push_back(id_to_token(id));
    return out;
}

int32_t Tokenizer::vocab_size() const { return int32_t(m_impl->id_to_token.size()); }

bool Tokenizer::is_special(int32_t id) const {
    auto it = m_impl->added_by_id.find(id);
    return it != m_impl->added_by_id.end() && m_impl->added[it->second].special;
}

const std::vector<AddedToken>& Tokenizer::added_tokens() const { return m_impl->added; }
const SpecialIds& Tokenizer::special_ids() const { return m_impl->special; }

std::string Tokenizer::normalize(std::string_view text) const {
    return m_impl->normalize_nfc ? nfc(text) : utf8_sanitize(text);
}

std::string StreamDecoder::push(int32_t id) {
    m_pending += m_tokenizer.decode_bytes({id}, m_skip_special);
    // Emit everything up to the last position where a complete UTF-8 sequence ends.
    size_t n = m_pending.size(), cut = n;
    size_t i = n;
    int back = 0;
    while (i > 0 && back < 4) {
        --i;
        ++back;
        unsigned char c = m_pending[i];
        if (utf8::is_continuation(c)) continue;
        const size_t need = utf8::sequence_length(c);
        if (n - i < need) cut = i;  // incomplete last character: hold it back
        break;
    }
    std::string out = utf8_sanitize(std::string_view(m_pending).substr(0, cut));
    m_pending.erase(0, cut);
    return out;
}

std::string StreamDecoder::flush() {
    std::string out = utf8_sanitize(m_pending);
    m_pending.clear();
    return out;
}

}  // namespace matrix::tok
