// `--max-record-bytes N`, shared by `matrix import` and `matrix bench load|import-run`: the per-record size
// limit of core/util/record_limit.h (default 16 MiB; 0 = no limit).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "app/cli/args.h"

namespace matrix::cli {

// The option's value, the default when absent; nullopt (after one stderr line naming `command`) when it is not
// a non-negative whole number of bytes.
std::optional<uint64_t> max_record_bytes_arg(const Args& args, const std::string& command);

}  // namespace matrix::cli
