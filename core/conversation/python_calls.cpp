// Call extraction over lexed agent code (see python_calls.h for what counts as a call and why).
#include "core/conversation/python_calls.h"

#include <algorithm>
#include <array>
#include <set>

#include "core/conversation/python_lexer.h"
#include "core/conversation/python_literal.h"

namespace matrix::conversation::py {

namespace {

// Python 3.11 builtins.__dict__: functions, types and exception classes.
const std::set<std::string_view> k_builtins = {
    "abs", "aiter", "all", "anext", "any", "ascii", "bin", "bool", "breakpoint", "bytearray", "bytes",
    "callable", "chr", "classmethod", "compile", "complex", "copyright", "credits", "delattr", "dict", "dir",
    "divmod", "enumerate", "eval", "exec", "exit", "filter", "float", "format", "frozenset", "getattr",
    "globals", "hasattr", "hash", "help", "hex", "id", "input", "int", "isinstance", "issubclass", "iter",
    "len", "license", "list", "locals", "map", "max", "memoryview", "min", "next", "object", "oct", "open",
    "ord", "pow", "print", "property", "quit", "range", "repr", "reversed", "round", "set", "setattr",
    "slice", "sorted", "staticmethod", "str", "sum", "super", "tuple", "type", "vars", "zip", "__import__",
    "ArithmeticError", "AssertionError", "AttributeError", "BaseException", "BaseExceptionGroup",
    "BlockingIOError", "BrokenPipeError", "BufferError", "BytesWarning", "ChildProcessError",
    "ConnectionAbortedError", "ConnectionError", "ConnectionRefusedError", "ConnectionResetError",
    "DeprecationWarning", "EOFError", "EncodingWarning", "EnvironmentError", "Exception", "ExceptionGroup",
    "FileExistsError", "FileNotFoundError", "FloatingPointError", "FutureWarning", "GeneratorExit", "IOError",
    "ImportError", "ImportWarning", "IndentationError", "IndexError", "InterruptedError", "IsADirectoryError",
    "KeyError", "KeyboardInterrupt", "LookupError", "MemoryError", "ModuleNotFoundError", "NameError",
    "NotADirectoryError", "NotImplementedError", "OSError", "OverflowError", "PendingDeprecationWarning",
    "PermissionError", "ProcessLookupError", "RecursionError", "ReferenceError", "ResourceWarning",
    "RuntimeError", "RuntimeWarning", "StopAsyncIteration", "StopIteration", "SyntaxError", "SyntaxWarning",
    "SystemError", "SystemExit", "TabError", "TimeoutError", "TypeError", "UnboundLocalError",
    "UnicodeDecodeError", "UnicodeEncodeError", "UnicodeError", "UnicodeTranslateError", "UnicodeWarning",
    "UserWarning", "ValueError", "Warning", "ZeroDivisionError", "NotImplemented", "Ellipsis",
    "__build_class__", "__debug__", "__doc__", "__loader__", "__name__", "__package__", "__spec__"};

struct Scanner {
    std::string_view src;
    std::vector<Token> toks;
    std::set<std::string, std::less<>> local_names;  // defined or imported by the code itself
    std::vector<Call>* out;

    // Names bound by `import a.b as c, d` / `from m import (x as y, z)` and by `def f` / `class C`.
    void collect_local_names() {
        for (size_t i = 0; i < toks.size(); ++i) {
            const Token& t = toks[i];
            if ((t.is_name(src, "def") || t.is_name(src, "class")) && i + 1 < toks.size() &&
                toks[i + 1].kind == TokenKind::Name) {
                local_names.emplace(toks[i + 1].text(src));
                continue;
            }
            if (!t.is_name(src, "import")) continue;
            size_t j = i + 1;
            bool item_start = true;
            while (j < toks.size() && toks[j].kind != TokenKind::Newline && !toks[j].is_op(src, ";")) {
                const Token& u = toks[j];
                if (u.is_op(src, ",")) {
                    item_start = true;
                } else if (u.is_name(src, "as") && j + 1 < toks.size() && toks[j + 1].kind == TokenKind::Name) {
                    local_names.emplace(toks[j + 1].text(src));
                    ++j;
                } else if (u.kind == TokenKind::Name && item_start) {
                    // `import a.b` binds `a`; `from m import x as y` binds y (the `as` branch adds it too).
                    const bool aliased = j + 1 < toks.size() && toks[j + 1].is_name(src, "as");
                    if (!aliased) local_names.emplace(u.text(src));
                    item_start = false;
                }
                ++j;
            }
        }
    }

    bool is_call_site(size_t i) const {
        const Token& t = toks[i];
        if (t.kind != TokenKind::Name || i + 1 >= toks.size() || !toks[i + 1].is_op(src, "(")) return false;
        const auto name = t.text(src);
        if (is_keyword(name) || is_builtin(name) || local_names.count(name)) return false;
        if (i > 0) {
            const Token& p = toks[i - 1];
            if (p.is_op(src, ".")) return false;  // method / attribute call
            if (p.is_name(src, "def") || p.is_name(src, "class")) return false;
        }
        return true;
    }

    // match[k]: for an opening bracket token, the index of its closer (npos when unbalanced).
    std::vector<size_t> match;
    void match_brackets() {
        match.assign(toks.size(), std::string_view::npos);
        std::vector<size_t> stack;
        for (size_t k = 0; k < toks.size(); ++k) {
            const Token& t = toks[k];
            if (t.kind != TokenKind::Op) continue;
            const auto s = t.text(src);
            if (s == "(" || s == "[" || s == "{") {
                stack.push_back(k);
            } else if ((s == ")" || s == "]" || s == "}") && !stack.empty()) {
                match[stack.back()] = k;
                stack.pop_back();
            }
        }
    }

    std::string source_of(size_t first, size_t last) const {
        if (first >= last) return {};
        return valid_utf8(src.substr(toks[first].begin, toks[last - 1].end - toks[first].begin));
    }

    CallArgument argument(size_t first, size_t last) const {
        CallArgument a;
        if (toks[first].is_op(src, "*") || toks[first].is_op(src, "**")) {
            a.star = toks[first].is_op(src, "*");
            a.double_star = !a.star;
            a.source = source_of(first + 1, last);
            return a;
        }
        if (last - first >= 2 && toks[first].kind == TokenKind::Name && toks[first + 1].is_op(src, "=")) {
            a.keyword = std::string(toks[first].text(src));
            first += 2;
        }
        a.source = source_of(first, last);
        a.literal = literal_value(src, toks, first, last);
        return a;
    }

    Call call_at(size_t i) const {
        Call c;
        c.name = std::string(toks[i].text(src));
        c.offset = toks[i].begin;
        const size_t open = i + 1;
        size_t close = match[open];
        if (close == std::string_view::npos) {  // unbalanced: the arguments run to the end of the logical line
            close = open + 1;
            while (close < toks.size() && toks[close].kind != TokenKind::Newline) ++close;
        }
        size_t arg_begin = open + 1;
        for (size_t k = open + 1; k < close; ++k) {
            const Token& t = toks[k];
            if (t.kind == TokenKind::Op && (t.is_op(src, "(") || t.is_op(src, "[") || t.is_op(src, "{")) &&
                match[k] != std::string_view::npos && match[k] < close) {
                k = match[k];  // skip the nested bracket; its commas are not ours
                continue;
            }
            if (t.is_op(src, ",")) {
                if (k > arg_begin) c.arguments.push_back(argument(arg_begin, k));
                arg_begin = k + 1;
            }
        }
        if (close > arg_begin) c.arguments.push_back(argument(arg_begin, close));
        return c;
    }

    void run(int nesting) {
        for (size_t i = 0; i < toks.size(); ++i) {
            if (is_call_site(i)) out->push_back(call_at(i));
            const Token& t = toks[i];
            if (t.kind == TokenKind::String && t.fstring && nesting < 4) {
                for (auto [b, e] : fstring_fields(src, t)) {
                    // Lex the field's expression on its own, then shift offsets back into the full source.
                    Scanner inner;
                    inner.src = src;
                    LexResult lr = lex(src.substr(b, e - b));
                    for (Token& u : lr.tokens) {
                        u.begin += b;
                        u.end += b;
                        u.body_begin += b;
                        u.body_end += b;
                    }
                    inner.toks = std::move(lr.tokens);
                    inner.local_names = local_names;
                    inner.match_brackets();
                    inner.out = out;
                    inner.run(nesting + 1);
                }
            }
        }
    }
};

}  // namespace

bool is_builtin(std::string_view name) {
    return k_builtins.count(name) > 0;
}

CallScan scan_calls(std::string_view code) {
    CallScan scan;
    LexResult lr = lex(code);
    scan.parses = lr.ok;
    scan.error = lr.error;
    Scanner s;
    s.src = code;
    s.toks = std::move(lr.tokens);
    s.out = &scan.calls;
    s.match_brackets();
    s.collect_local_names();
    s.run(0);
    std::stable_sort(scan.calls.begin(), scan.calls.end(),
                     [](const Call& a, const Call& b) { return a.offset < b.offset; });
    return scan;
}

}  // namespace matrix::conversation::py
