// See npz_writer.h. Zip layout (APPNOTE 6.3): a local header + data per entry, then the central directory and
// its end record; stored (method 0), CRC-32 by zlib.
#include "npz_writer.h"

#include <zlib.h>

#include <fstream>

namespace matrix::plugins {

namespace {

void put16(std::string& s, uint32_t v) {
    s += char(v & 0xFF);
    s += char((v >> 8) & 0xFF);
}
void put32(std::string& s, uint32_t v) {
    put16(s, v & 0xFFFF);
    put16(s, v >> 16);
}

}  // namespace

std::string npy_bytes(const NpyArray& a) {
    // Python's tuple syntax: (), (3,), (2, 4).
    std::string shape = "(";
    for (size_t i = 0; i < a.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(a.shape[i]);
    shape += a.shape.size() == 1 ? ",)" : ")";
    std::string header = "{'descr': '" + a.descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    // magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
    const size_t total = 10 + header.size() + 1;
    header += std::string((64 - total % 64) % 64, ' ') + "\n";
    std::string out = "\x93NUMPY";
    out += char(1);
    out += char(0);
    put16(out, static_cast<uint32_t>(header.size()));
    return out + header + a.data;
}

Status write_npz(const std::string& file, const std::vector<NpyArray>& arrays) {
    std::string zip, central;
    for (const NpyArray& a : arrays) {
        const std::string name = a.name + ".npy";
        const std::string body = npy_bytes(a);
        if (body.size() >= 0xFFFFFFFFu) return make_error("the array " + a.name + " is too large for a zip entry", file);
        const uint32_t crc = crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()));
        const uint32_t offset = static_cast<uint32_t>(zip.size());
        std::string local;
        put32(local, 0x04034b50);
        put16(local, 20);  // version needed
        put16(local, 0);   // flags
        put16(local, 0);   // stored
        put16(local, 0);   // time
        put16(local, (2024 - 1980) << 9 | 1 << 5 | 1);  // date: fixed, so equal masks give equal files
        put32(local, crc);
        put32(local, static_cast<uint32_t>(body.size()));
        put32(local, static_cast<uint32_t>(body.size()));
        put16(local, static_cast<uint32_t>(name.size()));
        put16(local, 0);
        zip += local + name + body;
        put32(central, 0x02014b50);
        put16(central, 20);  // made by
        central += local.substr(4, 26);  // version needed .. extra length, as in the local header
        put16(central, 0);   // comment length
        put16(central, 0);   // disk
        put16(central, 0);   // internal attributes
        put32(central, 0);   // external attributes
        put32(central, offset);
        central += name;
    }
    const uint32_t central_offset = static_cast<uint32_t>(zip.size());
    zip += central;
    put32(zip, 0x06054b50);
    put16(zip, 0);
    put16(zip, 0);
    put16(zip, static_cast<uint32_t>(arrays.size()));
    put16(zip, static_cast<uint32_t>(arrays.size()));
    put32(zip, static_cast<uint32_t>(central.size()));
    put32(zip, central_offset);
    put16(zip, 0);
    std::ofstream out(file, std::ios::binary);
    if (!out.write(zip.data(), static_cast<std::streamsize>(zip.size()))) return make_error("cannot write", file);
    return {};
}

}  // namespace matrix::plugins
