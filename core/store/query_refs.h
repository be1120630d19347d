// A task row keeps its query once (migration 13). A long query used to be stored again and again in the same
// row: as tasks.prompt_text when the first user turn is the query itself, and inside tasks.extra (a benchmark
// item's JSON holds its query, the first user turn's text and that raw turn). Now:
//  - TaskRepo::insert stores a prompt_text equal to the query as NULL with tasks.prompt_is_query = 1, and
//    TaskRepo::get gives it back as the query;
//  - drop_query_copies replaces every string equal to the query inside a JSON value by null and lists where it
//    was (JSON pointers) under "query_at"; restore_query_copies puts the query back there. A value without
//    "query_at" is left as it is, so rows written before stay readable.
// Plain functions, no state.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/store/database.h"

namespace matrix::store {

// `value` must be an object to get a "query_at" list; nothing changes when the query is empty or not found.
void drop_query_copies(nlohmann::json& value, const std::string& query);
void restore_query_copies(nlohmann::json& value, const std::string& query);

// Migration 13's data step: the benchmark task rows (tasks.extra {"bench_item": ...}) written before it get their
// item's query copies dropped and a prompt_text equal to the query stored as prompt_is_query.
Status store_bench_task_queries_once(Database& db);

}  // namespace matrix::store
