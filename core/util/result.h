// Result<T>: the return type of core's public calls: a value, or an Error{message, context}.
// Exceptions from LibTorch, SQLite or the JSON library are caught at core's edge and turned into an Error
// with the phase they happened in ("loading vision config: ..."), so callers (CLI, GUI) never see them.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace matrix {

struct Error {
    std::string message;  // what went wrong, one line
    std::string context;  // where: file, record index, phase ("model.safetensors: tensor lm_head.weight")

    std::string to_string() const { return context.empty() ? message : context + ": " + message; }
    // Returns a copy with an outer context prepended ("loading config: " + inner).
    Error within(const std::string& outer) const {
        return Error{message, context.empty() ? outer : outer + ": " + context};
    }
};

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : m_v(std::move(value)) {}
    Result(Error error) : m_v(std::move(error)) {}

    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(m_v); }
    const T& value() const& { return std::get<0>(m_v); }
    T&& value() && { return std::get<0>(std::move(m_v)); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }

    const Error& error() const { return std::get<1>(m_v); }

private:
    std::variant<T, Error> m_v;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)) {}
    bool ok() const { return !m_error.has_value(); }
    explicit operator bool() const { return ok(); }
    const Error& error() const { return *m_error; }

private:
    std::optional<Error> m_error;
};

using Status = Result<void>;

inline Error make_error(std::string message, std::string context = {}) {
    return Error{std::move(message), std::move(context)};
}

}  // namespace matrix

// Propagate an error from a Result-returning expression: MATRIX_TRY(auto x, load());
#define MATRIX_CONCAT_INNER(a, b) a##b
#define MATRIX_CONCAT(a, b) MATRIX_CONCAT_INNER(a, b)
#define MATRIX_TRY(decl, expr)                                                        \
    auto MATRIX_CONCAT(_matrix_r_, __LINE__) = (expr);                                \
    if (!MATRIX_CONCAT(_matrix_r_, __LINE__).ok())                                    \
        return MATRIX_CONCAT(_matrix_r_, __LINE__).error();                           \
    decl = std::move(MATRIX_CONCAT(_matrix_r_, __LINE__)).value()
#define MATRIX_CHECK(expr)                                                            \
    do {                                                                              \
        auto _matrix_s = (expr);                                                      \
        if (!_matrix_s.ok()) return _matrix_s.error();                                \
    } while (0)
