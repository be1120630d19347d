// What an import did: counts, and one issue per rejected record (file, record index, byte offset, reason) or
// per warning (an unreadable image). Shared by the M-TRACE, Pref-X and step-sampling importers, the CLI (one
// stderr line per issue) and the GUI's report view.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/util/progress.h"
#include "core/util/record_limit.h"

namespace matrix::formats {

struct ImportIssue {
    std::string file;
    int64_t index = -1;   // record index in the file (-1: not tied to a record)
    int64_t offset = -1;  // byte offset in the file (-1: unknown)
    std::string reason;
    bool rejected = true;  // false: a warning, the record was imported

    // "FILE: record N (byte B): REASON" / "FILE: record N: warning: REASON"
    std::string to_string() const;
};

struct ImportReport {
    int64_t dataset_id = 0;
    int64_t records = 0;           // records seen (elements, folders), damaged ones included
    int64_t imported = 0;          // new records written
    int64_t already_present = 0;   // skipped: same record already in the dataset (re-import)
    int64_t rejected = 0;          // records not imported (syntax errors inside them, missing keys, wrong types)
    int64_t syntax_errors = 0;     // JSON syntax errors, also those between records
    int64_t pairs = 0;             // pairs written (Pref-X records, step-sampling pairs)
    int64_t media_missing = 0;     // distinct media paths not found under the image roots
    int64_t linked_tasks = 0;      // Pref-X records attached to a task of another dataset (see link_existing_tasks)
    bool cancelled = false;
    std::vector<ImportIssue> issues;

    // Every record was imported (or was already there) and the file had no syntax error.
    bool all_imported() const { return rejected == 0 && syntax_errors == 0 && !cancelled; }
};

struct ImportOptions {
    std::string dataset_name;              // empty: the file (or folder) name without extension
    std::vector<std::string> image_roots;  // also the project's "image_roots" setting (importers add it)
    // Records per transaction. Each commit writes the batch's pages to the WAL and flushes the full-text
    // index's pending terms; 5,000 M-TRACE records (~50 MB of pages) commit at a fraction of the cost of 1,000
    // five times, and a cancelled import loses at most one batch.
    int batch_size = 5000;
    // Checkpoint the WAL from a second connection on its own thread while the import writes (see
    // store/wal_checkpointer.h) instead of inside the import's commits.
    bool background_checkpoint = true;
    // SQLite page cache of the import's connection while it runs (restored after). At 177K trajectories the
    // indexes outgrow the default 64 MiB and every insert misses: 1 GiB cut the writer's CPU from 63 s to 38 s.
    // Pages are allocated as they are touched, so small imports use little of it. 0 = leave the setting alone.
    int cache_mib = 1024;
    Progress progress;                     // done/total in bytes (folders: tasks); cancel between records
    // A record longer than this (an array element; a step-sampling task's file) is refused with its size and
    // skipped without being parsed; 0 = no limit.
    uint64_t max_record_bytes = k_default_max_record_bytes;
    // Step sampling (beam_search_data.json): which candidates become rejected actions.
    bool bleu_filter = false;        // false: every non-best candidate; true: spec section 4 filter
    double bleu_threshold = 0.3;     // keep candidates with char-BLEU against the chosen below this
    int max_format_error_rejects = 2;  // plus at most this many with a format error / error observation
    // Pref-X: a record whose system prompt, task text and image count equal a task of another dataset in the
    // project (the M-TRACE task it was cut from) attaches its pair to that task instead of creating a twin task.
    bool link_existing_tasks = true;
};

}  // namespace matrix::formats
