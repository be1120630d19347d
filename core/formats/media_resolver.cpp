// Media path resolution against image roots (see media_resolver.h).
#include "core/formats/media_resolver.h"

#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/formats/image_probe.h"
#include "core/util/sha256.h"

namespace matrix::formats {

namespace {
bool is_file(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
std::string join(const std::string& root, const std::string& rel) {
    if (root.empty()) return rel;
    return root.back() == '/' ? root + rel : root + "/" + rel;
}
std::optional<std::string> real_path(const std::string& p) {
    char buf[PATH_MAX];
    if (!::realpath(p.c_str(), buf)) return std::nullopt;
    return std::string(buf);
}
bool under(const std::string& path, const std::string& root) {
    if (root == "/") return true;
    return path.size() > root.size() && path.compare(0, root.size(), root) == 0 && path[root.size()] == '/';
}
}  // namespace

MediaResolver::MediaResolver(std::vector<std::string> roots) : m_roots(std::move(roots)) {
    for (const auto& r : m_roots)
        if (auto real = real_path(r)) m_real_roots.push_back(*real);
}

LocatedFile MediaResolver::locate(const std::string& path) const {
    LocatedFile out;
    std::string outside;  // the first existing candidate that leads outside every root
    auto accept = [&](const std::string& candidate) {
        out.looked_at.push_back(candidate);
        if (!is_file(candidate)) return false;
        const auto real = real_path(candidate);
        if (!real) return false;
        for (const auto& root : m_real_roots)
            if (under(*real, root)) {
                out.path = *real;
                return true;
            }
        if (outside.empty()) outside = *real;
        return false;
    };
    if (!path.empty() && path[0] == '/' && accept(path)) return out;
    // Relative path (or an absolute one from another machine): root + path, then root + shorter suffixes.
    std::string rel = path;
    while (!rel.empty() && rel[0] == '/') rel.erase(0, 1);
    while (rel.rfind("./", 0) == 0) rel.erase(0, 2);
    for (size_t cut = 0; !rel.empty();) {
        const std::string suffix = rel.substr(cut);
        for (const auto& root : m_roots)
            if (accept(join(root, suffix))) return out;
        size_t slash = rel.find('/', cut);
        if (slash == std::string::npos) break;
        cut = slash + 1;
    }
    if (!outside.empty()) {
        out.error = "outside the image roots (the path leads to " + outside + ")";
    } else {
        out.error = m_roots.empty() ? std::string("not found (no image roots configured)")
                                    : "not found under " + std::to_string(m_roots.size()) + " image root(s)";
    }
    return out;
}

store::Media MediaResolver::resolve(const std::string& path) {
    store::Media m;
    m.path = path;
    LocatedFile located = locate(path);
    if (!located.path) {
        m.error = located.error;
        return m;
    }
    const std::string found = *located.path;
    m.resolved_path = found;
    struct stat st {};
    if (::stat(found.c_str(), &st) == 0 && st.st_size > k_max_media_bytes) {
        m.size_bytes = int64_t(st.st_size);
        m.error = "too large to read (" + std::to_string(st.st_size >> 20) + " MiB; the limit is " +
                  std::to_string(k_max_media_bytes >> 20) + " MiB)";
        return m;
    }
    std::ifstream in(found, std::ios::binary);
    if (!in) {
        m.error = std::string("unreadable: ") + std::strerror(errno);
        return m;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    if (in.bad()) {
        m.error = "unreadable: read error";
        return m;
    }
    m.size_bytes = int64_t(bytes.size());
    m.sha256 = sha256_hex(bytes);
    if (auto info = probe_image(bytes)) {
        m.width = info->width;
        m.height = info->height;
    } else {
        m.error = "not a readable image (unknown or damaged header)";
    }
    return m;
}

Result<std::pair<int64_t, store::Media>> MediaResolver::intern(store::MediaRepo& repo, const std::string& path) {
    if (auto it = m_cache.find(path); it != m_cache.end()) return it->second;
    MATRIX_TRY(auto existing, repo.find(path));
    std::pair<int64_t, store::Media> entry;
    if (existing && existing->resolved_path) {
        entry = {existing->id, *existing};
    } else {
        store::Media m = resolve(path);
        // A row already there (missing before) is updated only when the file is now found.
        const bool now_found = existing.has_value() && m.resolved_path.has_value();
        int64_t id = 0;
        if (existing) {
            MATRIX_TRY(int64_t up, repo.upsert(m, now_found));
            id = up;
        } else {
            MATRIX_TRY(int64_t ins, repo.insert(m));
            id = ins;
        }
        if (now_found) MATRIX_CHECK(repo.refresh_tasks_of(id));
        if (existing && !m.resolved_path) m = *existing;
        m.id = id;
        entry = {id, m};
    }
    m_cache.emplace(path, entry);
    return entry;
}

}  // namespace matrix::formats
