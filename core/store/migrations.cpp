// The project schema as a list of migrations (see migrations.h). Migration 1 holds every table the workbench
// uses (datasets, tasks, media, trajectories, steps, tool calls, preference pairs and their edit history,
// runs, metrics, checkpoints, provenance); migration 2 adds full-text search and back-fills it from the rows
// already present. Times are ISO-8601 UTC text; JSON columns hold compact JSON text.
#include "core/store/migrations.h"

#include <cstring>

#include <regex>

#include "core/store/fts.h"
#include "core/store/pair_repo.h"
#include "core/store/query_refs.h"

namespace matrix::store {

namespace {

const char* kSchemaV1 = R"SQL(
-- Project settings: key -> JSON value (e.g. "image_roots": ["/data/images"]).
CREATE TABLE settings(
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE datasets(
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  kind        TEXT NOT NULL CHECK(kind IN ('mtrace','prefx','beam','gta','gaia','agentx','demo')),
  source_path TEXT,
  image_roots TEXT NOT NULL DEFAULT '[]',   -- JSON array of directories the images were resolved against
  description TEXT,
  meta        TEXT NOT NULL DEFAULT '{}',   -- JSON: format-specific settings (e.g. a benchmark's tool list)
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);

-- The ~13 KB agent prompt is stored once per distinct text.
CREATE TABLE system_prompts(
  id     INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE,
  text   TEXT NOT NULL
);

CREATE TABLE tasks(
  id               INTEGER PRIMARY KEY,
  dataset_id       INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  record_key       TEXT NOT NULL,          -- identity inside the dataset: re-import skips a known key
  external_id      TEXT,                   -- the record's own id (M-TRACE id, GTA key, GAIA task_id)
  ordinal          INTEGER NOT NULL,       -- position in the imported file(s): export order
  query            TEXT NOT NULL DEFAULT '',  -- the task text shown to users (no Picture/Attachment lines)
  prompt_text      TEXT,                   -- the first user turn verbatim (Picture k: lines, Attachment:)
  answer           TEXT,                   -- the trajectory's / record's final answer as text
  ground_truth     TEXT,                   -- JSON (benchmark gold answer), NULL when none
  verdict          TEXT NOT NULL DEFAULT 'unknown' CHECK(verdict IN ('yes','no','unknown')),
  verifier_text    TEXT,                   -- the trajectory verifier's raw text
  source           TEXT,                   -- where the task came from ("mtrace", "gta", file name ...)
  level            TEXT,                   -- benchmark level (GAIA 1-3)
  category         TEXT,                   -- benchmark category (GTA objective/subjective/image-generation)
  system_prompt_id INTEGER REFERENCES system_prompts(id),
  n_steps          INTEGER NOT NULL DEFAULT 0,   -- steps of the task's primary trajectory (filters, sort)
  n_images         INTEGER NOT NULL DEFAULT 0,   -- media rows with role image
  n_missing_media  INTEGER NOT NULL DEFAULT 0,   -- linked media whose file was not found
  tools            TEXT NOT NULL DEFAULT '',     -- distinct tool names called, space separated (display)
  extra            TEXT,                   -- JSON: fields kept for a byte-faithful export ({"raw": record} ...)
  created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  UNIQUE(dataset_id, record_key)
);
CREATE INDEX tasks_dataset_ordinal ON tasks(dataset_id, ordinal);
CREATE INDEX tasks_dataset_steps ON tasks(dataset_id, n_steps);
CREATE INDEX tasks_external_id ON tasks(external_id);

-- A file referenced by a record, by the path as written; resolved_path NULL = missing.
CREATE TABLE media(
  id            INTEGER PRIMARY KEY,
  path          TEXT NOT NULL UNIQUE,
  resolved_path TEXT,
  sha256        TEXT,
  width         INTEGER,
  height        INTEGER,
  size_bytes    INTEGER,
  error         TEXT,                      -- why it is missing / unreadable
  checked_at    TEXT
);
CREATE INDEX media_missing ON media(resolved_path) WHERE resolved_path IS NULL;

CREATE TABLE task_media(
  task_id    INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  role       TEXT NOT NULL CHECK(role IN ('image','attachment','tool_output')),
  position   INTEGER NOT NULL,
  media_id   INTEGER NOT NULL REFERENCES media(id),
  label      TEXT,                         -- "<image_00>" (M-TRACE image map key), "Picture 2", NULL
  step_index INTEGER,                      -- for tool_output: the step whose observation produced it
  PRIMARY KEY(task_id, role, position)
) WITHOUT ROWID;
CREATE INDEX task_media_media ON task_media(media_id);

CREATE TABLE runs(
  id            INTEGER PRIMARY KEY,
  kind          TEXT NOT NULL CHECK(kind IN ('sft','dpo','eval','import')),
  name          TEXT NOT NULL DEFAULT '',
  status        TEXT NOT NULL DEFAULT 'created'
                CHECK(status IN ('created','running','paused','finished','failed','cancelled')),
  config        TEXT NOT NULL DEFAULT '{}',   -- JSON
  dataset_id    INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
  benchmark     TEXT,                        -- gta | gaia | agentx for eval runs
  model_path    TEXT,
  adapter_path  TEXT,
  parent_run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,  -- resumed / continued from
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  started_at    TEXT,
  finished_at   TEXT,
  error         TEXT,
  log           TEXT NOT NULL DEFAULT '',
  summary       TEXT NOT NULL DEFAULT '{}'   -- JSON: final metrics
);
CREATE INDEX runs_kind ON runs(kind, id);

CREATE TABLE trajectories(
  id           INTEGER PRIMARY KEY,
  task_id      INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  source       TEXT NOT NULL,               -- mtrace | gold | prefx | beam | run
  run_id       INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  final_answer TEXT,
  n_steps      INTEGER NOT NULL DEFAULT 0,
  extra        TEXT,                        -- JSON
  created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX trajectories_task ON trajectories(task_id);
CREATE INDEX trajectories_run ON trajectories(run_id) WHERE run_id IS NOT NULL;

-- One agent step: the assistant action (verbatim) and the observation printed after it.
CREATE TABLE steps(
  id              INTEGER PRIMARY KEY,
  trajectory_id   INTEGER NOT NULL REFERENCES trajectories(id) ON DELETE CASCADE,
  idx             INTEGER NOT NULL,         -- 0-based, = k of "[OUTPUT OF STEP k]"
  action          TEXT,                     -- assistant turn verbatim; NULL when the record has none
  thought         TEXT NOT NULL DEFAULT '',
  code            TEXT NOT NULL DEFAULT '',
  observation     TEXT,                     -- printed output / error message (no header); NULL when none
  observation_raw TEXT,                     -- the observation turn verbatim when it differs from the canonical form
  is_error        INTEGER NOT NULL DEFAULT 0,
  is_final        INTEGER NOT NULL DEFAULT 0,
  extra           TEXT,                     -- JSON (step sampling: rank_reason, beam_size ...)
  UNIQUE(trajectory_id, idx)
);

-- Step sampling keeps every candidate of a step (beam_search_data.json).
CREATE TABLE step_candidates(
  id          INTEGER PRIMARY KEY,
  step_id     INTEGER NOT NULL REFERENCES steps(id) ON DELETE CASCADE,
  position    INTEGER NOT NULL,             -- j of llm_output_j
  action      TEXT NOT NULL,
  rationale   TEXT,
  tool_call   TEXT,                         -- JSON {"tool_name","tool_arguments"} as given
  observation TEXT,
  is_best     INTEGER NOT NULL DEFAULT 0,
  UNIQUE(step_id, position)
);

CREATE TABLE tool_calls(
  id        INTEGER PRIMARY KEY,
  step_id   INTEGER NOT NULL REFERENCES steps(id) ON DELETE CASCADE,
  task_id   INTEGER NOT NULL,               -- denormalised for the "tool used" filter
  position  INTEGER NOT NULL,
  name      TEXT NOT NULL,
  arguments TEXT NOT NULL DEFAULT '{}',     -- JSON object
  known     INTEGER NOT NULL DEFAULT 0,
  UNIQUE(step_id, position)
);
CREATE INDEX tool_calls_name ON tool_calls(name, task_id);
CREATE INDEX tool_calls_task ON tool_calls(task_id, name);

-- Shared context of preference pairs: system prompt + images + history, stored once per distinct prefix.
CREATE TABLE pair_prefixes(
  id               INTEGER PRIMARY KEY,
  sha256           TEXT NOT NULL UNIQUE,
  system_prompt_id INTEGER REFERENCES system_prompts(id),
  images           TEXT NOT NULL DEFAULT '[]',  -- JSON array of image paths as written
  history          TEXT NOT NULL DEFAULT '[]'   -- JSON array of ShareGPT turns, ends with a human turn
);

CREATE TABLE pairs(
  id                   INTEGER PRIMARY KEY,
  dataset_id           INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  prefix_id            INTEGER NOT NULL REFERENCES pair_prefixes(id),
  task_id              INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
  step_index           INTEGER NOT NULL DEFAULT 0,  -- the step the actions are candidates for
  record_key           TEXT NOT NULL,               -- identity for idempotent re-import
  ordinal              INTEGER NOT NULL,            -- export order
  chosen_action        TEXT NOT NULL,
  chosen_observation   TEXT,
  rejected_action      TEXT NOT NULL,
  rejected_observation TEXT,
  status               TEXT NOT NULL DEFAULT 'pending' CHECK(status IN ('pending','approved','rejected')),
  rejection_reason     TEXT,
  note                 TEXT,
  origin               TEXT NOT NULL DEFAULT 'imported' CHECK(origin IN ('imported','sampled','hand-made')),
  extra                TEXT,                        -- JSON ({"raw": record} for a byte-faithful export, bleu ...)
  created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  UNIQUE(dataset_id, record_key)
);
CREATE INDEX pairs_dataset_status ON pairs(dataset_id, status, ordinal);
CREATE INDEX pairs_dataset_ordinal ON pairs(dataset_id, ordinal);
CREATE INDEX pairs_task ON pairs(task_id, step_index);

-- Every change to a pair, for history and undo. Edits made by one user action share group_id.
CREATE TABLE pair_edits(
  id        INTEGER PRIMARY KEY,
  pair_id   INTEGER NOT NULL REFERENCES pairs(id) ON DELETE CASCADE,
  group_id  INTEGER NOT NULL,
  field     TEXT NOT NULL,
  old_value TEXT,
  new_value TEXT,
  at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  undone    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX pair_edits_pair ON pair_edits(pair_id, id);
CREATE INDEX pair_edits_group ON pair_edits(group_id);

CREATE TABLE run_metrics(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name   TEXT NOT NULL,
  step   INTEGER NOT NULL,
  value  REAL NOT NULL,
  at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  PRIMARY KEY(run_id, name, step)
) WITHOUT ROWID;

CREATE TABLE checkpoints(
  id         INTEGER PRIMARY KEY,
  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step       INTEGER NOT NULL,
  path       TEXT NOT NULL,
  sha256     TEXT,
  extra      TEXT,                            -- JSON (epoch, optimizer state file ...)
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX checkpoints_run ON checkpoints(run_id, step);

-- The dataset snapshot a run trained / evaluated on.
CREATE TABLE run_samples(
  run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  item_kind    TEXT NOT NULL CHECK(item_kind IN ('task','pair','trajectory')),
  item_id      INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  PRIMARY KEY(run_id, item_kind, item_id)
) WITHOUT ROWID;

-- Per-task outcome of an eval run (benchmark answer, scores, the trajectory it produced).
CREATE TABLE run_results(
  id            INTEGER PRIMARY KEY,
  run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  task_id       INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
  task_key      TEXT NOT NULL,               -- the benchmark's own id of the task
  answer        TEXT,
  scores        TEXT NOT NULL DEFAULT '{}',  -- JSON {"official": 1, "matrix": 0, ...}
  trajectory_id INTEGER REFERENCES trajectories(id) ON DELETE SET NULL,
  error         TEXT,
  extra         TEXT,
  UNIQUE(run_id, task_key)
);
CREATE INDEX run_results_task ON run_results(task_id);

-- Generic provenance graph: pair -> dataset -> run -> checkpoint, adapter -> run, run -> run ...
-- kinds: dataset | task | pair | run | checkpoint | file
CREATE TABLE provenance(
  id         INTEGER PRIMARY KEY,
  from_kind  TEXT NOT NULL,
  from_id    INTEGER NOT NULL,
  to_kind    TEXT NOT NULL,
  to_id      INTEGER NOT NULL,
  relation   TEXT NOT NULL,                  -- "trained_on", "produced", "derived_from", "evaluated" ...
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  UNIQUE(from_kind, from_id, to_kind, to_id, relation)
);
CREATE INDEX provenance_to ON provenance(to_kind, to_id);
)SQL";

// Contentless FTS5 (the text lives in tasks/steps; storing it twice would double the file): one row per
// task, rowid = task id. Updates must delete with the old values first (fts.h does it).
const char* kSchemaV2 = R"SQL(
CREATE VIRTUAL TABLE task_fts USING fts5(query, thoughts, code, observations, content='',
                                         tokenize='unicode61 remove_diacritics 2');
)SQL";

// Indexes that hold tasks in each sortable column's order (entries end with the rowid, so (key, id) order):
// a page sorted by one of them scans the index and stops after one page instead of sorting every match
// (task_repo.cpp). Low-cardinality keys insert near the end of their group, so imports stay cheap.
const char* kSchemaV3 = R"SQL(
CREATE INDEX tasks_sort_query ON tasks(query COLLATE NOCASE);
CREATE INDEX tasks_sort_steps ON tasks(n_steps);
CREATE INDEX tasks_sort_verdict ON tasks(verdict);
CREATE INDEX tasks_sort_images ON tasks(n_images);
CREATE INDEX tasks_sort_missing ON tasks(n_missing_media);
)SQL";

// Replaces the CREATE TABLE text of tables by SQLite's documented procedure for changing constraints in place
// (writable_schema, then a new schema_version so every connection reloads the schema); inside the migration's
// transaction. {table name, new CREATE TABLE text}.
Status replace_table_sql(Database& db, const std::vector<std::pair<std::string, std::string>>& rewritten) {
    MATRIX_TRY(int64_t schema_version, db.query_int64("PRAGMA schema_version"));
    MATRIX_CHECK(db.exec("PRAGMA writable_schema=ON"));
    for (const auto& [name, sql] : rewritten) {
        MATRIX_TRY(Statement update, db.prepare("UPDATE sqlite_schema SET sql=? WHERE type='table' AND name=?"));
        update.bind_all(sql, name);
        if (auto s = update.run(); !s.ok()) {
            (void)db.exec("PRAGMA writable_schema=OFF");
            return s;
        }
    }
    MATRIX_CHECK(db.exec("PRAGMA schema_version=" + std::to_string(schema_version + 1)));
    return db.exec("PRAGMA writable_schema=OFF");
}

// Migration 4: the schema's `CHECK(col IN ('a','b',...))` constraints become `CHECK(col='a' OR col='b' ...)`.
// Why: SQLite evaluates an IN list of three or more constants through an ephemeral table built on every
// execution of the INSERT, so each task row, media link and pair paid for creating, filling and dropping a
// small b-tree: about a tenth of the import's writing CPU (callgrind, 5K M-TRACE records). The two forms accept
// exactly the same values, so existing rows stay valid and no table needs rebuilding: the CREATE TABLE text is
// edited in place by SQLite's documented procedure for changing CHECK constraints (writable_schema, then a new
// schema_version so every connection reloads the schema), inside the migration's transaction.
Status rewrite_in_list_checks(Database& db) {
    static const std::regex check(R"(CHECK\((\w+) IN \(((?:'[^']*'\s*,\s*)*'[^']*')\)\))");
    static const std::regex literal(R"('[^']*')");
    MATRIX_TRY(Statement tables, db.prepare("SELECT name, sql FROM sqlite_schema WHERE type='table' AND sql LIKE '%CHECK(% IN (%'"));
    std::vector<std::pair<std::string, std::string>> rewritten;
    for (;;) {
        MATRIX_TRY(bool row, tables.step());
        if (!row) break;
        const std::string name = tables.column_text(0), sql = tables.column_text(1);
        std::string out;
        auto last = sql.cbegin();
        for (std::sregex_iterator m(sql.begin(), sql.end(), check), end; m != end; ++m) {
            out.append(last, (*m)[0].first);
            const std::string column = (*m)[1].str(), list = (*m)[2].str();
            std::string alternatives;
            for (std::sregex_iterator v(list.begin(), list.end(), literal), vend; v != vend; ++v)
                alternatives += (alternatives.empty() ? "" : " OR ") + column + "=" + v->str();
            out += "CHECK(" + alternatives + ")";
            last = (*m)[0].second;
        }
        out.append(last, sql.cend());
        if (out != sql) rewritten.emplace_back(name, out);
    }
    tables.reset();
    if (rewritten.empty()) return {};
    return replace_table_sql(db, rewritten);
}

// Migration 5: agent runs. runs.kind gains 'agent' (a run of the agent runtime: `matrix agent run`, the GUI's
// "Run agent"), datasets.kind gains 'adhoc' (tasks typed in by a user rather than imported). The CHECK
// constraints are extended in place like migration 4 (every existing row stays valid).
Status allow_agent_runs(Database& db) {
    struct Edit {
        const char* table;
        const char* from;
        const char* to;
    };
    const Edit edits[] = {
        {"runs", "kind='import')", "kind='import' OR kind='agent')"},
        {"datasets", "kind='demo')", "kind='demo' OR kind='adhoc')"},
    };
    std::vector<std::pair<std::string, std::string>> rewritten;
    for (const Edit& e : edits) {
        MATRIX_TRY(Statement st, db.prepare("SELECT sql FROM sqlite_schema WHERE type='table' AND name=?"));
        st.bind_all(std::string(e.table));
        MATRIX_TRY(bool row, st.step());
        if (!row) return make_error(std::string("no table ") + e.table);
        std::string sql = st.column_text(0);
        const size_t at = sql.find(e.from);
        if (at == std::string::npos || sql.find(e.from, at + 1) != std::string::npos)
            return make_error(std::string("unexpected CHECK constraint in table ") + e.table + " (looked for " + e.from + ")");
        sql.replace(at, std::strlen(e.from), e.to);
        rewritten.emplace_back(e.table, sql);
    }
    return replace_table_sql(db, rewritten);
}

// Migration 6: replies of chat endpoints by request (core/net/chat_client.h, store/request_cache_repo.h), so an
// interrupted job run again gets the same answers without paying twice. key = sha256 of the endpoint, the
// canonical request JSON and the sample index; request holds that JSON with images replaced by their hashes;
// response is a chat.completion JSON object.
const char* kSchemaV6 = R"SQL(
CREATE TABLE request_cache(
  key        TEXT PRIMARY KEY,
  endpoint   TEXT NOT NULL,
  model      TEXT NOT NULL,
  request    TEXT NOT NULL,
  response   TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
)SQL";

// Migration 7: Pref-X histories as steps (pair_prefix_steps), so curation and training read steps rather than
// parsing ShareGPT text again. Only histories the steps give back byte for byte are converted (their text is
// then rebuilt on read, so every export stays identical); the others keep their text.
const char* kSchemaV7 = R"SQL(
ALTER TABLE pair_prefixes ADD COLUMN task_turn TEXT;  -- history[0].value when the history is stored as steps
CREATE TABLE pair_prefix_steps(
  id              INTEGER PRIMARY KEY,
  prefix_id       INTEGER NOT NULL REFERENCES pair_prefixes(id) ON DELETE CASCADE,
  idx             INTEGER NOT NULL,         -- 0-based: the (gpt, human) turn pair after the task turn
  action          TEXT,                     -- the gpt turn verbatim (with <end_action>)
  thought         TEXT NOT NULL DEFAULT '',
  code            TEXT NOT NULL DEFAULT '',
  observation     TEXT,                     -- printed output / error message (no header); NULL when none
  observation_raw TEXT,                     -- the human turn verbatim when it differs from the canonical form
  is_error        INTEGER NOT NULL DEFAULT 0,
  is_final        INTEGER NOT NULL DEFAULT 0,
  UNIQUE(prefix_id, idx)
);
)SQL";

// Migration 8: step-wise Pref-X sampling (`matrix sample`, core/agent/sampling.h). runs.kind gains 'sample'
// (CHECK extended in place as in migration 5); sampled_pairs links each sampled pair to its run, the step record
// it was cut from (steps + step_candidates: every candidate with its observation), the rejected and chosen
// candidates' positions, the verifier's reason and the rule that kept the rejected one.
const char* kSchemaV8 = R"SQL(
CREATE TABLE sampled_pairs(
  pair_id          INTEGER PRIMARY KEY REFERENCES pairs(id) ON DELETE CASCADE,
  run_id           INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  step_id          INTEGER REFERENCES steps(id) ON DELETE SET NULL,  -- the step record the pair was cut from
  candidate        INTEGER NOT NULL,          -- position of the rejected candidate in the step
  chosen_candidate INTEGER NOT NULL,          -- position of the verifier's choice
  verifier_reason  TEXT,
  rule             TEXT NOT NULL,             -- 'bleu' (below the threshold) | 'error' (one of the first error ones)
  bleu             REAL NOT NULL
);
CREATE INDEX sampled_pairs_run ON sampled_pairs(run_id);
)SQL";

// Migration 9: M-TRACE synthesis (core/synth, `matrix synth`). synth_items: one row per unit of work of a stage
// (a query round, or one task) in a dataset, written once when the unit is finished (done or rejected), so a
// killed job never redoes a finished unit and never stores one twice; each row keeps the model, the prompt (name
// and sha256) and the seed that made it. synth_rejects: every rejected output with its reason (a duplicate
// query, a malformed teacher answer, a verifier's "no"). synth_usage: one row per endpoint request (tokens, from
// the cache or paid), written as soon as the reply arrives: the accounting and the token budget read it.
const char* kSchemaV9 = R"SQL(
CREATE TABLE synth_items(
  id            INTEGER PRIMARY KEY,
  dataset_id    INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  stage         TEXT NOT NULL,              -- queries | files | images | verify-files | trajectories | verify-trajectories
  item_key      TEXT NOT NULL,              -- "round-<k>" (queries) or "task-<id>"
  task_id       INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
  status        TEXT NOT NULL,              -- done | rejected
  n_out         INTEGER NOT NULL DEFAULT 0, -- outputs made (tasks, files, images, accepted verdicts)
  n_rejected    INTEGER NOT NULL DEFAULT 0,
  reason        TEXT,                       -- why rejected (one line)
  model         TEXT NOT NULL DEFAULT '',
  prompt_name   TEXT NOT NULL DEFAULT '',
  prompt_sha256 TEXT NOT NULL DEFAULT '',
  seed          INTEGER NOT NULL DEFAULT 0,
  output        TEXT NOT NULL DEFAULT '{}', -- JSON: what the unit produced
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  UNIQUE(dataset_id, stage, item_key)
);
CREATE INDEX synth_items_task ON synth_items(task_id);
CREATE TABLE synth_rejects(
  id         INTEGER PRIMARY KEY,
  dataset_id INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  stage      TEXT NOT NULL,
  item_key   TEXT NOT NULL,
  task_id    INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
  reason     TEXT NOT NULL,                 -- "duplicate", "no JSON", "verifier: no" ... (grouped in the status)
  detail     TEXT NOT NULL DEFAULT ''       -- the rejected text or the specifics
);
CREATE INDEX synth_rejects_stage ON synth_rejects(dataset_id, stage);
CREATE TABLE synth_usage(
  id                INTEGER PRIMARY KEY,
  dataset_id        INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  stage             TEXT NOT NULL,
  model             TEXT NOT NULL,
  item_key          TEXT NOT NULL DEFAULT '',
  kind              TEXT NOT NULL DEFAULT 'chat',  -- chat | embeddings
  prompt_tokens     INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cached            INTEGER NOT NULL DEFAULT 0,    -- 1: answered by the request cache (not paid again)
  at                TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX synth_usage_stage ON synth_usage(dataset_id, stage, model);
)SQL";

// Migration 10: jobs (core/jobs/job_repo.h): a `matrix` process (train, eval or sample) launched detached on this
// machine or submitted to Slurm, so it outlives the window that started it. argv is the JSON array of arguments
// after the binary; pid_start is the process's start time (clock ticks after boot, /proc/PID/stat field 22), so a
// reused pid is never taken for the job's; reason holds why it failed or was cancelled (with the log's tail).
const char* kSchemaV10 = R"SQL(
CREATE TABLE jobs(
  id             INTEGER PRIMARY KEY,
  kind           TEXT NOT NULL CHECK(kind='train' OR kind='eval' OR kind='sample'),
  argv           TEXT NOT NULL,               -- JSON array: the arguments after `matrix`
  cwd            TEXT NOT NULL DEFAULT '',
  backend        TEXT NOT NULL DEFAULT 'local' CHECK(backend='local' OR backend='slurm'),
  host           TEXT,                        -- where the job's supervisor runs
  pid            INTEGER,                     -- the supervisor's pid (its process group is the job's)
  pid_start      INTEGER,                     -- its start time in clock ticks after boot
  log_path       TEXT NOT NULL,
  state          TEXT NOT NULL DEFAULT 'queued' CHECK(state='queued' OR state='running' OR state='paused' OR
                                                      state='finished' OR state='failed' OR state='cancelled'),
  exit_code      INTEGER,
  reason         TEXT,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  slurm_job_id   TEXT,
  slurm_options  TEXT NOT NULL DEFAULT '{}',  -- JSON: nodes, gpus_per_node, cpus, time, partition, account
  run_id         INTEGER REFERENCES runs(id) ON DELETE SET NULL,
  created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  started_at     TEXT,
  finished_at    TEXT,
  updated_at     TEXT
);
CREATE INDEX jobs_state ON jobs(state, id);
)SQL";

// Migration 11: one row per rank of a training run (data-parallel ranks write their own row, a single process
// writes rank 0), so the GUI can show every rank's state, step and throughput. last_heartbeat is Unix seconds
// (REAL), written on start and at each logged step; a "running" row whose heartbeat is old, or whose run has ended,
// is shown as lost (run_rank_repo.h).
const char* kSchemaV11 = R"SQL(
CREATE TABLE run_ranks(
  run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  rank           INTEGER NOT NULL CHECK(rank >= 0),
  world_size     INTEGER NOT NULL CHECK(world_size >= 1),
  host           TEXT NOT NULL DEFAULT '',
  pid            INTEGER NOT NULL DEFAULT 0,
  state          TEXT NOT NULL DEFAULT 'running' CHECK(state='running' OR state='finished' OR state='paused' OR
                                                        state='cancelled' OR state='failed' OR state='lost'),
  step           INTEGER NOT NULL DEFAULT 0,
  tokens_per_s   REAL NOT NULL DEFAULT 0,
  last_heartbeat REAL NOT NULL,
  error          TEXT,
  PRIMARY KEY(run_id, rank)
) WITHOUT ROWID;
)SQL";

// Migration 14: run_ranks.heartbeat_every_s: how often the rank's process touches last_heartbeat (a thread of its
// own, independent of step length: core/training/rank_heartbeat.h); a running rank is shown lost after
// kLostAfterHeartbeats of its intervals (run_rank_repo.h). Rows of older builds beat at logged steps and at least
// every 60 s between them; 30 keeps their old 300 s rule (10 x 30).
const char* kSchemaV14 = R"SQL(
ALTER TABLE run_ranks ADD COLUMN heartbeat_every_s REAL NOT NULL DEFAULT 30 CHECK(heartbeat_every_s > 0);
)SQL";

Status allow_sample_runs(Database& db) {
    MATRIX_TRY(Statement st, db.prepare("SELECT sql FROM sqlite_schema WHERE type='table' AND name='runs'"));
    MATRIX_TRY(bool row, st.step());
    if (!row) return make_error("no table runs");
    std::string sql = st.column_text(0);
    const std::string from = "kind='agent')", to = "kind='agent' OR kind='sample')";
    const size_t at = sql.find(from);
    if (at == std::string::npos || sql.find(from, at + 1) != std::string::npos)
        return make_error("unexpected CHECK constraint in table runs (looked for " + from + ")");
    sql.replace(at, from.size(), to);
    st.reset();
    return replace_table_sql(db, {{"runs", sql}});
}

// Migration 12: jobs.kind gains 'synth' (`matrix synth submit`: a synthesis stage as a job). The CHECK constraint
// is extended in place like migration 8's (every existing row stays valid).
Status allow_synth_jobs(Database& db) {
    MATRIX_TRY(Statement st, db.prepare("SELECT sql FROM sqlite_schema WHERE type='table' AND name='jobs'"));
    MATRIX_TRY(bool row, st.step());
    if (!row) return make_error("no table jobs");
    std::string sql = st.column_text(0);
    const std::string from = "kind='sample')", to = "kind='sample' OR kind='synth')";
    const size_t at = sql.find(from);
    if (at == std::string::npos || sql.find(from, at + 1) != std::string::npos)
        return make_error("unexpected CHECK constraint in table jobs (looked for " + from + ")");
    sql.replace(at, from.size(), to);
    st.reset();
    return replace_table_sql(db, {{"jobs", sql}});
}

}  // namespace

const std::vector<Migration>& migrations() {
    static const std::vector<Migration> list = {
        {1, "core tables: datasets, tasks, media, trajectories, steps, pairs, runs, provenance", kSchemaV1, {}},
        {2, "full-text search over task text, thoughts, code and observations", kSchemaV2,
         [](Database& db) { return fts_rebuild(db); }},
        {3, "indexes for the task browser's sort orders", kSchemaV3, {}},
        {4, "CHECK constraints without IN lists (no ephemeral table per inserted row)", "", rewrite_in_list_checks},
        {5, "agent runs and ad-hoc task datasets", "", allow_agent_runs},
        {6, "request cache: chat endpoint replies by request", kSchemaV6, {}},
        {7, "Pref-X pair histories stored as steps", kSchemaV7, store_pair_histories_as_steps},
        {8, "step-wise Pref-X sampling runs and their pairs' links", kSchemaV8, allow_sample_runs},
        {9, "M-TRACE synthesis: stage items, rejections, endpoint usage", kSchemaV9, {}},
        {10, "jobs: matrix processes launched detached or on Slurm", kSchemaV10, {}},
        {11, "run_ranks: per-rank state of training runs", kSchemaV11, {}},
        {12, "jobs of kind synth (synthesis stages as jobs)", "", allow_synth_jobs},
        {13, "a task's query stored once (prompt_is_query; benchmark items keep query_at)",
         "ALTER TABLE tasks ADD COLUMN prompt_is_query INTEGER NOT NULL DEFAULT 0;", store_bench_task_queries_once},
        {14, "run_ranks.heartbeat_every_s: per-rank heartbeat interval (lost after 10 silent intervals)", kSchemaV14, {}},
    };
    return list;
}

int current_schema_version() { return migrations().back().version; }

Status migrate(Database& db, int up_to) {
    const int target = up_to <= 0 ? current_schema_version() : up_to;
    int version = db.user_version();
    if (version < 0) return make_error("cannot read PRAGMA user_version", db.path());
    if (version > current_schema_version()) {
        return make_error("project schema version " + std::to_string(version) + " is newer than this build (" +
                              std::to_string(current_schema_version()) + "): update the workbench",
                          db.path());
    }
    for (const auto& m : migrations()) {
        if (m.version <= version || m.version > target) continue;
        Transaction tx(db);
        if (!tx.begin_status().ok()) return tx.begin_status().error().within("migration " + std::to_string(m.version));
        const std::string where = "migration " + std::to_string(m.version) + " (" + m.name + ")";
        if (!m.sql.empty()) {
            if (auto s = db.exec(m.sql); !s.ok()) return s.error().within(where);
        }
        if (m.apply) {
            if (auto s = m.apply(db); !s.ok()) return s.error().within(where);
        }
        if (auto s = db.exec("PRAGMA user_version = " + std::to_string(m.version)); !s.ok()) return s.error().within(where);
        if (auto s = tx.commit(); !s.ok()) return s.error().within(where);
        version = m.version;
    }
    return {};
}

}  // namespace matrix::store
