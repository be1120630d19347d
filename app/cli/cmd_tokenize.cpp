// `matrix tokenize`: text -> token ids with a checkpoint's tokenizer.json (core/tokenizer), so prompts and
// training data can be checked against HF `tokenizers` from the shell.
#include <climits>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/cli/args.h"
#include "app/cli/command.h"
#include "core/tokenizer/tokenizer.h"

namespace {

int run_tokenize(int argc, char** argv) {
    matrix::cli::Args args(
        "usage: matrix tokenize --tokenizer DIR|FILE (--text S | --file F | --ids \"1 2 3\") [--json] [--no-special]\n"
        "                       [--skip-special]\n"
        "  Encodes text with an HF tokenizer.json (a checkpoint directory or the file itself).\n"
        "  Prints the ids separated by spaces; --json prints {\"ids\", \"tokens\", \"decoded\"}.\n"
        "  --no-special encodes special tokens such as <|im_end|> as plain text.\n"
        "  --ids decodes ids (separated by spaces or commas) back to text instead; --skip-special drops\n"
        "  special tokens from the decoded text.\n",
        {"tokenizer", "text", "file", "ids"}, {"json", "no-special", "skip-special"});
    if (!args.parse(argc, argv)) return args.help_requested() ? 0 : 2;
    if (!args.require({"tokenizer"}, "tokenize")) return 2;
    if (int(args.has("text")) + int(args.has("file")) + int(args.has("ids")) != 1) {
        std::cerr << "matrix tokenize: give exactly one of --text, --file and --ids (see --help)\n";
        return 2;
    }
    if (args.has("ids")) {
        std::vector<int32_t> ids;
        std::string list = *args.get("ids");
        for (char& c : list)
            if (c == ',' || c == '[' || c == ']') c = ' ';
        std::istringstream in(list);
        std::string word;
        while (in >> word) {
            try {
                size_t used = 0;
                long long v = std::stoll(word, &used);
                if (used != word.size()) throw std::invalid_argument(word);
                if (v < 0 || v > INT32_MAX) {
                    std::cerr << "matrix tokenize: --ids: " << word << " is not a token id (0 to 2147483647)\n";
                    return 2;
                }
                ids.push_back(int32_t(v));
            } catch (...) {
                std::cerr << "matrix tokenize: --ids: '" << word << "' is not an integer\n";
                return 2;
            }
        }
        auto tok = matrix::tok::Tokenizer::load(*args.get("tokenizer"));
        if (!tok) return matrix::cli::fail("tokenize: " + tok.error().to_string());
        for (int32_t id : ids)
            if (id < 0 || id >= tok->vocab_size())
                return matrix::cli::fail("tokenize: id " + std::to_string(id) + " is outside the vocabulary (size " +
                                         std::to_string(tok->vocab_size()) + ")");
        std::string text = tok->decode(ids, args.has("skip-special"));
        if (args.has("json")) {
            nlohmann::json j;
            j["ids"] = ids;
            j["tokens"] = tok->ids_to_tokens(ids);
            j["decoded"] = text;
            std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        } else {
            std::cout << text << "\n";
        }
        return 0;
    }
    std::string text;
    if (args.has("text")) {
        text = *args.get("text");
    } else {
        std::ifstream in(*args.get("file"), std::ios::binary);
        if (!in) return matrix::cli::fail("tokenize: cannot read " + *args.get("file"));
        std::stringstream ss;
        ss << in.rdbuf();
        text = ss.str();
    }
    auto tok = matrix::tok::Tokenizer::load(*args.get("tokenizer"));
    if (!tok) return matrix::cli::fail("tokenize: " + tok.error().to_string());
    std::vector<int32_t> ids = tok->encode(text, !args.has("no-special"));
    if (args.has("json")) {
        nlohmann::json j;
        j["ids"] = ids;
        j["tokens"] = tok->ids_to_tokens(ids);
        j["decoded"] = tok->decode(ids);
        std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
        std::cout << "\n";
    }
    return 0;
}

}  // namespace

MATRIX_CLI_COMMAND("tokenize", "encode text to token ids (or decode ids) with a tokenizer.json", run_tokenize);
