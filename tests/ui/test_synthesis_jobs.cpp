// The Synthesis dock's stages as jobs (ui/views/synthesis_panel.cpp over core/jobs), and the task browser's links to
// it, against a scripted teacher on 127.0.0.1 that answers each queries round with three tasks named after the
// round's seed and can hold a request until the test releases it:
//   - Run Stage starts a `matrix synth run` job; the panel and its session are destroyed while the job waits on the
//     teacher (the job keeps running); a new panel on the reopened project reattaches to it, pauses it (processes
//     stopped) and continues it; the job finishes and the panel shows the job's exact final counts;
//   - closing the main window while a synth job runs asks, lists the job, and leaves it running;
//   - in the main window, Enter on a pipeline count filters the task browser to exactly those tasks (the first one
//     shown in the trajectory view), with a chip naming the count; Esc clears it; Ctrl+Shift+U on a selection of
//     tasks makes them the Synthesis dock's seed examples. The window is rendered to PNG ($MATRIX_SCREENSHOT_DIR).
#include <QApplication>
#include <QDockWidget>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <condition_variable>
#include <mutex>

#include <nlohmann/json.hpp>

#include "core/jobs/job_control.h"
#include "core/jobs/process.h"
#include "core/store/project.h"
#include "tests/support/cli_run.h"
#include "tests/support/jobs_project.h"
#include "tests/support/local_http_server.h"
#include "tests/ui/close_dialog.h"
#include "ui/models/job_list_model.h"
#include "ui/models/project_session.h"
#include "ui/models/synth_pipeline_model.h"
#include "ui/models/task_table_model.h"
#include "ui/views/main_window.h"
#include "ui/views/synthesis_panel.h"
#include "ui/views/task_browser.h"
#include "ui/views/trajectory_view.h"

using namespace matrix;
using namespace matrix::ui;
using json = nlohmann::json;

namespace {
const QString k_mtrace = QStringLiteral(MATRIX_SHARED_DIR "/data/mtrace/mtrace-subset-60.json");

QString logText(QWidget& panel) {
    auto* log = panel.findChild<QPlainTextEdit*>();
    return log ? log->toPlainText() : QString();
}

std::vector<int64_t> ids(const QString& db, const std::string& sql) {
    std::vector<int64_t> out;
    auto p = store::Project::open(db.toStdString());
    auto st = p->db().prepare(sql);
    while (*st->step()) out.push_back(st->column_int64(0));
    return out;
}
}  // namespace

class TestSynthesisJobs : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::unique_ptr<testing::LocalHttpServer> m_server;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    int m_requests = 0;
    int m_holdAt = 0;  // this request (1-based) waits until released
    bool m_release = false;
    QString m_db;      // the project whose stage ran through the dock (used by the window test)

    void handle(const httplib::Request& http, httplib::Response& res) {
        const json req = json::parse(http.body, nullptr, false);
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            const int n = ++m_requests;
            m_cv.notify_all();
            if (n == m_holdAt) m_cv.wait(lock, [this] { return m_release; });
        }
        const std::string seed = std::to_string(req.value("seed", int64_t(0)));
        const json list = json::array({
            {{"query", "Add up the prices on the menu for round " + seed + "."}, {"tools", json::array()}, {"needs", "none"}},
            {{"query", "What is 12 times 12 for round " + seed + "?"}, {"tools", json::array()}, {"needs", "none"}},
            {{"query", "Name the capital of France for round " + seed + "."}, {"tools", json::array()}, {"needs", "none"}},
        });
        const std::string content = "```json\n" + list.dump() + "\n```";
        json choice = {{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", "stop"}};
        res.set_content(json{{"id", "c"}, {"object", "chat.completion"}, {"model", req.value("model", "")},
                             {"choices", {choice}},
                             {"usage", {{"prompt_tokens", 1000}, {"completion_tokens", 200}, {"total_tokens", 1200}}}}
                            .dump(),
                        "application/json");
    }

    void hold(int at) {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_requests = 0;
        m_holdAt = at;
        m_release = false;
    }
    void release() {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_release = true;
        m_cv.notify_all();
    }
    int requests() {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_requests;
    }

    QString project(const QString& name) {
        const QString db = m_dir.path() + "/" + name + ".matrix";
        auto r = testing::run_matrix({"import", "--db", db, "--format", "mtrace", "--dataset", "seeds", k_mtrace});
        if (r.code != 0) qFatal("import: %s", r.err.constData());
        return db;
    }

    void configure(SynthesisPanel& panel) {
        panel.setMatrixBinary(testing::matrix_binary());
        panel.setEndpoint(QString::fromStdString(m_server->url("/v1")), "teacher");
        panel.setStage("queries");
        panel.setSeedDataset("seeds");
        panel.setLimit(2);
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_server = std::make_unique<testing::LocalHttpServer>(
            [this](const httplib::Request& q, httplib::Response& r) { handle(q, r); });
    }

    void cleanup() { release(); }

    void stage_job_outlives_its_panel_and_is_reattached() {
        m_db = project("dock");
        hold(2);  // the second round waits: the job is mid-stage when its panel goes away
        int64_t pid = 0;
        {
            ProjectSession session;
            session.open(m_db);
            QVERIFY(session.waitForIdle());
            SynthesisPanel panel(&session);
            configure(panel);
            panel.start();
            QVERIFY(panel.isRunning());
            QTRY_COMPARE_WITH_TIMEOUT(requests(), 2, 60000);
            QTRY_COMPARE_WITH_TIMEOUT(panel.followedJob(), qint64(1), 10000);
            QTRY_COMPARE_WITH_TIMEOUT(panel.unfinishedJobs(), 1, 10000);
            const jobs::Job* j = panel.jobsModel()->jobById(1);
            QCOMPARE(j->kind, std::string("synth"));
            QCOMPARE(QStringList({QString::fromStdString(j->argv[0]), QString::fromStdString(j->argv[1])}),
                     QStringList({"synth", "run"}));
            pid = j->pid;
        }  // the panel and its session are gone, as when the window closes
        QVERIFY(jobs::process_alive(pid));

        ProjectSession session;
        SynthesisPanel panel(&session);
        configure(panel);
        session.open(m_db);
        QTRY_COMPARE_WITH_TIMEOUT(panel.followedJob(), qint64(1), 10000);
        QVERIFY2(logText(panel).contains(QString("Reattached to job 1 (process %1 on %2), running.")
                                             .arg(pid)
                                             .arg(QString::fromStdString(jobs::host_name()))),
                 qPrintable(logText(panel)));
        QVERIFY(panel.isRunning());
        // The whole log, from before the panel existed: the first round's line.
        QTRY_VERIFY_WITH_TIMEOUT(logText(panel).contains("queries round-0: done, 3 out, 0 rejected"), 10000);

        panel.pause();
        QTRY_COMPARE_WITH_TIMEOUT(QString::fromStdString(panel.jobsModel()->jobById(1)->state), QString("paused"), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(jobs::process_stopped(pid), 5000);
        auto buttons = panel.findChildren<QPushButton*>();
        QTRY_VERIFY_WITH_TIMEOUT(std::any_of(buttons.begin(), buttons.end(), [](auto* b) { return b->text() == "Continue"; }),
                                 5000);
        panel.pause();  // Continue
        QTRY_COMPARE_WITH_TIMEOUT(QString::fromStdString(panel.jobsModel()->jobById(1)->state), QString("running"), 10000);
        QVERIFY(!jobs::process_stopped(pid));

        QSignalSpy finished(&panel, &SynthesisPanel::stageFinished);
        QSignalSpy refreshed(&panel, &SynthesisPanel::refreshed);
        release();
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.first().at(0).toString(), QString("queries"));
        QCOMPARE(finished.first().at(1).toInt(), 0);
        QCOMPARE(panel.progressText(),
                 QStringLiteral("queries finished: 2 units, 2 done, 0 rejected, 0 failed, 2400 paid tokens"));
        QVERIFY(refreshed.wait(10000));
        SynthPipelineModel* m = panel.pipelineModel();
        auto cell = [&](int row, int col) { return m->index(row, col).data().toString(); };
        QCOMPARE(QStringList({cell(0, 0), cell(0, 1), cell(0, 2), cell(0, 3), cell(0, 7)}),
                 QStringList({"queries", "2", "6", "0", "2400"}));
        QTRY_COMPARE_WITH_TIMEOUT(panel.unfinishedJobs(), 0, 5000);  // the job list follows within its poll
        QVERIFY(!panel.isRunning());
        QTRY_VERIFY_WITH_TIMEOUT(!jobs::process_alive(pid), 5000);  // the supervisor exits right after recording the end
    }

    void closing_the_window_lists_the_synth_job_and_keeps_it() {
        const QString db = project("close");
        hold(1);
        auto submitted = testing::run_matrix({"synth", "submit", "run", "--db", db, "--stage", "queries", "--endpoint",
                                              QString::fromStdString(m_server->url("/v1")), "--endpoint-model", "teacher",
                                              "--seed-dataset", "seeds"});
        QVERIFY2(submitted.code == 0, submitted.err.constData());
        QTRY_COMPARE_WITH_TIMEOUT(requests(), 1, 60000);
        MainWindow w;
        w.openProject(db);
        QVERIFY(w.waitForIdle());
        auto* panel = w.findChild<SynthesisPanel*>();
        QVERIFY(panel);
        QTRY_COMPARE_WITH_TIMEOUT(panel->unfinishedJobs(), 1, 10000);
        QTRY_COMPARE_WITH_TIMEOUT(panel->followedJob(), qint64(1), 10000);  // reattached when the project opened
        w.show();
        const matrix::test::CloseAnswer said = matrix::test::closeAnswering(w, /*keep=*/true);
        QVERIFY(said.closed);
        QVERIFY2(said.text.startsWith("1 job(s) of this project are running."), qPrintable(said.text));
        QVERIFY2(said.listed.startsWith("job 1 (synth, running): matrix synth run --db "), qPrintable(said.listed));
        auto p = store::Project::open(db.toStdString());
        auto job = jobs::JobRepo(p->db()).get(1);
        QVERIFY(jobs::process_alive((*job)->pid, (*job)->pid_start));
        QVERIFY(jobs::cancel_job(p->db(), 1).ok());
        release();
        auto end = testing::wait_job(db.toStdString(), 1, [](const jobs::Job& j) { return j.is_final(); }, 60);
        QVERIFY(end);
        QCOMPARE(end->state, std::string("cancelled"));
    }

    void counts_filter_the_task_browser_and_selections_become_seeds() {
        QVERIFY(!m_db.isEmpty());  // the dock's project: 2 rounds, 6 synthesized tasks
        const std::vector<int64_t> synth = ids(m_db, "SELECT t.id FROM tasks t JOIN datasets d ON d.id=t.dataset_id "
                                                     "WHERE d.name='synth' ORDER BY t.id");
        QCOMPARE(int(synth.size()), 6);
        MainWindow w;
        w.resize(1500, 950);
        w.openProject(m_db);
        QVERIFY(w.waitForIdle());
        TaskBrowser* browser = w.browser();
        const qint64 all = browser->model()->totalCount();
        QCOMPARE(all, qint64(66));  // 60 imported + 6 synthesized
        auto* panel = w.findChild<SynthesisPanel*>();
        QSignalSpy refreshed(panel, &SynthesisPanel::refreshed);
        panel->refresh();
        QVERIFY(refreshed.wait(10000));

        // Enter on the queries stage's "out" count: the browser shows exactly those six tasks.
        w.show();
        panel->pipelineView()->setFocus();
        panel->pipelineView()->setCurrentIndex(panel->pipelineModel()->index(0, SynthPipelineModel::Out));
        QTest::keyClick(panel->pipelineView(), Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(browser->hasIdFilter() && browser->model()->totalCount() == 6, 10000);
        QVERIFY(w.waitForIdle());
        std::vector<int64_t> shown;
        for (int row = 0; row < browser->model()->rowCount(); ++row) shown.push_back(browser->model()->taskId(row));
        QCOMPARE(shown, synth);
        QVERIFY(browser->filterChip()->isVisible());
        QCOMPARE(browser->idFilterLabel(), QStringLiteral("Filtered to 6 tasks: synthesis synth \u00b7 queries \u00b7 out"));
        // The first of them is the current task, shown in the trajectory view.
        QTRY_COMPARE_WITH_TIMEOUT(browser->currentTaskId(), qint64(synth[0]), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(w.trajectory()->task().id, qint64(synth[0]), 10000);

        // Ctrl+Shift+U on two selected tasks: the Synthesis dock's seeds.
        QTableView* table = browser->table();
        table->setFocus();
        table->selectionModel()->select(browser->model()->index(1, 0),
                                        QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
        table->selectionModel()->select(browser->model()->index(3, 0),
                                        QItemSelectionModel::Select | QItemSelectionModel::Rows);
        QCOMPARE(browser->selectedTaskIds(), QVector<qint64>({synth[1], synth[3]}));
        QTest::keyClick(table, Qt::Key_U, Qt::ControlModifier | Qt::ShiftModifier);
        QCOMPARE(panel->seedTasks(), QVector<qint64>({synth[1], synth[3]}));
        const QStringList args = panel->startArguments();
        const int at = int(args.indexOf("--seed-tasks"));
        QVERIFY(at > 0);
        QCOMPARE(args.at(at + 1), QString("%1,%2").arg(synth[1]).arg(synth[3]));
        QVERIFY(!args.contains("--seed-dataset"));
        QVERIFY(browser->useAsSeedsAction()->isEnabled());

        // The window as a user sees it: the chip over the filtered table, the dock with its seeds.
        w.dock("dock_synthesis")->raise();
        QVERIFY(w.waitForIdle());
        const QByteArray keep = qgetenv("MATRIX_SCREENSHOT_DIR");
        const QString png = (keep.isEmpty() ? m_dir.path() : QString::fromLocal8Bit(keep)) + "/synthesis_drilldown.png";
        const QImage img = w.grab().toImage();
        QVERIFY(img.save(png));
        QCOMPARE(QImage(png).size(), img.size());

        // Esc in the table: every task again, no chip.
        table->setFocus();
        QTest::keyClick(table, Qt::Key_Escape);
        QVERIFY(!browser->hasIdFilter());
        QTRY_COMPARE_WITH_TIMEOUT(browser->model()->totalCount(), all, 10000);
        QVERIFY(!browser->filterChip()->isVisible());
    }
};

QTEST_MAIN(TestSynthesisJobs)
#include "test_synthesis_jobs.moc"
