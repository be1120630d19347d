// GUI benchmark: how fast the workbench shows the first page of a large project, and whether the UI
// thread stalls while a background import runs.
//   1. builds an M-TRACE-like file of N trajectories from the real 60-record subset (records cycled, new ids)
//      and imports it (core importer) into a fresh project (setup, not measured here: see bench_store);
//   2. opens the project in a MainWindow (offscreen) and measures open -> first page of the task table, and
//      first page after a filter change and after a full-text search;
//   3. starts a background import of M more trajectories (ImportDialog's job) and, while it runs, measures the
//      UI thread: a 5 ms timer's largest and 99th-percentile gap, and first-page latency of filter changes.
// usage: QT_QPA_PLATFORM=offscreen bench_gui_open [N=177000] [M=20000] [--dir DIR=/tmp/matrix-bench-gui] [--keep]
//        [--db PROJECT]  (open this existing project instead of building one: skips step 1's import; the
//                         background import adds a dataset "extra" to it)
// Also reported: the longest UI-thread gap (5 ms timer) from openProject() until every pane is idle.
#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QLineEdit>
#include <QSettings>
#include <QTemporaryDir>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <cstdlib>

#include "core/formats/mtrace_import.h"
#include "core/store/project.h"
#include "ui/models/project_session.h"
#include "ui/models/task_table_model.h"
#include "ui/views/main_window.h"
#include "ui/views/task_browser.h"
#include "ui/workers/background_job.h"
#include "ui/workers/import_export_jobs.h"

namespace fs = std::filesystem;
using namespace matrix;

namespace {

// Writes n records cycled from the real subset, with fresh ids (prefix keeps two files disjoint).
bool writeMtrace(const std::string& out, int64_t n, const std::string& prefix) {
    std::ifstream in(MATRIX_SHARED_DIR "/data/mtrace/mtrace-subset-60.json");
    nlohmann::json src = nlohmann::json::parse(in, nullptr, false);
    if (!src.is_array() || src.empty()) return false;
    std::ofstream f(out);
    f << "[\n";
    for (int64_t i = 0; i < n; ++i) {
        nlohmann::json r = src[size_t(i % int64_t(src.size()))];
        r["id"] = prefix + std::to_string(i);
        f << (i ? ",\n" : "") << r.dump();
    }
    f << "\n]\n";
    return bool(f);
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

// Runs the event loop until `done` or the timeout; returns elapsed ms.
template <class Pred>
double waitUntil(Pred done, int timeoutMs = 60000) {
    QElapsedTimer t;
    t.start();
    while (!done() && t.elapsed() < timeoutMs) QApplication::processEvents(QEventLoop::AllEvents | QEventLoop::WaitForMoreEvents, 5);
    return double(t.nsecsElapsed()) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QTemporaryDir settings;
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settings.path());

    int64_t n = 177000, m = 20000;
    std::string dir = "/tmp/matrix-bench-gui";
    std::string existing;
    bool keep = false;
    int positional = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--dir" && i + 1 < argc) dir = argv[++i];
        else if (a == "--keep") keep = true;
        else if (a == "--db" && i + 1 < argc) existing = argv[++i];
        else if (positional++ == 0) n = std::atoll(argv[i]);
        else m = std::atoll(argv[i]);
    }
    fs::create_directories(dir);
    const std::string base = dir + "/base.json", extra = dir + "/extra.json";
    const std::string db = existing.empty() ? dir + "/gui-bench.matrix" : existing;
    if (existing.empty())
        for (auto s : {"", "-wal", "-shm"}) fs::remove(db + s);
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    std::printf("load average before: %.2f %.2f %.2f\n", load[0], load[1], load[2]);

    // 1. Setup.
    QElapsedTimer t;
    t.start();
    if (!writeMtrace(extra, m, "gx") || (existing.empty() && !writeMtrace(base, n, "gb"))) {
        std::fprintf(stderr, "bench_gui_open: cannot read the shared M-TRACE subset\n");
        return 1;
    }
    if (existing.empty()) {
        auto project = store::Project::open(db);
        if (!project) {
            std::fprintf(stderr, "bench_gui_open: %s\n", project.error().to_string().c_str());
            return 1;
        }
        formats::ImportOptions o;
        o.dataset_name = "base";
        auto r = formats::import_mtrace(project->db(), base, o);
        if (!r) {
            std::fprintf(stderr, "bench_gui_open: import: %s\n", r.error().to_string().c_str());
            return 1;
        }
        std::printf("setup: %lld trajectories imported in %.1f s\n", (long long)r->imported, t.elapsed() / 1000.0);
    }

    // 2. Open -> first page.
    ui::MainWindow w;
    w.resize(1600, 1000);
    w.show();
    ui::TaskTableModel* model = w.browser()->model();
    // UI-thread gaps while the project opens (5 ms timer).
    QElapsedTimer openTick;
    openTick.start();
    qint64 openLast = openTick.nsecsElapsed();
    double openMaxGap = 0;
    QTimer openTimer;
    openTimer.setInterval(5);
    QObject::connect(&openTimer, &QTimer::timeout, [&] {
        const qint64 now = openTick.nsecsElapsed();
        openMaxGap = std::max(openMaxGap, double(now - openLast) / 1e6);
        openLast = now;
    });
    openTimer.start();
    t.restart();
    w.openProject(QString::fromStdString(db));
    const double firstPage = waitUntil([&] { return model->rowCount() > 0; });
    const double counted = waitUntil([&] { return model->totalCount() >= 0; }) + firstPage;
    w.waitForIdle(120000);
    const double idle = double(t.nsecsElapsed()) / 1e6;
    openTimer.stop();
    std::printf("open %lld-task project: first page %.1f ms, count known %.1f ms, all panes idle %.1f ms; "
                "longest UI-thread gap while opening %.1f ms\n",
                (long long)model->totalCount(), firstPage, counted, idle, openMaxGap);

    double lastFirstPage = 0;
    auto timeFilter = [&](auto apply) {
        QElapsedTimer ft;
        ft.start();
        apply();
        waitUntil([&] { return !model->isLoading(); });
        lastFirstPage = double(model->lastFirstPageMs());  // filter change -> first page shown
        return double(ft.nsecsElapsed()) / 1e6;           // ... -> first page and count
    };
    const double verdictMs = timeFilter([&] {
        store::TaskFilter f;
        f.min_steps = 3;
        f.tool = "visualizer";
        model->setFilter(f);
    });
    const double verdictFirst = lastFirstPage;
    const double ftsMs = timeFilter([&] {
        store::TaskFilter f;
        f.text = "calories";
        model->setFilter(f);
    });
    std::printf("filter (tool + min steps): first page %.1f ms, with count %.1f ms; full-text search: first page "
                "%.1f ms, with count %.1f ms\n",
                verdictFirst, verdictMs, lastFirstPage, ftsMs);

    // 3. UI-thread gaps while a background import runs.
    std::vector<double> gaps, filterMs, filterFirstMs;
    QElapsedTimer tick;
    tick.start();
    qint64 last = tick.nsecsElapsed();
    QTimer timer;
    timer.setInterval(5);
    QObject::connect(&timer, &QTimer::timeout, [&] {
        const qint64 now = tick.nsecsElapsed();
        gaps.push_back(double(now - last) / 1e6);
        last = now;
    });
    ui::BackgroundJob job;
    ui::ImportRequest req;
    req.projectPath = QString::fromStdString(db);
    req.file = QString::fromStdString(extra);
    req.dataset = "extra";
    bool finished = false;
    ui::JobOutcome outcome;
    QObject::connect(&job, &ui::BackgroundJob::finished, [&](const ui::JobOutcome& o) {
        finished = true;
        outcome = o;
    });
    QElapsedTimer importClock;
    importClock.start();
    timer.start();
    job.start([req](const Progress& p) { return ui::runImport(req, p); });
    int k = 0;
    while (!finished) {
        // Meanwhile the user keeps browsing: a filter change every ~200 ms.
        store::TaskFilter f;
        f.min_steps = 2 + (k++ % 4);
        filterMs.push_back(timeFilter([&] { model->setFilter(f); }));
        filterFirstMs.push_back(lastFirstPage);
        waitUntil([&] { return finished; }, 200);
    }
    timer.stop();
    const double importS = importClock.elapsed() / 1000.0;
    std::printf("background import of %lld trajectories: %.1f s (%s)\n", (long long)m, importS, qPrintable(outcome.summary));
    std::printf("UI thread during import: %zu timer ticks, gap max %.1f ms, p99 %.1f ms, median %.1f ms\n", gaps.size(),
                gaps.empty() ? 0 : *std::max_element(gaps.begin(), gaps.end()), percentile(gaps, 0.99), percentile(gaps, 0.5));
    std::printf("filter changes during import: %zu; first page median %.1f ms, max %.1f ms; with count median %.1f ms, "
                "max %.1f ms\n",
                filterMs.size(), percentile(filterFirstMs, 0.5),
                filterFirstMs.empty() ? 0 : *std::max_element(filterFirstMs.begin(), filterFirstMs.end()),
                percentile(filterMs, 0.5), filterMs.empty() ? 0 : *std::max_element(filterMs.begin(), filterMs.end()));
    getloadavg(load, 3);
    std::printf("load average after: %.2f %.2f %.2f\n", load[0], load[1], load[2]);
    if (!keep) {
        if (existing.empty())
            fs::remove_all(dir);
        else
            fs::remove(extra);
    }
    return 0;
}
