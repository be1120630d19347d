// Byte-pair encoding model of an HF tokenizer.json ("model": {"type": "BPE", vocab, merges}).
// A pre-token (ByteLevel characters) is split into characters, then the adjacent pair with the lowest
// merge rank is merged repeatedly (leftmost first among equal ranks), as HF tokenizers' Word::merge_all does.
// Results per pre-token are cached (repeated words are the common case in agent prompts).
// Thread safety: encode() may be called from several threads; the cache is guarded by a mutex.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/util/result.h"

namespace matrix::tok {

class BpeModel {
public:
    // `vocab`: token string -> id. `merges`: pairs in rank order; each merged string must be in vocab.
    static Result<std::shared_ptr<BpeModel>> create(std::unordered_map<std::string, int32_t> vocab,
                                                    const std::vector<std::pair<std::string, std::string>>& merges);

    // Appends the ids of one pre-token. Characters missing from the vocab are dropped (no unk token:
    // with a ByteLevel vocabulary all 256 byte characters exist, so this does not happen in practice).
    void encode(std::string_view word, std::vector<int32_t>& out) const;

    const std::unordered_map<std::string, int32_t>& vocab() const { return m_vocab; }
    size_t n_merges() const { return m_merges.size(); }
    size_t cache_size() const;
    void clear_cache() const;

    static constexpr size_t k_cache_capacity = 1 << 16;  // entries; the cache is cleared when full
    static constexpr size_t k_cache_max_word = 256;      // longer pre-tokens are not cached

private:
    struct Merge {
        int32_t rank;
        int32_t new_id;
    };
    void merge_word(std::string_view word, std::vector<int32_t>& out) const;

    std::unordered_map<std::string, int32_t> m_vocab;
    std::unordered_map<uint64_t, Merge> m_merges;  // (left id << 32 | right id) -> rank, merged id
    mutable std::mutex m_cache_mutex;
    mutable std::unordered_map<std::string, std::vector<int32_t>> m_cache;
};

}  // namespace matrix::tok
