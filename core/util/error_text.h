// Error text for people: one line. LibTorch's exceptions (c10::Error) carry a C++ backtrace after the message
// ("\nException raised from <function> at <file>:<line> (most recent call first):\nframe #0: ..."), and some
// library messages span lines; the CLI and the GUI show errors as one line naming file, item and reason.
#pragma once

#include <string>
#include <string_view>

namespace matrix {

// The message without a LibTorch backtrace, its lines joined with "; ", surrounding whitespace trimmed.
std::string one_line_error(std::string_view message);

}  // namespace matrix
