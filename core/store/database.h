// RAII wrappers over SQLite: Database (one sqlite3* connection), Statement (one prepared statement with typed
// bind/column helpers) and Transaction (rolls back unless committed). Everything the store does goes through
// these, so SQLite's C error codes become matrix::Error with the SQL that failed as context.
// Thread safety: a Database (and its Statements) belongs to ONE thread at a time. Open one connection per
// thread on the same file (WAL mode lets readers run while one writer writes; busy_timeout absorbs contention).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/util/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace matrix::store {

class Database;

// One prepared statement. Bind indices are 1-based, column indices 0-based (as in SQLite).
// Move-only; finalised on destruction. Statements must not outlive their Database.
class Statement {
public:
    Statement() = default;
    Statement(Statement&& o) noexcept;
    Statement& operator=(Statement&& o) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    // Binding: chainable. Errors (index out of range) are remembered and returned by the next step()/run().
    Statement& bind(int index, int64_t v);
    Statement& bind(int index, int v) { return bind(index, int64_t(v)); }
    Statement& bind(int index, bool v) { return bind(index, int64_t(v ? 1 : 0)); }
    Statement& bind(int index, double v);
    Statement& bind(int index, std::string_view v);  // copied by SQLite (SQLITE_TRANSIENT)
    Statement& bind(int index, const std::string& v) { return bind(index, std::string_view(v)); }
    Statement& bind(int index, const char* v) { return v ? bind(index, std::string_view(v)) : bind_null(index); }
    Statement& bind(int index, std::nullptr_t) { return bind_null(index); }
    template <class T>
    Statement& bind(int index, const std::optional<T>& v) {
        return v ? bind(index, *v) : bind_null(index);
    }
    Statement& bind_null(int index);
    // Binds text without copying it: only for a value that outlives the statement's next run() (which resets it
    // and clears its bindings). For large texts written in bulk (step rows, full-text documents), where SQLite's
    // copy of every bound string showed up in the import's profile.
    Statement& bind_static(int index, std::string_view v);
    Statement& bind_static(int index, const std::string& v) { return bind_static(index, std::string_view(v)); }
    Statement& bind_static(int index, const std::optional<std::string>& v) {
        return v ? bind_static(index, std::string_view(*v)) : bind_null(index);
    }
    // Binds several values to 1, 2, 3, ...: stmt.bind_all(a, b, c).
    template <class... Ts>
    Statement& bind_all(const Ts&... vs) {
        int i = 1;
        (bind(i++, vs), ...);
        return *this;
    }

    // Advances: true when a row is available, false when done; Error on failure.
    Result<bool> step();
    // Steps to completion ignoring rows (INSERT/UPDATE/DELETE), then resets so the statement can be reused.
    Status run();
    void reset();  // resets and clears bindings

    int column_count() const;
    bool column_is_null(int col) const;
    int64_t column_int64(int col) const;
    int column_int(int col) const { return int(column_int64(col)); }
    double column_double(int col) const;
    std::string column_text(int col) const;  // "" for NULL
    std::optional<std::string> column_optional_text(int col) const;
    std::optional<int64_t> column_optional_int64(int col) const;
    std::string_view column_view(int col) const;  // valid until the next step/reset

    sqlite3_stmt* handle() const { return m_stmt; }
    const char* sql() const;

private:
    friend class Database;
    Statement(sqlite3_stmt* stmt, sqlite3* db) : m_stmt(stmt), m_db(db) {}
    sqlite3_stmt* m_stmt = nullptr;
    sqlite3* m_db = nullptr;
    std::optional<Error> m_bind_error;
};

struct OpenOptions {
    bool create = true;          // create the file when absent
    bool read_only = false;
    int busy_timeout_ms = 5000;  // wait for another connection's write lock this long
};

// One SQLite connection: WAL journal, foreign_keys=ON, synchronous=NORMAL, busy_timeout set on open.
class Database {
public:
    // `path` may be ":memory:" (tests). Does NOT apply migrations: use store::Project::open for that.
    static Result<Database> open(const std::string& path, const OpenOptions& options = {});

    Database() = default;
    Database(Database&& o) noexcept;
    Database& operator=(Database&& o) noexcept;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    ~Database();

    bool is_open() const { return m_db != nullptr; }
    const std::string& path() const { return m_path; }
    sqlite3* handle() const { return m_db; }

    // Runs one or more ;-separated statements without results.
    Status exec(std::string_view sql);
    Result<Statement> prepare(std::string_view sql);
    // A statement prepared once per connection and reused (reset, bindings cleared) on every call: the hot
    // paths (import, paging) use this. The reference is valid until the Database is destroyed; do not hold
    // two uses of the same SQL text at once.
    Result<Statement*> cached(const std::string& sql);

    // Single-value helpers for "SELECT count(*) ..." style queries.
    Result<int64_t> query_int64(std::string_view sql);
    Result<std::optional<std::string>> query_text(std::string_view sql);

    int64_t last_insert_rowid() const;
    int64_t changes() const;
    bool in_transaction() const;  // false in autocommit mode
    int user_version() const;
    // How long a statement waits for another connection's write lock (OpenOptions::busy_timeout_ms on open).
    int busy_timeout_ms() const { return m_busy_timeout_ms; }
    void set_busy_timeout_ms(int ms);

    Error error(const std::string& context) const;  // the connection's last error as matrix::Error

private:
    sqlite3* m_db = nullptr;
    int m_busy_timeout_ms = 0;
    std::string m_path;
    std::map<std::string, std::unique_ptr<Statement>> m_cache;
};

// A write transaction: BEGIN IMMEDIATE at the outermost level, a SAVEPOINT when one is already open (so repo
// calls that use a Transaction can run inside an import's batch). Rolls back in the destructor unless
// commit() succeeded. Non-copyable, non-movable: create it on the stack.
class Transaction {
public:
    explicit Transaction(Database& db);
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    ~Transaction();

    // The status of BEGIN/SAVEPOINT: check it before doing work.
    const Status& begin_status() const { return m_begin; }
    Status commit();
    void rollback();

private:
    Database& m_db;
    Status m_begin;
    std::string m_savepoint;  // empty: outermost (BEGIN/COMMIT)
    bool m_active = false;
};

// Current UTC time as ISO-8601 with milliseconds ("2026-01-02T03:04:05.678Z"), as the schema's defaults write it.
std::string now_iso8601();

}  // namespace matrix::store
