// Schema migrations: an ordered list, migration N takes a database from the previous migration's
// user_version to N (versions increase; numbers reserved by other branches may be skipped). Opening a
// project applies the missing ones, each in its own transaction, so a project made by an older build opens and
// is upgraded in place. To change the schema, APPEND a migration (never edit a released one).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/store/database.h"

namespace matrix::store {

struct Migration {
    int version;            // user_version after this migration (1, 2, 3, ...; increasing)
    std::string name;       // one line: what it adds
    std::string sql;        // run first (may be empty)
    std::function<Status(Database&)> apply;  // optional C++ step run after `sql` (data back-fills)
};

// All migrations in order. The last one's version is the current schema version.
const std::vector<Migration>& migrations();
int current_schema_version();

// Applies migrations with version in (user_version, up_to] (up_to <= 0: all). Each runs in a transaction
// together with its PRAGMA user_version update, so a failure leaves the previous version intact.
// A database newer than this build (user_version > current) is an error: an old build must not write to it.
Status migrate(Database& db, int up_to = 0);

}  // namespace matrix::store
