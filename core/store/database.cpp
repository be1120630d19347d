// SQLite connection, statement and transaction wrappers (see database.h). All SQLite error codes are turned
// into matrix::Error here, with the failing SQL as context.
#include "core/store/database.h"

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace matrix::store {

// ---- Statement ----

Statement::Statement(Statement&& o) noexcept
    : m_stmt(o.m_stmt), m_db(o.m_db), m_bind_error(std::move(o.m_bind_error)) {
    o.m_stmt = nullptr;
}

Statement& Statement::operator=(Statement&& o) noexcept {
    if (this != &o) {
        if (m_stmt) sqlite3_finalize(m_stmt);
        m_stmt = o.m_stmt;
        m_db = o.m_db;
        m_bind_error = std::move(o.m_bind_error);
        o.m_stmt = nullptr;
    }
    return *this;
}

Statement::~Statement() {
    if (m_stmt) sqlite3_finalize(m_stmt);
}

const char* Statement::sql() const { return m_stmt ? sqlite3_sql(m_stmt) : ""; }

static Error stmt_error(sqlite3* db, const char* sql, const char* what) {
    return make_error(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "no connection"),
                      std::string("SQL ") + std::string(sql ? sql : "").substr(0, 120));
}

#define MATRIX_BIND_CHECK(call)                                                        \
    do {                                                                               \
        if (!m_stmt) break;                                                            \
        int rc_ = (call);                                                              \
        if (rc_ != SQLITE_OK && !m_bind_error) m_bind_error = stmt_error(m_db, sql(), "bind"); \
    } while (0)

Statement& Statement::bind(int index, int64_t v) {
    MATRIX_BIND_CHECK(sqlite3_bind_int64(m_stmt, index, v));
    return *this;
}
Statement& Statement::bind(int index, double v) {
    MATRIX_BIND_CHECK(sqlite3_bind_double(m_stmt, index, v));
    return *this;
}
Statement& Statement::bind(int index, std::string_view v) {
    MATRIX_BIND_CHECK(sqlite3_bind_text64(m_stmt, index, v.data() ? v.data() : "", v.size(), SQLITE_TRANSIENT,
                                          SQLITE_UTF8));
    return *this;
}
Statement& Statement::bind_static(int index, std::string_view v) {
    MATRIX_BIND_CHECK(sqlite3_bind_text64(m_stmt, index, v.data() ? v.data() : "", v.size(), SQLITE_STATIC, SQLITE_UTF8));
    return *this;
}
Statement& Statement::bind_null(int index) {
    MATRIX_BIND_CHECK(sqlite3_bind_null(m_stmt, index));
    return *this;
}

Result<bool> Statement::step() {
    if (!m_stmt) return make_error("step on an empty statement");
    if (m_bind_error) {
        Error e = *m_bind_error;
        m_bind_error.reset();
        sqlite3_reset(m_stmt);
        return e;
    }
    int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Error e = stmt_error(m_db, sql(), "step");
    sqlite3_reset(m_stmt);
    return e;
}

Status Statement::run() {
    for (;;) {
        auto r = step();
        if (!r.ok()) {
            reset();
            return r.error();
        }
        if (!r.value()) break;
    }
    reset();
    return {};
}

void Statement::reset() {
    if (!m_stmt) return;
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
    m_bind_error.reset();
}

int Statement::column_count() const { return m_stmt ? sqlite3_column_count(m_stmt) : 0; }
bool Statement::column_is_null(int col) const { return sqlite3_column_type(m_stmt, col) == SQLITE_NULL; }
int64_t Statement::column_int64(int col) const { return sqlite3_column_int64(m_stmt, col); }
double Statement::column_double(int col) const { return sqlite3_column_double(m_stmt, col); }
std::string_view Statement::column_view(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, col));
    if (!p) return {};
    return std::string_view(p, size_t(sqlite3_column_bytes(m_stmt, col)));
}
std::string Statement::column_text(int col) const { return std::string(column_view(col)); }
std::optional<std::string> Statement::column_optional_text(int col) const {
    if (column_is_null(col)) return std::nullopt;
    return column_text(col);
}
std::optional<int64_t> Statement::column_optional_int64(int col) const {
    if (column_is_null(col)) return std::nullopt;
    return column_int64(col);
}

// ---- Database ----

Result<Database> Database::open(const std::string& path, const OpenOptions& options) {
    Database db;
    int flags = options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    if (options.create && !options.read_only) flags |= SQLITE_OPEN_CREATE;
    flags |= SQLITE_OPEN_NOMUTEX;  // one connection per thread (see header)
    int rc = sqlite3_open_v2(path.c_str(), &db.m_db, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db.m_db ? sqlite3_errmsg(db.m_db) : sqlite3_errstr(rc);
        return make_error("cannot open database: " + msg, path);
    }
    db.m_path = path;
    sqlite3_extended_result_codes(db.m_db, 1);
    db.set_busy_timeout_ms(options.busy_timeout_ms);
    // WAL: readers never block the writer (the GUI browses while an import runs).
    std::string pragmas = "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;"
                          "PRAGMA cache_size=-65536;"
                          // After a checkpoint lets the WAL start again, cut the file back to 64 MiB (a bulk
                          // import would otherwise leave a WAL as large as its biggest stretch between restarts).
                          "PRAGMA journal_size_limit=67108864;";
    if (!options.read_only && path != ":memory:" && !path.empty()) pragmas = "PRAGMA journal_mode=WAL;" + pragmas;
    if (auto s = db.exec(pragmas); !s.ok()) return s.error().within(path);
    return db;
}

Database::Database(Database&& o) noexcept
    : m_db(o.m_db), m_busy_timeout_ms(o.m_busy_timeout_ms), m_path(std::move(o.m_path)), m_cache(std::move(o.m_cache)) {
    o.m_db = nullptr;
}

Database& Database::operator=(Database&& o) noexcept {
    if (this != &o) {
        m_cache.clear();
        if (m_db) sqlite3_close_v2(m_db);
        m_db = o.m_db;
        m_busy_timeout_ms = o.m_busy_timeout_ms;
        m_path = std::move(o.m_path);
        m_cache = std::move(o.m_cache);
        o.m_db = nullptr;
    }
    return *this;
}

Database::~Database() {
    m_cache.clear();  // finalise statements before closing
    if (m_db) sqlite3_close_v2(m_db);
}

Error Database::error(const std::string& context) const {
    return make_error(m_db ? sqlite3_errmsg(m_db) : "database not open", context);
}

Status Database::exec(std::string_view sql) {
    if (!m_db) return make_error("database not open");
    std::string s(sql);
    char* err = nullptr;
    int rc = sqlite3_exec(m_db, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        return make_error(msg, "SQL " + s.substr(0, 120));
    }
    return {};
}

Result<Statement> Database::prepare(std::string_view sql) {
    if (!m_db) return make_error("database not open");
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(m_db, sql.data(), int(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) return stmt_error(m_db, std::string(sql).c_str(), "prepare");
    return Statement(stmt, m_db);
}

Result<Statement*> Database::cached(const std::string& sql) {
    auto it = m_cache.find(sql);
    if (it != m_cache.end()) {
        it->second->reset();
        return it->second.get();
    }
    MATRIX_TRY(Statement st, prepare(sql));
    auto p = std::make_unique<Statement>(std::move(st));
    Statement* raw = p.get();
    m_cache.emplace(sql, std::move(p));
    return raw;
}

Result<int64_t> Database::query_int64(std::string_view sql) {
    MATRIX_TRY(Statement st, prepare(sql));
    MATRIX_TRY(bool row, st.step());
    return row ? st.column_int64(0) : int64_t(0);
}

Result<std::optional<std::string>> Database::query_text(std::string_view sql) {
    MATRIX_TRY(Statement st, prepare(sql));
    MATRIX_TRY(bool row, st.step());
    if (!row) return std::optional<std::string>();
    return st.column_optional_text(0);
}

int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(m_db); }
int64_t Database::changes() const { return sqlite3_changes64(m_db); }
bool Database::in_transaction() const { return m_db && sqlite3_get_autocommit(m_db) == 0; }

int Database::user_version() const {
    sqlite3_stmt* st = nullptr;
    int v = -1;
    if (sqlite3_prepare_v2(m_db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

void Database::set_busy_timeout_ms(int ms) {
    m_busy_timeout_ms = ms;
    if (m_db) sqlite3_busy_timeout(m_db, ms);
}

// ---- Transaction ----

Transaction::Transaction(Database& db) : m_db(db) {
    if (db.in_transaction()) {
        static std::atomic<uint64_t> counter{0};
        m_savepoint = "matrix_sp_" + std::to_string(++counter);
        m_begin = db.exec("SAVEPOINT " + m_savepoint);
    } else {
        m_begin = db.exec("BEGIN IMMEDIATE");
    }
    m_active = m_begin.ok();
}

Transaction::~Transaction() { rollback(); }

Status Transaction::commit() {
    if (!m_active) return make_error("commit of a transaction that is not active");
    Status s = m_savepoint.empty() ? m_db.exec("COMMIT") : m_db.exec("RELEASE " + m_savepoint);
    if (s.ok()) m_active = false;
    return s;
}

void Transaction::rollback() {
    if (!m_active) return;
    m_active = false;
    if (m_savepoint.empty()) {
        (void)m_db.exec("ROLLBACK");
    } else {
        (void)m_db.exec("ROLLBACK TO " + m_savepoint);
        (void)m_db.exec("RELEASE " + m_savepoint);
    }
}

std::string now_iso8601() {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
    return buf;
}

}  // namespace matrix::store
