// A tokenizer for the subset of Python that agents write in their code actions, enough to find calls and
// read their literal arguments without running Python: names, numbers, string literals (prefixes r/b/u/f,
// single/double/triple quotes, escapes), operators and brackets; comments, blank lines and backslash line
// continuations are skipped. It also checks what a format check needs: brackets balance and strings end.
// Pure functions, thread-safe, never throw.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace matrix::conversation::py {

enum class TokenKind { Name, Number, String, Op, Newline };

struct Token {
    TokenKind kind = TokenKind::Op;
    size_t begin = 0;  // byte offsets into the lexed source: [begin, end)
    size_t end = 0;
    // String tokens only: prefix flags and the body between the quotes ([body_begin, body_end)).
    bool raw = false;
    bool bytes = false;
    bool fstring = false;
    size_t body_begin = 0;
    size_t body_end = 0;

    std::string_view text(std::string_view src) const { return src.substr(begin, end - begin); }
    bool is_op(std::string_view src, std::string_view op) const { return kind == TokenKind::Op && text(src) == op; }
    bool is_name(std::string_view src, std::string_view name) const {
        return kind == TokenKind::Name && text(src) == name;
    }
};

struct LexResult {
    std::vector<Token> tokens;  // Newline tokens only at bracket depth 0 (logical line ends)
    bool ok = true;             // false: unterminated string, unbalanced bracket or a character Python rejects
    std::string error;          // first problem, "line N: ..." (empty when ok)
};

LexResult lex(std::string_view src);

// Offsets [begin, end) of the expressions inside an f-string token's replacement fields ("{expr!r:>{w}}"
// gives expr and w), in source order.
std::vector<std::pair<size_t, size_t>> fstring_fields(std::string_view src, const Token& fstring);

// Python keywords (hard ones): a keyword followed by "(" is not a call.
bool is_keyword(std::string_view name);

}  // namespace matrix::conversation::py
