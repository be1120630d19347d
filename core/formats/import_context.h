// Plumbing shared by the importers: the batch transaction (commit every N records), the dataset lookup with
// image roots (options + project setting), system prompt interning with an in-memory cache (so a 13 KB prompt
// repeated 177K times is hashed once), media interning, and progress/cancel. Internal to core/formats.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/formats/import_report.h"
#include "core/formats/media_resolver.h"
#include "core/store/database.h"
#include "core/store/dataset_repo.h"
#include "core/store/media_repo.h"
#include "core/store/wal_checkpointer.h"

namespace matrix::formats {

class ImportContext {
public:
    ImportContext(store::Database& db, const ImportOptions& options) : m_db(db), m_options(options) {}
    // Rolls back an open batch, runs the last background checkpoint and restores the connection's page cache
    // size (ImportOptions::cache_mib).
    ~ImportContext();
    ImportContext(const ImportContext&) = delete;
    ImportContext& operator=(const ImportContext&) = delete;

    // Finds or creates the dataset (name from options or `default_name`), merges image roots and creates the
    // resolver. Must be called first.
    Status begin(const std::string& default_name, const std::string& kind, const std::string& source_path);
    int64_t dataset_id() const { return m_dataset_id; }

    // Opens the batch transaction when none is open; commits it every batch_size calls to record_done().
    Status ensure_batch();
    Status record_done();
    Status finish();  // commits the open batch
    void abort();     // rolls back the open batch

    // `hash`: std::hash of `text` when the caller already has it (0: computed here).
    Result<int64_t> system_prompt_id(const std::string& text, size_t hash = 0);
    // The media row for `path` (resolved once per import); counts distinct missing paths in the report.
    // `warning` is set the first time a path is found but unreadable / not an image.
    struct MediaUse {
        int64_t id = 0;
        bool missing = false;
        std::optional<std::string> warning;
    };
    Result<MediaUse> media(const std::string& path, ImportReport& report);

    bool cancelled() const { return m_options.progress.cancelled(); }
    void progress(int64_t done, int64_t total, const std::string& what) const { m_options.progress(done, total, what); }
    const ImportOptions& options() const { return m_options; }
    store::Database& db() { return m_db; }

private:
    store::Database& m_db;
    std::optional<int64_t> m_saved_cache_size;
    const ImportOptions& m_options;
    int64_t m_dataset_id = 0;
    std::unique_ptr<store::Transaction> m_tx;
    int m_in_batch = 0;
    // Prompt ids by the prompt's hash (texts compared on a hit): hashing a ~13 KB prompt per record was ~4% of
    // an M-TRACE import's writing thread, so the parsing thread hashes and the writer only compares.
    std::unordered_map<size_t, std::vector<std::pair<std::string, int64_t>>> m_prompts;
    std::unique_ptr<MediaResolver> m_resolver;
    std::unique_ptr<store::WalCheckpointer> m_checkpointer;
    std::unordered_map<std::string, bool> m_seen;
};

std::string file_stem(const std::string& path);

}  // namespace matrix::formats
