// Tests for sorted and relevance-ordered task pages (core/store/task_repo): every plan the repo may pick (the
// ordered index scan, the scan interrupted by its budget and the collect-and-sort fallback, the full-text
// index alone or joined with the filters) must give exactly the rows of a reference ordering computed here
// from all rows, for each sort column, both directions, with and without filters and offsets.
#include <QtTest>

#include <algorithm>
#include <cctype>
#include <tuple>

#include "core/store/dataset_repo.h"
#include "core/store/project.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"

using namespace matrix;
using namespace matrix::store;

namespace {

template <class T>
T must(Result<T> r) {
    if (!r.ok()) qFatal("unexpected error: %s", r.error().to_string().c_str());
    return std::move(r).value();
}

struct Row {
    int64_t id = 0, dataset = 0;
    std::string query, verdict;
    int steps = 0, images = 0, missing = 0, ordinal = 0;
    std::vector<std::string> tools;
    bool text_hit = false;  // query contains "harbour"
};

std::string lower(std::string s) {
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

// 600 tasks in two datasets; keys repeat a lot (ties are broken by id), queries differ in case.
struct Fixture {
    Project project = must(Project::open(":memory:"));
    std::vector<Row> rows;
    int64_t d1 = 0, d2 = 0;

    Fixture() {
        Database& db = project.db();
        DatasetRepo ds(db);
        d1 = must(ds.create({0, "d1", "mtrace"}));
        d2 = must(ds.create({0, "d2", "mtrace"}));
        TaskRepo tasks(db);
        TrajectoryRepo trajectories(db);
        const char* words[] = {"alpha", "Bravo", "charlie", "Delta", "echo", "harbour", "Foxtrot", "golf"};
        const char* verdicts[] = {"yes", "no", "unknown"};
        const char* tools[] = {"ocr", "visualizer", "objectlocation", "calculator"};
        Transaction tx(db);
        for (int i = 0; i < 600; ++i) {
            Row r;
            r.dataset = i % 5 == 0 ? d2 : d1;
            r.query = std::string(words[(i * 7) % 8]) + " " + words[(i * 3) % 8] + " task";
            r.verdict = verdicts[(i * 5) % 3];
            r.ordinal = 599 - i;  // ordinal order differs from id order
            r.steps = (i * 11) % 7;
            r.images = (i * 13) % 4;
            r.missing = r.images > 0 && i % 9 == 0 ? 1 : 0;
            Task t;
            t.dataset_id = r.dataset;
            t.record_key = "k" + std::to_string(i);
            t.ordinal = r.ordinal;
            t.query = r.query;
            t.verdict = r.verdict;
            t.n_images = r.images;
            t.n_missing_media = r.missing;
            r.id = must(tasks.insert(t));
            Trajectory traj;
            traj.task_id = r.id;
            traj.source = "mtrace";
            for (int k = 0; k < r.steps; ++k) {
                Step s;
                s.idx = k;
                s.thought = "step " + std::to_string(k);
                if ((i + k) % 3 != 0) {
                    ToolCallRow c;
                    c.name = tools[(i + k) % 4];
                    s.tool_calls.push_back(c);
                    if (std::find(r.tools.begin(), r.tools.end(), c.name) == r.tools.end()) r.tools.push_back(c.name);
                }
                traj.steps.push_back(s);
            }
            must(trajectories.insert(traj));
            r.text_hit = lower(r.query).find("harbour") != std::string::npos;
            rows.push_back(r);
        }
        const Status committed = tx.commit();  // a constructor cannot QVERIFY (it would return half-built)
        if (!committed.ok()) qFatal("fixture: %s", committed.error().to_string().c_str());
    }
};

bool matches(const Row& r, const TaskFilter& f) {
    if (f.dataset_id && r.dataset != *f.dataset_id) return false;
    if (!f.tool.empty() && std::find(r.tools.begin(), r.tools.end(), f.tool) == r.tools.end()) return false;
    if (f.verdict && r.verdict != *f.verdict) return false;
    if (f.min_steps && r.steps < *f.min_steps) return false;
    if (f.max_steps && r.steps > *f.max_steps) return false;
    if (f.has_missing_media && (r.missing > 0) != *f.has_missing_media) return false;
    if (f.has_images && (r.images > 0) != *f.has_images) return false;
    if (!f.text.empty() && !r.text_hit) return false;
    if (f.task_ids && std::find(f.task_ids->begin(), f.task_ids->end(), r.id) == f.task_ids->end()) return false;
    return true;
}

std::vector<int64_t> reference(const std::vector<Row>& rows, const TaskFilter& f, const TaskPageRequest& req) {
    std::vector<const Row*> hit;
    for (const auto& r : rows)
        if (matches(r, f)) hit.push_back(&r);
    auto key = [&](const Row* r) {
        switch (req.sort) {
            case TaskSort::Query: return std::make_tuple(lower(r->query), int64_t(0));
            case TaskSort::Steps: return std::make_tuple(std::string(), int64_t(r->steps));
            case TaskSort::Verdict: return std::make_tuple(r->verdict, int64_t(0));
            case TaskSort::Images: return std::make_tuple(std::string(), int64_t(r->images));
            case TaskSort::MissingMedia: return std::make_tuple(std::string(), int64_t(r->missing));
            case TaskSort::Ordinal: return std::make_tuple(std::string(), r->dataset * 100000 + r->ordinal);
            default: return std::make_tuple(std::string(), int64_t(0));
        }
    };
    std::stable_sort(hit.begin(), hit.end(), [&](const Row* a, const Row* b) {
        auto ka = std::tuple_cat(key(a), std::make_tuple(a->id));
        auto kb = std::tuple_cat(key(b), std::make_tuple(b->id));
        return req.descending ? kb < ka : ka < kb;
    });
    std::vector<int64_t> ids;
    for (size_t i = size_t(req.offset); i < hit.size() && int64_t(ids.size()) < req.limit; ++i) ids.push_back(hit[i]->id);
    return ids;
}

std::vector<int64_t> ids_of(const std::vector<TaskSummary>& page) {
    std::vector<int64_t> ids;
    for (const auto& s : page) ids.push_back(s.id);
    return ids;
}

}  // namespace

class TestTaskPages : public QObject {
    Q_OBJECT
private slots:
    void sorted_pages_equal_reference_data() {
        QTest::addColumn<int>("sort");
        QTest::addColumn<QString>("filter");
        const std::pair<const char*, TaskSort> sorts[] = {{"query", TaskSort::Query},
                                                          {"steps", TaskSort::Steps},
                                                          {"verdict", TaskSort::Verdict},
                                                          {"images", TaskSort::Images},
                                                          {"missing", TaskSort::MissingMedia},
                                                          {"ordinal", TaskSort::Ordinal}};
        const char* filters[] = {"",          "ds=1",          "tool=ocr",          "verdict=no;min=2",
                                 "missing=1", "ds=2;tool=ocr", "text=harbour",      "text=harbour;tool=calculator",
                                 "images=0",  "offset=150",    "ds=1;offset=37;limit=5"};
        for (auto& [name, sort] : sorts)
            for (const char* f : filters)
                QTest::newRow((std::string(name) + " " + f).c_str()) << int(sort) << QString(f);
    }
    void sorted_pages_equal_reference() {
        QFETCH(int, sort);
        QFETCH(QString, filter);
        static Fixture* fx = new Fixture;  // built once for all rows
        TaskRepo repo(fx->project.db());
        TaskFilter tf;
        TaskPageRequest req;
        req.sort = TaskSort(sort);
        req.limit = 60;
        for (const QString& part : filter.split(';', Qt::SkipEmptyParts)) {
            auto kv = part.split('=');
            const QString k = kv[0], v = kv.value(1);
            if (k == "ds") tf.dataset_id = v == "1" ? fx->d1 : fx->d2;
            if (k == "tool") tf.tool = v.toStdString();
            if (k == "verdict") tf.verdict = v.toStdString();
            if (k == "min") tf.min_steps = v.toInt();
            if (k == "missing") tf.has_missing_media = v == "1";
            if (k == "images") tf.has_images = v == "1";
            if (k == "text") tf.text = v.toStdString();
            if (k == "offset") req.offset = v.toInt();
            if (k == "limit") req.limit = v.toInt();
        }
        for (bool desc : {false, true}) {
            req.descending = desc;
            const std::vector<int64_t> want = reference(fx->rows, tf, req);
            QVERIFY(!want.empty());
            // Default plan, the ordered scan cut short by a tiny budget, and the collect-and-sort plan.
            for (int64_t budget : {int64_t(-1), int64_t(1), int64_t(0)}) {
                req.scan_budget = budget;
                const std::vector<int64_t> got = ids_of(must(repo.page(tf, req)));
                if (got != want) qWarning("descending %d, budget %lld", int(desc), (long long)budget);
                QCOMPARE(got, want);
            }
        }
    }

    void sorted_page_rows_are_complete() {
        Fixture fx;
        TaskRepo repo(fx.project.db());
        TaskPageRequest req;
        req.sort = TaskSort::Steps;
        req.descending = true;
        req.limit = 3;
        auto page = must(repo.page({}, req));
        QCOMPARE(page.size(), size_t(3));
        for (const auto& s : page) {
            const Row& r = *std::find_if(fx.rows.begin(), fx.rows.end(), [&](const Row& x) { return x.id == s.id; });
            QCOMPARE(s.n_steps, 6);
            QCOMPARE(s.query, r.query);
            QCOMPARE(s.verdict, r.verdict);
            QCOMPARE(s.n_images, r.images);
            QCOMPARE(s.dataset_id, r.dataset);
        }
    }

    void task_ids_narrow_every_plan_to_exactly_those_tasks() {
        // A drill-down (the synthesis pipeline's counts): exactly the given ids, with the other filters on top, in
        // every sort order and plan; an empty list matches nothing.
        Fixture fx;
        TaskRepo repo(fx.project.db());
        std::vector<int64_t> chosen;
        for (size_t i = 3; i < fx.rows.size(); i += 37) chosen.push_back(fx.rows[i].id);
        std::reverse(chosen.begin(), chosen.end());  // the order given does not matter
        QCOMPARE(chosen.size(), size_t(17));
        TaskFilter f;
        f.task_ids = chosen;
        QCOMPARE(must(repo.count(f)), int64_t(17));
        TaskFilter g = f;
        g.verdict = "yes";
        int64_t yes = 0;
        for (const auto& r : fx.rows) yes += std::find(chosen.begin(), chosen.end(), r.id) != chosen.end() && r.verdict == "yes";
        QVERIFY(yes > 0 && yes < 17);
        QCOMPARE(must(repo.count(g)), yes);
        for (TaskSort sort : {TaskSort::Id, TaskSort::Ordinal, TaskSort::Query, TaskSort::Steps, TaskSort::Verdict}) {
            for (const TaskFilter& filter : {f, g}) {
                for (int64_t budget : {int64_t(-1), int64_t(0), int64_t(1)}) {
                    TaskPageRequest req;
                    req.sort = sort;
                    req.limit = 1000;
                    req.scan_budget = budget;
                    QCOMPARE(ids_of(must(repo.page(filter, req))), reference(fx.rows, filter, req));
                }
            }
        }
        TaskFilter none;
        none.task_ids = std::vector<int64_t>();
        QCOMPARE(must(repo.count(none)), int64_t(0));
        QVERIFY(must(repo.page(none, {})).empty());
    }

    void relevance_same_with_and_without_filters() {
        // Relevance without other filters is answered by the full-text index alone; with a filter that every
        // task passes it joins tasks: both must order the same way (bm25, then id).
        Fixture fx;
        TaskRepo repo(fx.project.db());
        TaskFilter plain;
        plain.text = "harbour";
        TaskFilter joined = plain;
        joined.min_steps = 0;
        for (bool desc : {false, true}) {
            TaskPageRequest req;
            req.sort = TaskSort::Relevance;
            req.descending = desc;
            req.limit = 1000;
            auto a = ids_of(must(repo.page(plain, req)));
            auto b = ids_of(must(repo.page(joined, req)));
            QCOMPARE(int64_t(a.size()), must(repo.count(plain)));
            QVERIFY(a.size() > 100);
            QCOMPARE(a, b);
            req.offset = 40;
            req.limit = 25;
            auto pa = ids_of(must(repo.page(plain, req)));
            QCOMPARE(pa, std::vector<int64_t>(a.begin() + 40, a.begin() + 65));
            QCOMPARE(ids_of(must(repo.page(joined, req))), pa);
        }
    }
};

QTEST_GUILESS_MAIN(TestTaskPages)
#include "test_task_pages.moc"
