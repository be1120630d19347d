// Media: files referenced by records (task images, attachments, files tools produced), stored once per path as
// written in the record, with where it was found (resolved_path; NULL = missing), its SHA-256 and pixel size.
// Resolution against image roots lives in core/formats/media_resolver.h; this is only the rows.
// Thread safety: like Database (one thread per connection).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/store/database.h"

namespace matrix::store {

struct Media {
    int64_t id = 0;
    std::string path;                          // as written in the record
    std::optional<std::string> resolved_path;  // absolute path found on disk; nullopt = missing
    std::optional<std::string> sha256;
    std::optional<int> width, height;
    std::optional<int64_t> size_bytes;
    std::optional<std::string> error;  // why missing / unreadable
};

// A media row as linked to a task.
struct TaskMedia {
    Media media;
    std::string role;  // image | attachment | tool_output
    int position = 0;
    std::optional<std::string> label;  // "<image_00>", "Picture 2", ...
    std::optional<int> step_index;     // tool_output: step that produced it
};

struct MediaCounts {
    int64_t total = 0, missing = 0;
};

class MediaRepo {
public:
    explicit MediaRepo(Database& db) : m_db(db) {}

    // The id of the row for m.path, inserting m when absent. An existing row is left unchanged unless
    // `update` is true (then its resolution fields are replaced by m's).
    Result<int64_t> upsert(const Media& m, bool update = false);
    Result<std::optional<Media>> find(const std::string& path);
    // Inserts a row for a path known to be absent (importer fast path); returns its id.
    Result<int64_t> insert(const Media& m);
    Result<std::optional<Media>> get(int64_t id);
    // Links media to a task at (role, position); an error when that slot is taken (unlink first).
    Status link(int64_t task_id, const std::string& role, int position, int64_t media_id,
                const std::optional<std::string>& label = std::nullopt,
                const std::optional<int>& step_index = std::nullopt);
    Status unlink(int64_t task_id, const std::string& role, int position);
    // The task's media by role (image, attachment, tool_output) then position.
    Result<std::vector<TaskMedia>> for_task(int64_t task_id);
    // Media rows whose file was not found (for re-resolution against new roots), by id.
    Result<std::vector<Media>> missing(int64_t limit = -1);
    Result<MediaCounts> counts();
    // Recomputes tasks.n_images / n_missing_media for every task linked to this media row.
    Status refresh_tasks_of(int64_t media_id);

private:
    Database& m_db;
};

}  // namespace matrix::store
