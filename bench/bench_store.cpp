// Store benchmark (import throughput of the M-TRACE size, 177K trajectories, is the figure that matters): builds an M-TRACE-like file of N trajectories from the real 60-record subset
// (records cycled, new ids), imports it into a fresh project and reports import throughput, database size,
// full-text query latency and filtered page query latency (page of 100 tasks).
// usage: bench_store [N=20000] [--dir DIR=/tmp/matrix-bench-store] [--keep] [--reuse] [--queries-only]
// (--queries-only: run only the queries, on the project DIR/bench.matrix left by an earlier run;
//  --pragma SQL: statements run on the import's connection first, e.g. "PRAGMA synchronous=OFF")
// Targets (2-core VM): import >= 5,000 trajectories/s; at 177K trajectories a filtered page < 50 ms and a
// full-text query < 200 ms.
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/formats/json_stream.h"
#include "core/formats/mtrace_import.h"
#include "core/formats/mtrace_record.h"
#include "core/store/project.h"
#include "core/store/task_repo.h"

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

static double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

static double cpu_seconds() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double load_average() {
    double l[3] = {0, 0, 0};
    return getloadavg(l, 3) > 0 ? l[0] : -1;
}

static int64_t file_size(const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 ? int64_t(st.st_size) : 0;
}

int main(int argc, char** argv) {
    int64_t n = 20000;
    std::string dir = "/tmp/matrix-bench-store";
    bool keep = false, reuse = false, queries_only = false;
    int batch = matrix::formats::ImportOptions{}.batch_size;  // --batch N: records per import transaction
    std::string pragma;  // --pragma SQL: run on the import connection first (experiments)
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!std::strcmp(argv[i], "--keep")) keep = true;
        else if (!std::strcmp(argv[i], "--reuse")) reuse = keep = true;  // keep and reuse the input file
        else if (!std::strcmp(argv[i], "--queries-only")) queries_only = keep = true;
        else if (!std::strcmp(argv[i], "--pragma") && i + 1 < argc) pragma = argv[++i];
        else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) batch = std::atoi(argv[++i]);
        else n = std::atoll(argv[i]);
    }
    fs::create_directories(dir);
    const std::string json_path = dir + "/mtrace-bench.json";
    const std::string db_path = dir + "/bench.matrix";
    int64_t dataset_id = 1;
    if (!queries_only) {
    for (auto suffix : {"", "-wal", "-shm"}) fs::remove(db_path + suffix);

    // 1. Build the input file: the real records cycled with new ids (and the id in the task text, so that
    //    the full-text index sees N distinct documents).
    std::ifstream in(std::string(MATRIX_SHARED_DIR) + "/data/mtrace/mtrace-subset-60.json");
    nlohmann::json subset = nlohmann::json::parse(in);
    std::vector<std::string> dumps;
    if (reuse && fs::exists(json_path)) {
        std::printf("input: reusing %s (%.1f MB)\n", json_path.c_str(), file_size(json_path) / 1e6);
    } else {
        auto t0 = Clock::now();
        std::ofstream out(json_path, std::ios::binary);
        out << "[\n";
        for (int64_t i = 0; i < n; ++i) {
            nlohmann::json r = subset[size_t(i) % subset.size()];
            r["id"] = "bench" + std::to_string(i);
            auto& conv = r["conversations"];
            for (auto& turn : conv) {
                if (turn["from"] == "user") {
                    std::string v = turn["value"].get<std::string>();
                    size_t task = v.find("Task: ");
                    if (task != std::string::npos) v.insert(task + 6, "[variant " + std::to_string(i) + "] ");
                    turn["value"] = v;
                    break;
                }
            }
            out << (i ? ",\n" : "") << r.dump(4);
        }
        out << "\n]\n";
        std::printf("input: %lld trajectories, %.1f MB, written in %.1f s\n", (long long)n,
                    file_size(json_path) / 1e6, ms_since(t0) / 1000);
    }

    // 2. Where the import's time goes: streaming parse alone, then parse + conversion to rows (no database).
    {
        for (int pass = 0; pass < 2; ++pass) {
            auto reader = matrix::formats::JsonArrayReader::open_file(json_path);
            const double c0 = cpu_seconds();
            auto t0 = Clock::now();
            matrix::formats::JsonItem item;
            int64_t n_items = 0, n_steps = 0;
            while (reader->next(item)) {
                ++n_items;
                if (pass == 1) n_steps += int64_t(matrix::formats::mtrace_record_to_rows(item.value)->trajectory.steps.size());
            }
            const double cpu = cpu_seconds() - c0;
            std::printf("%s: %lld records in %.2f s wall, %.2f s CPU = %.0f records per CPU-second (%.0f MB per "
                        "CPU-second)%s\n",
                        pass == 0 ? "parse only" : "parse + convert", (long long)n_items, ms_since(t0) / 1000, cpu,
                        n_items / cpu, file_size(json_path) / 1e6 / cpu,
                        pass == 1 ? (" (" + std::to_string(n_steps) + " steps)").c_str() : "");
        }
    }

    // 3. Import.
    auto project = matrix::store::Project::open(db_path);
    if (!project.ok()) {
        std::fprintf(stderr, "%s\n", project.error().to_string().c_str());
        return 1;
    }
    if (!pragma.empty()) (void)project->db().exec(pragma);
    matrix::formats::ImportOptions options;
    options.dataset_name = "bench";
    options.batch_size = batch;
    const double load_before = load_average();
    auto thread_cpu_s = [] {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return double(ts.tv_sec) + ts.tv_nsec / 1e9;
    };
    const double writer0 = thread_cpu_s();  // this thread writes; parsing + conversion run on a second one
    const double cpu0 = cpu_seconds();
    auto t0 = Clock::now();
    auto report = matrix::formats::import_mtrace(project->db(), json_path, options);
    const double import_s = ms_since(t0) / 1000;
    const double import_cpu = cpu_seconds() - cpu0;
    const double writer_cpu = thread_cpu_s() - writer0;
    if (!report.ok()) {
        std::fprintf(stderr, "import failed: %s\n", report.error().to_string().c_str());
        return 1;
    }
    std::printf("import: %lld imported, %lld rejected in %.2f s wall = %.0f trajectories/s (%.1f MB/s); "
                "CPU %.2f s = %.0f trajectories per CPU-second; writer thread %.2f s CPU = %.0f trajectories per "
                "writer CPU-second; load average %.1f before, %.1f after\n",
                (long long)report->imported, (long long)report->rejected, import_s, report->imported / import_s,
                file_size(json_path) / 1e6 / import_s, import_cpu, report->imported / import_cpu, writer_cpu,
                report->imported / writer_cpu, load_before, load_average());
    (void)project->db().exec("PRAGMA wal_checkpoint(TRUNCATE)");
    std::printf("database: %.1f MB (+ wal %.1f MB); input was %.1f MB\n", file_size(db_path) / 1e6,
                file_size(db_path + "-wal") / 1e6, file_size(json_path) / 1e6);

    dataset_id = report->dataset_id;
    }  // !queries_only

    // 4. Queries: median of repeated runs, with a fresh connection (cold statement cache, warm OS cache).
    auto fresh = matrix::store::Project::open(db_path);
    matrix::store::TaskRepo tasks(fresh->db());
    // Median wall time; the median CPU time of the same runs goes to `cpu` (the VM is shared: wall time
    // includes waiting for a core).
    double cpu = 0;
    auto thread_cpu_ms = [] {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
    };
    auto median_ms = [&](auto&& fn, int reps = 7) {
        std::vector<double> t, c;
        for (int i = 0; i < reps; ++i) {
            auto s = Clock::now();
            double c0 = thread_cpu_ms();
            fn();
            c.push_back(thread_cpu_ms() - c0);
            t.push_back(ms_since(s));
        }
        std::sort(t.begin(), t.end());
        std::sort(c.begin(), c.end());
        cpu = c[c.size() / 2];
        return t[t.size() / 2];
    };
    struct Case {
        const char* name;
        matrix::store::TaskFilter filter;
        matrix::store::TaskPageRequest page;
    };
    std::vector<Case> cases;
    {
        Case c{"page: dataset, tool=visualizer, steps 2..4, verdict yes, by ordinal, first page", {}, {}};
        c.filter.dataset_id = dataset_id;
        c.filter.tool = "visualizer";
        c.filter.min_steps = 2;
        c.filter.max_steps = 4;
        c.filter.verdict = "yes";
        cases.push_back(c);
    }
    {
        Case c{"page: dataset, tool=visualizer, steps 2..4, verdict yes, by ordinal, offset 5000", {}, {}};
        c.filter.dataset_id = dataset_id;
        c.filter.tool = "visualizer";
        c.filter.min_steps = 2;
        c.filter.max_steps = 4;
        c.filter.verdict = "yes";
        c.page.offset = 5000;
        cases.push_back(c);
    }
    {
        Case c{"page: tool=objectlocation, sorted by #steps desc", {}, {}};
        c.filter.tool = "objectlocation";
        c.page.sort = matrix::store::TaskSort::Steps;
        c.page.descending = true;
        cases.push_back(c);
    }
    {
        Case c{"page: has missing images, sorted by query", {}, {}};
        c.filter.has_missing_media = true;
        c.page.sort = matrix::store::TaskSort::Query;
        cases.push_back(c);
    }
    {
        Case c{"full text: \"calories\" (page 1, by relevance)", {}, {}};
        c.filter.text = "calories";
        c.page.sort = matrix::store::TaskSort::Relevance;
        cases.push_back(c);
    }
    {
        Case c{"full text: \"calories\" (page 1, by ordinal: the browser's default)", {}, {}};
        c.filter.text = "calories";
        cases.push_back(c);
    }
    {
        Case c{"page: no missing images, sorted by missing desc (matches last in that order)", {}, {}};
        c.filter.has_missing_media = false;
        c.page.sort = matrix::store::TaskSort::MissingMedia;
        c.page.descending = true;
        cases.push_back(c);
    }
    {
        Case c{"page: dataset, verdict no, sorted by query", {}, {}};
        c.filter.dataset_id = dataset_id;
        c.filter.verdict = "no";
        c.page.sort = matrix::store::TaskSort::Query;
        cases.push_back(c);
    }
    {
        Case c{"full text: \"temperature seattle\" (page 1, by id)", {}, {}};
        c.filter.text = "temperature seattle";
        c.page.sort = matrix::store::TaskSort::Id;
        cases.push_back(c);
    }
    {
        Case c{"full text: \"variant 12345\" (one task, page 1)", {}, {}};
        c.filter.text = "variant 12345";
        cases.push_back(c);
    }
    for (auto& c : cases) {
        size_t rows = 0;
        double page_ms = median_ms([&] { rows = tasks.page(c.filter, c.page).value().size(); });
        const double page_cpu = cpu;
        int64_t count = 0;
        double count_ms = median_ms([&] { count = tasks.count(c.filter).value(); }, 3);
        std::printf("%-80s page %6.2f ms wall / %6.2f ms CPU (%zu rows); count %7.2f ms wall / %7.2f ms CPU (%lld)\n",
                    c.name, page_ms, page_cpu, rows, count_ms, cpu, (long long)count);
    }
    if (!keep) fs::remove(json_path);
    return 0;
}
