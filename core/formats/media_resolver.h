// Finds the files records refer to ("data/open_llava_next/coco/train2017/0001.jpg") under the image roots the
// user configured (project setting + --image-root), trying the path as written and then ever shorter suffixes
// of it under each root (so a root holding "coco/train2017/" works). A file not found is recorded as missing,
// never an error that stops an import; a found file gets its SHA-256 and pixel size (header only).
// Containment: only a file whose real path (symlinks followed, ".." resolved) lies under a root's real path is
// found; "../../outside/secret.png", "/etc/passwd" or a link under a root pointing elsewhere are "outside the
// image roots" and never read. Files over k_max_media_bytes are not read either.
// The one resolver of the project: importers, training and the GUI's image viewer all find files through it.
// Not thread-safe (it caches); one per import.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/store/media_repo.h"

namespace matrix::formats {

constexpr int64_t k_max_media_bytes = int64_t{256} << 20;  // an image or attachment larger than this is refused

// Where a written path leads: the file found (absolute, real path) or why none was.
struct LocatedFile {
    std::optional<std::string> path;
    std::string error;                   // "not found under 2 image root(s)", "outside the image roots (...)"
    std::vector<std::string> looked_at;  // the candidate paths tried, in order
};

class MediaResolver {
public:
    explicit MediaResolver(std::vector<std::string> roots);

    // Finds the file without reading it (what the GUI needs to show an image).
    LocatedFile locate(const std::string& path_as_written) const;

    // resolved_path is nullopt when not found (error says where it looked); when found but unreadable or not
    // an image, resolved_path is set and error says why (width/height unset).
    store::Media resolve(const std::string& path_as_written);
    const std::vector<std::string>& roots() const { return m_roots; }

    // Inserts/updates the media row for `path` in the store, resolving it once per resolver; returns its id
    // and the resolved row. A row already present and found is reused as is; a missing one is re-resolved.
    Result<std::pair<int64_t, store::Media>> intern(store::MediaRepo& repo, const std::string& path);

private:
    std::vector<std::string> m_roots;
    std::vector<std::string> m_real_roots;  // realpath of each root that exists
    std::unordered_map<std::string, std::pair<int64_t, store::Media>> m_cache;
};

}  // namespace matrix::formats
