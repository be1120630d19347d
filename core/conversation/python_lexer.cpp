// Python tokenizer for agent code (see python_lexer.h). Follows the Python 3 lexical grammar for the parts
// agents use; f-strings end at the first unescaped closing quote (Python < 3.12 rules, which the MATRIX
// interpreter ran under), and indentation is not checked (it does not change which calls the code makes).
#include "core/conversation/python_lexer.h"

#include <algorithm>
#include <array>

namespace matrix::conversation::py {

namespace {

bool is_name_start(unsigned char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80; }
bool is_name_char(unsigned char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

// Longest operators first so that "**=" wins over "**" and "*".
constexpr std::array<std::string_view, 47> k_ops = {
    "**=", "//=", ">>=", "<<=", "...", "->", ":=", "==", "!=", "<=", ">=", "**", "//", "<<", ">>", "+=",
    "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=", "+", "-", "*", "/", "%", "@", "&", "|", "^", "~",
    "<", ">", "(", ")", "[", "]", "{", "}", ",", ":", ".", ";", "="};

// Valid string prefixes (case-insensitive): r u b f br rb fr rf.
bool string_prefix(std::string_view name, bool& raw, bool& bytes, bool& fstr) {
    if (name.size() > 2) return false;
    raw = bytes = fstr = false;
    bool u = false;
    for (char c : name) {
        switch (c | 0x20) {
            case 'r': if (raw) return false; raw = true; break;
            case 'b': if (bytes) return false; bytes = true; break;
            case 'f': if (fstr) return false; fstr = true; break;
            case 'u': if (u) return false; u = true; break;
            default: return false;
        }
    }
    if (u && name.size() != 1) return false;
    if (bytes && fstr) return false;
    return true;
}

struct Lexer {
    std::string_view s;
    size_t i = 0;
    LexResult out;
    std::vector<char> stack;  // expected closers

    int line_of(size_t pos) const { return 1 + int(std::count(s.begin(), s.begin() + std::min(pos, s.size()), '\n')); }
    void fail(size_t pos, const std::string& what) {
        if (out.ok) out.error = "line " + std::to_string(line_of(pos)) + ": " + what;
        out.ok = false;
    }

    // Scans a string literal whose opening quote is at i; prefix tok already has begin set.
    void scan_string(Token& t) {
        const char q = s[i];
        const bool triple = i + 2 < s.size() && s[i + 1] == q && s[i + 2] == q;
        const size_t open = triple ? 3 : 1;
        t.body_begin = i + open;
        size_t j = t.body_begin;
        for (;;) {
            if (j >= s.size()) {
                fail(t.begin, "unterminated string literal");
                t.body_end = t.end = s.size();
                i = s.size();
                return;
            }
            const char c = s[j];
            if (c == '\\') {  // escapes the next char for termination purposes, also in raw strings
                j += 2;
                continue;
            }
            if (!triple && c == '\n') {
                fail(t.begin, "unterminated string literal");
                t.body_end = t.end = j;
                i = j;
                return;
            }
            if (c == q) {
                if (!triple) {
                    t.body_end = j;
                    t.end = j + 1;
                    i = t.end;
                    return;
                }
                if (j + 2 < s.size() && s[j + 1] == q && s[j + 2] == q) {
                    t.body_end = j;
                    t.end = j + 3;
                    i = t.end;
                    return;
                }
            }
            ++j;
        }
    }

    void scan_number(Token& t) {
        size_t j = i;
        if (s[j] == '0' && j + 1 < s.size() && std::string_view("xXoObB").find(s[j + 1]) != std::string_view::npos) {
            j += 2;
            while (j < s.size() && (is_name_char(static_cast<unsigned char>(s[j])))) ++j;
        } else {
            while (j < s.size() && (is_digit(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
            if (j < s.size() && s[j] == '.') {
                ++j;
                while (j < s.size() && (is_digit(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
            }
            if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
                size_t k = j + 1;
                if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
                if (k < s.size() && is_digit(static_cast<unsigned char>(s[k]))) {
                    j = k;
                    while (j < s.size() && (is_digit(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
                }
            }
            if (j < s.size() && (s[j] == 'j' || s[j] == 'J')) ++j;
        }
        t.kind = TokenKind::Number;
        t.end = j;
        i = j;
    }

    void newline(size_t pos) {
        if (!stack.empty()) return;
        if (!out.tokens.empty() && out.tokens.back().kind != TokenKind::Newline)
            out.tokens.push_back(Token{TokenKind::Newline, pos, pos + 1});
    }

    void run() {
        while (i < s.size()) {
            const unsigned char c = static_cast<unsigned char>(s[i]);
            if (c == '\n') {
                newline(i);
                ++i;
                continue;
            }
            if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
                ++i;
                continue;
            }
            if (c == '#') {
                while (i < s.size() && s[i] != '\n') ++i;
                continue;
            }
            if (c == '\\') {  // explicit line continuation
                size_t j = i + 1;
                while (j < s.size() && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r')) ++j;
                if (j < s.size() && s[j] == '\n') {
                    i = j + 1;
                    continue;
                }
                if (j >= s.size()) {
                    fail(i, "line continuation at end of code");
                    i = j;
                    continue;
                }
                fail(i, "unexpected character after line continuation");
                ++i;
                continue;
            }
            Token t;
            t.begin = i;
            if (is_name_start(c)) {
                size_t j = i;
                while (j < s.size() && is_name_char(static_cast<unsigned char>(s[j]))) ++j;
                bool raw, bytes, fstr;
                if (j < s.size() && (s[j] == '"' || s[j] == '\'') && string_prefix(s.substr(i, j - i), raw, bytes, fstr)) {
                    t.kind = TokenKind::String;
                    t.raw = raw;
                    t.bytes = bytes;
                    t.fstring = fstr;
                    i = j;
                    scan_string(t);
                } else {
                    t.kind = TokenKind::Name;
                    t.end = j;
                    i = j;
                }
                out.tokens.push_back(t);
                continue;
            }
            if (c == '"' || c == '\'') {
                t.kind = TokenKind::String;
                scan_string(t);
                out.tokens.push_back(t);
                continue;
            }
            if (is_digit(c) || (c == '.' && i + 1 < s.size() && is_digit(static_cast<unsigned char>(s[i + 1])))) {
                scan_number(t);
                out.tokens.push_back(t);
                continue;
            }
            bool matched = false;
            for (std::string_view op : k_ops) {
                if (s.substr(i, op.size()) == op) {
                    t.kind = TokenKind::Op;
                    t.end = i + op.size();
                    matched = true;
                    break;
                }
            }
            if (!matched) {
                fail(i, std::string("invalid character '") + char(c) + "'");
                ++i;
                continue;
            }
            const char oc = s[i];
            if (oc == '(' || oc == '[' || oc == '{') {
                stack.push_back(oc == '(' ? ')' : oc == '[' ? ']' : '}');
            } else if (oc == ')' || oc == ']' || oc == '}') {
                if (stack.empty()) {
                    fail(i, std::string("unmatched '") + oc + "'");
                } else if (stack.back() != oc) {
                    fail(i, std::string("closing '") + oc + "' does not match '" + stack.back() + "' expected");
                    stack.pop_back();
                } else {
                    stack.pop_back();
                }
            }
            i = t.end;
            out.tokens.push_back(t);
        }
        if (!stack.empty()) fail(s.size(), std::string("'") + stack.back() + "' was never closed");
        if (!out.tokens.empty() && out.tokens.back().kind != TokenKind::Newline)
            out.tokens.push_back(Token{TokenKind::Newline, s.size(), s.size()});
    }
};

}  // namespace

LexResult lex(std::string_view src) {
    Lexer l;
    l.s = src;
    l.run();
    return std::move(l.out);
}

std::vector<std::pair<size_t, size_t>> fstring_fields(std::string_view src, const Token& t) {
    std::vector<std::pair<size_t, size_t>> fields;
    if (t.kind != TokenKind::String || !t.fstring) return fields;
    const size_t end = std::min(t.body_end, src.size());
    size_t i = t.body_begin;
    // Reads one replacement field starting after its '{' at i; returns the index after its '}'.
    auto read_field = [&](auto&& self, size_t pos, int nesting) -> size_t {
        const size_t expr_begin = pos;
        int depth = 0;
        char quote = 0;
        size_t expr_end = std::string_view::npos;
        while (pos < end) {
            const char c = src[pos];
            if (quote) {
                if (c == '\\') ++pos;
                else if (c == quote) quote = 0;
                ++pos;
                continue;
            }
            if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '(' || c == '[' || c == '{') {
                ++depth;
            } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
                --depth;
            } else if (depth == 0 && (c == '}' || c == ':' || (c == '!' && (pos + 1 >= end || src[pos + 1] != '=')))) {
                expr_end = pos;
                break;
            }
            ++pos;
        }
        if (expr_end == std::string_view::npos) return end;
        // Trailing "=" of a self-documenting field ("{x=}") is not part of the expression.
        size_t e = expr_end;
        while (e > expr_begin && (src[e - 1] == ' ' || src[e - 1] == '\t')) --e;
        if (e > expr_begin && src[e - 1] == '=' &&
            !(e >= expr_begin + 2 && std::string_view("=!<>").find(src[e - 2]) != std::string_view::npos))
            --e;
        fields.emplace_back(expr_begin, e);
        pos = expr_end;
        if (src[pos] == '!') {
            while (pos < end && src[pos] != ':' && src[pos] != '}') ++pos;
        }
        if (pos < end && src[pos] == ':') {
            ++pos;
            while (pos < end && src[pos] != '}') {
                if (src[pos] == '{' && nesting < 8) pos = self(self, pos + 1, nesting + 1);
                else ++pos;
            }
        }
        return pos < end ? pos + 1 : end;
    };
    while (i < end) {
        const char c = src[i];
        if (c == '\\' && !t.raw) {
            i += 2;
            continue;
        }
        if (c == '{') {
            if (i + 1 < end && src[i + 1] == '{') {
                i += 2;
                continue;
            }
            i = read_field(read_field, i + 1, 0);
            continue;
        }
        ++i;
    }
    return fields;
}

bool is_keyword(std::string_view n) {
    static constexpr std::array<std::string_view, 35> kw = {
        "False", "None",   "True",    "and",   "as",     "assert", "async",  "await",    "break",
        "class", "continue", "def",   "del",   "elif",   "else",   "except", "finally",  "for",
        "from",  "global", "if",      "import", "in",    "is",     "lambda", "nonlocal", "not",
        "or",    "pass",   "raise",   "return", "try",   "while",  "with",   "yield"};
    return std::find(kw.begin(), kw.end(), n) != kw.end();
}

}  // namespace matrix::conversation::py
