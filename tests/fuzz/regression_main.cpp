// Runs a libFuzzer target over its saved corpus (seeds and every input that once crashed it) as an ordinary
// test: a crash, abort or sanitizer report fails the test. Usage: <target> DIR... (files directly in each DIR).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
    size_t n = 0;
    for (int i = 1; i < argc; ++i) {
        std::vector<std::filesystem::path> files;
        for (const auto& e : std::filesystem::directory_iterator(argv[i]))
            if (e.is_regular_file()) files.push_back(e.path());
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            std::ifstream in(f, std::ios::binary);
            const std::string bytes((std::istreambuf_iterator<char>(in)), {});
            std::fprintf(stderr, "%s (%zu bytes)\n", f.c_str(), bytes.size());
            LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
            ++n;
        }
    }
    std::printf("%zu inputs, no crash\n", n);
    return n == 0 ? 1 : 0;  // an empty corpus is a mistake in the test set-up
}
