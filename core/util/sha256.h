// SHA-256 (FIPS 180-4) for content hashes of media, system prompts and dataset snapshots.
// Self-contained so core needs no crypto library; not constant-time (hashes here are identities, not secrets).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace matrix {

class Sha256 {
public:
    Sha256();
    void update(const void* data, size_t n);
    void update(std::string_view s) { update(s.data(), s.size()); }
    std::array<uint8_t, 32> digest();  // finalises; the object must not be updated afterwards
    std::string hex_digest();

private:
    void compress(const uint8_t* block);
    uint32_t m_state[8];
    uint8_t m_buffer[64];
    size_t m_buffered = 0;
    uint64_t m_total_bytes = 0;
};

std::string sha256_hex(std::string_view data);
// Hash of a file's bytes; empty string when the file cannot be read.
std::string sha256_file_hex(const std::string& path);

}  // namespace matrix
