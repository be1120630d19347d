// Finds the files records refer to ("data/open_llava_next/coco/train2017/0001.jpg") under the image roots the
// user configured (project setting + --image-root), trying the path as written and then ever shorter suffixes
// of it under each root (so a root holding "coco/train2017/" works). A file not found is recorded as missing,
// never an error that stops an import; a found file gets its SHA-256 and pixel size (header only).
// Not thread-safe (it caches); one per import.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "core/store/media_repo.h"

namespace matrix::formats {

class MediaResolver {
public:
    explicit MediaResolver(std::vector<std::string> roots) : m_roots(std::move(roots)) {}

    // resolved_path is nullopt when not found (error says where it looked); when found but unreadable or not
    // an image, resolved_path is set and error says why (width/height unset).
    store::Media resolve(const std::string& path_as_written);
    const std::vector<std::string>& roots() const { return m_roots; }

    // Inserts/updates the media row for `path` in the store, resolving it once per resolver; returns its id
    // and the resolved row. A row already present and found is reused as is; a missing one is re-resolved.
    Result<std::pair<int64_t, store::Media>> intern(store::MediaRepo& repo, const std::string& path);

private:
    std::vector<std::string> m_roots;
    std::unordered_map<std::string, std::pair<int64_t, store::Media>> m_cache;
};

}  // namespace matrix::formats
