// Shared importer plumbing (see import_context.h).
#include "core/formats/import_context.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "core/store/task_repo.h"

namespace matrix::formats {

std::string file_stem(const std::string& path) {
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    size_t slash = p.rfind('/');
    std::string name = slash == std::string::npos ? p : p.substr(slash + 1);
    size_t dot = name.rfind('.');
    if (dot != std::string::npos && dot > 0) name = name.substr(0, dot);
    return name;
}

Status ImportContext::begin(const std::string& default_name, const std::string& kind, const std::string& source_path) {
    store::DatasetRepo datasets(m_db);
    const std::string name = m_options.dataset_name.empty() ? default_name : m_options.dataset_name;
    MATRIX_TRY(store::Dataset ds, datasets.find_or_create(name, kind, source_path));
    m_dataset_id = ds.id;
    std::vector<std::string> roots = m_options.image_roots;
    // The project's image roots apply to every import.
    MATRIX_TRY(auto setting, m_db.query_text("SELECT value FROM settings WHERE key='image_roots'"));
    if (setting) {
        auto j = nlohmann::json::parse(*setting, nullptr, false);
        if (j.is_array())
            for (auto& r : j)
                if (r.is_string()) roots.push_back(r.get<std::string>());
    }
    std::vector<std::string> merged = ds.image_roots;
    for (auto& r : roots)
        if (std::find(merged.begin(), merged.end(), r) == merged.end()) merged.push_back(r);
    if (merged != ds.image_roots) MATRIX_CHECK(datasets.set_image_roots(ds.id, merged));
    m_resolver = std::make_unique<MediaResolver>(merged);
    // Bulk-load settings of the full-text index (persistent FTS5 options): a 64 MB pending-terms buffer and
    // fewer, larger automatic merges cut the index's share of import time by about a quarter.
    (void)m_db.exec("INSERT INTO task_fts(task_fts, rank) VALUES('hashsize', 67108864);"
                    "INSERT INTO task_fts(task_fts, rank) VALUES('automerge', 16);");
    if (m_options.cache_mib > 0) {
        auto current = m_db.query_int64("PRAGMA cache_size");
        if (current.ok() && m_db.exec("PRAGMA cache_size=-" + std::to_string(int64_t(m_options.cache_mib) * 1024)).ok())
            m_saved_cache_size = current.value();
    }
    if (m_options.background_checkpoint) m_checkpointer = store::WalCheckpointer::start(m_db);
    return {};
}

ImportContext::~ImportContext() {
    m_tx.reset();
    m_checkpointer.reset();
    if (m_saved_cache_size) (void)m_db.exec("PRAGMA cache_size=" + std::to_string(*m_saved_cache_size));
}

Status ImportContext::ensure_batch() {
    if (m_tx) return {};
    if (m_checkpointer) m_checkpointer->before_transaction();
    m_tx = std::make_unique<store::Transaction>(m_db);
    if (!m_tx->begin_status().ok()) {
        Error e = m_tx->begin_status().error();
        m_tx.reset();
        return e;
    }
    m_in_batch = 0;
    return {};
}

Status ImportContext::record_done() {
    if (++m_in_batch >= std::max(1, m_options.batch_size)) return finish();
    return {};
}

Status ImportContext::finish() {
    if (!m_tx) return {};
    Status s = m_tx->commit();
    m_tx.reset();
    m_in_batch = 0;
    if (s.ok() && m_checkpointer) m_checkpointer->committed();
    return s;
}

void ImportContext::abort() {
    m_tx.reset();  // rolls back
    m_in_batch = 0;
    // Cached ids may name rows of the rolled-back batch.
    m_prompts.clear();
    if (m_resolver) m_resolver = std::make_unique<MediaResolver>(m_resolver->roots());
}

Result<int64_t> ImportContext::system_prompt_id(const std::string& text, size_t hash) {
    if (hash == 0) hash = std::hash<std::string>{}(text);
    auto& same_hash = m_prompts[hash];
    for (const auto& [known, id] : same_hash)
        if (known == text) return id;
    MATRIX_TRY(int64_t id, store::intern_system_prompt(m_db, text));
    same_hash.emplace_back(text, id);
    return id;
}

Result<ImportContext::MediaUse> ImportContext::media(const std::string& path, ImportReport& report) {
    store::MediaRepo repo(m_db);
    MATRIX_TRY(auto entry, m_resolver->intern(repo, path));
    MediaUse use;
    use.id = entry.first;
    use.missing = !entry.second.resolved_path.has_value();
    if (m_seen.emplace(path, true).second) {
        if (use.missing) ++report.media_missing;
        else if (entry.second.error) use.warning = path + ": " + *entry.second.error;
    }
    return use;
}

}  // namespace matrix::formats
