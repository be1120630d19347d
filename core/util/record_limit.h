// The per-record size limit shared by every importer of users' files (M-TRACE, Pref-X, step sampling, the
// benchmark loaders and run importers): a record longer than the limit is refused with one reason, worded the
// same everywhere, before it is parsed, because a parsed record costs many times its size in memory (a 50 MB
// string field once cost ~11x in an M-TRACE import and ~22x in `matrix bench load`). The rest goes on.
// Pure functions, no state.
#pragma once

#include <cstdint>
#include <string>

namespace matrix {

// 16 MiB: real records are far smaller (an M-TRACE trajectory averages ~11 KB, a GTA item ~5 KB).
constexpr uint64_t k_default_max_record_bytes = uint64_t{16} << 20;

// "52,428,912"
std::string grouped_number(uint64_t n);
// "16 MiB" for whole MiB, else "1,000 bytes".
std::string byte_size_text(uint64_t n);
// "the record is 52,428,912 bytes, over the 16 MiB per-record limit (--max-record-bytes)"
std::string record_over_limit_reason(uint64_t size, uint64_t limit);
// The size is over the limit (0 = no limit).
inline bool record_over_limit(uint64_t size, uint64_t limit) { return limit > 0 && size > limit; }

}  // namespace matrix
