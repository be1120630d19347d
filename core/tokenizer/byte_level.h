// GPT-2 / HF "ByteLevel" mapping: every byte gets a printable code point (bytes_to_unicode), so BPE works
// on strings with no spaces or control characters ('Ġ' is the space, 'Ċ' the newline).
// Thread safety: the tables are built once (function-local static) and read-only afterwards.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace matrix::tok {

// Maps each byte of `bytes` to its ByteLevel character, UTF-8 encoded.
std::string byte_level_encode(std::string_view bytes);
// Appends the bytes a ByteLevel string stands for; returns false (appending nothing) if some character
// is not in the mapping (HF then uses the token's own UTF-8 bytes, see Tokenizer::decode).
bool byte_level_decode_append(std::string_view token, std::string& out);

}  // namespace matrix::tok
