// The training panel end to end on the tiny fixture model: model directory check, form defaults equal to core's
// TrainingConfig (the CLI's), an SFT and a DPO run started with the Train button on the worker thread with live
// chart points, the run history with two runs overlaid, and an offscreen PNG of the panel (training_panel.png in
// the build directory) to look at. The ranks strip under the charts: one rank for a single-process run (its pid,
// finished, its final step), and seeded rows of a 3-rank run (running, failed with its error, lost by heartbeat)
// shown with their exact text and rendered to training_panel_ranks.png.
#include <QtTest>

#include <QCheckBox>
#include <QColor>
#include <QComboBox>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableView>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLineSeries>

#include "core/store/dataset_repo.h"
#include "core/store/media_repo.h"
#include "core/store/pair_repo.h"
#include "core/store/project.h"
#include "core/store/run_rank_repo.h"
#include "core/store/run_repo.h"
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"
#include "core/training/training_config.h"
#include "tests/support/jobs_project.h"
#include "ui/models/run_rank_model.h"
#include "ui/models/training_runs_model.h"
#include "ui/views/training_panel.h"

using namespace matrix;

namespace {
const QString kFixture = QString(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny";

// Dataset "demo" (3 tasks, the first with img_b) and "prefs" (2 approved pairs). The caller checks the status (a
// QVERIFY in here would return from this function only).
Status makeProject(const std::string& path) {
    store::Media image;
    image.path = "img_b.png";
    image.resolved_path = (kFixture + "/img_b.png").toStdString();
    image.width = 56;
    image.height = 84;
    MATRIX_CHECK(testing::make_jobs_project(path, image));
    auto proj = store::Project::open(path);
    if (!proj.ok()) return proj.error();
    auto& db = proj->db();
    auto sys = store::intern_system_prompt(db, "You are an agent.");
    if (!sys.ok()) return sys.error();
    store::Dataset p;
    p.name = "prefs";
    p.kind = "prefx";
    auto ps = store::DatasetRepo(db).create(p);
    if (!ps.ok()) return ps.error();
    store::PairPrefix pre;
    pre.system_prompt_id = *sys;
    pre.history = R"([{"from":"human","value":"Task: What is 2+2?"}])";
    auto pid = store::PairRepo(db).intern_prefix(pre);
    if (!pid.ok()) return pid.error();
    for (int i = 0; i < 2; ++i) {
        store::Pair pr;
        pr.dataset_id = *ps;
        pr.prefix_id = *pid;
        pr.record_key = "p" + std::to_string(i);
        pr.ordinal = i;
        pr.chosen_action = i ? "Thought: add.\nCode:\n```py\nfinal_answer(4)\n```<end_action>" : "Code:\n```py\nprint(2+2)\n```<end_action>";
        pr.rejected_action = i ? "final_answer(5)<end_action>" : "no idea<end_action>";
        pr.status = "approved";
        MATRIX_CHECK(store::PairRepo(db).insert(pr));
    }
    return {};
}

template <class W>
W* field(ui::TrainingPanel& panel, const char* key) {
    return panel.findChild<W*>(QString(key));
}
}  // namespace

class TestTrainingPanel : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void form_defaults_equal_core_config() {
        ui::TrainingPanel panel;
        train::TrainingConfig c;
        QString error;
        QVERIFY2(panel.collectConfig(&c, &error), qPrintable(error));
        QCOMPARE(c.to_json(), train::TrainingConfig{}.to_json());
        QCOMPARE(field<QSpinBox>(panel, "lora_r")->value(), 128);
        QCOMPARE(field<QLineEdit>(panel, "lr")->text(), QString("1e-05"));
        QCOMPARE(field<QLineEdit>(panel, "lora_targets")->text(), QString("q_proj,k_proj,v_proj,o_proj"));
        field<QLineEdit>(panel, "lora_targets")->setText("");
        QVERIFY(!panel.collectConfig(&c, &error));
        QVERIFY2(error.contains("lora_targets"), qPrintable(error));
    }

    void model_dir_is_checked() {
        ui::TrainingPanel panel;
        panel.setModelDir(kFixture + "/tiny-qwen2vl");
        QVERIFY2(panel.modelInfoText().contains("Qwen2VLForConditionalGeneration"), qPrintable(panel.modelInfoText()));
        QVERIFY(panel.modelInfoText().contains("F32"));
        panel.setModelDir(kFixture);
        QVERIFY(panel.modelInfoText().contains("config.json"));
    }

    void keyboard_starts_a_run() {
        const std::string db = m_dir.filePath("keys.db").toStdString();
        const Status made = makeProject(db);
        QVERIFY2(made.ok(), made.ok() ? "" : made.error().to_string().c_str());
        ui::TrainingPanel panel;
        panel.setProjectPath(QString::fromStdString(db));
        panel.setModelDir(kFixture + "/tiny-qwen2vl");
        panel.setDataset("demo");
        panel.setOutputDir(m_dir.filePath("keys"));
        field<QSpinBox>(panel, "lora_r")->setValue(4);
        field<QSpinBox>(panel, "epochs")->setValue(1);
        field<QSpinBox>(panel, "max_length")->setValue(512);
        panel.show();
        QVERIFY(QTest::qWaitForWindowActive(&panel));
        // The shortcut is shown where the user looks for it, and works from any field of the panel.
        auto buttons = panel.findChildren<QPushButton*>();
        auto train = std::find_if(buttons.begin(), buttons.end(), [](auto* b) { return b->text() == "Train"; });
        QVERIFY(train != buttons.end());
        QVERIFY2((*train)->toolTip().contains("Ctrl+Return"), qPrintable((*train)->toolTip()));
        QLineEdit* lr = field<QLineEdit>(panel, "lr");
        lr->setFocus();
        QSignalSpy done(&panel, &ui::TrainingPanel::trainingFinished);
        QTest::keyClick(lr, Qt::Key_Return, Qt::ControlModifier);
        QVERIFY(done.wait(300000));
        QCOMPARE(done.first().at(0).toString(), QString("finished"));
        QCOMPARE(panel.chartPointCount(), 3);  // 3 samples x 1 epoch
    }

    // A 3-rank run seeded in the store: rank 0 running (heard 2 minutes ago), rank 1 silent for 10 minutes while the
    // run runs (lost), rank 2 failed with its error; the strip shows each row's exact text.
    void rank_strip_shows_each_rank() {
        const std::string db = m_dir.filePath("ranks.db").toStdString();
        int64_t run = 0;
        {
            auto proj = store::Project::open(db);
            QVERIFY(proj.ok());
            store::Run r;
            r.kind = "sft";
            r.name = "three ranks";
            auto id = store::RunRepo(proj->db()).create(r);
            QVERIFY(id.ok());
            run = *id;
            QVERIFY(store::RunRepo(proj->db()).set_status(run, "running").ok());
            const double now = store::unix_now();
            struct Seed { const char* host; int64_t pid; const char* state; int64_t step; double tps, age; const char* error; };
            const Seed seeds[] = {{"gpu-a", 4101, "running", 120, 1625.4, 125, nullptr},
                                  {"gpu-a", 4102, "running", 117, 1580.0, 600, nullptr},
                                  {"gpu-b", 5230, "failed", 96, 0, 3600, "CUDA out of memory at step 97"}};
            for (int k = 0; k < 3; ++k) {
                store::RunRank rk;
                rk.run_id = run;
                rk.rank = k;
                rk.world_size = 3;
                rk.host = seeds[k].host;
                rk.pid = seeds[k].pid;
                rk.state = seeds[k].state;
                rk.step = seeds[k].step;
                rk.tokens_per_s = seeds[k].tps;
                rk.last_heartbeat = now - seeds[k].age;
                if (seeds[k].error) rk.error = seeds[k].error;
                QVERIFY(store::RunRankRepo(proj->db()).put(rk).ok());
            }
        }
        ui::TrainingPanel panel;
        panel.resize(1400, 900);
        panel.setProjectPath(QString::fromStdString(db));
        QTRY_COMPARE(panel.runsModel()->rowCount(), 1);
        QVERIFY(!panel.rankView()->isVisibleTo(&panel));  // no run chosen yet: no strip
        auto* table = panel.findChild<QTableView*>("run_history");
        QVERIFY(table);
        QSignalSpy loaded(panel.rankModel(), &ui::RunRankModel::loaded);
        table->selectRow(0);
        QVERIFY(loaded.wait(30000));
        QVERIFY(panel.rankView()->isVisibleTo(&panel));
        ui::RunRankModel* m = panel.rankModel();
        QCOMPARE(m->runId(), run);
        QCOMPARE(m->rowCount(), 3);
        QStringList header;
        for (int c = 0; c < m->columnCount(); ++c) header << m->headerData(c, Qt::Horizontal).toString();
        QCOMPARE(header, (QStringList{"Rank", "Host", "PID", "State", "Step", "Tokens/s", "Last seen"}));
        auto row = [m](int r) {
            QStringList cells;
            for (int c = 0; c < m->columnCount(); ++c) cells << m->index(r, c).data().toString();
            return cells;
        };
        QCOMPARE(row(0), (QStringList{"0/3", "gpu-a", "4101", "running", "120", "1,625", "2 min ago"}));
        QCOMPARE(row(1), (QStringList{"1/3", "gpu-a", "4102", "lost", "117", "1,580", "10 min ago"}));
        QCOMPARE(row(2), (QStringList{"2/3", "gpu-b", "5230", "failed", "96", "0", "60 min ago"}));
        QCOMPARE(m->index(2, ui::RunRankModel::State).data(Qt::ToolTipRole).toString(),
                 QString("CUDA out of memory at step 97"));
        QCOMPARE(m->index(1, ui::RunRankModel::State).data(Qt::ForegroundRole).value<QColor>(), QColor(0xb0, 0x00, 0x20));
        QVERIFY(m->index(1, ui::RunRankModel::State).data(Qt::ToolTipRole).toString().startsWith("No heartbeat for 10 min ago"));
        QCOMPARE(panel.rankSummaryText(), QString("Run %1: 3 ranks \u00b7 1 running \u00b7 1 failed \u00b7 1 lost \u00b7 "
                                                  "1,625 tokens/s in all").arg(run));
        const QString path = QString(MATRIX_BINARY_DIR) + "/training_panel_ranks.png";
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QVERIFY(panel.grab().save(path));
        QCOMPARE(QImage(path).size(), panel.size() * panel.devicePixelRatio());
        // The same rows without the store: ages as given.
        ui::RunRankModel plain;
        std::vector<store::RunRankStatus> rows(1);
        rows[0].row.rank = 0;
        rows[0].row.world_size = 1;
        rows[0].shown_state = "finished";
        rows[0].seconds_since_heartbeat = 7300;
        plain.setRanks(9, rows);
        QCOMPARE(plain.index(0, ui::RunRankModel::LastSeen).data().toString(), QString("2 h ago"));
        QCOMPARE(plain.summary(), QString("Run 9: 1 rank \u00b7 1 finished"));
    }

    void trains_from_the_button_and_overlays_runs() {
        const std::string db = m_dir.filePath("panel.db").toStdString();
        const Status made = makeProject(db);
        QVERIFY2(made.ok(), made.ok() ? "" : made.error().to_string().c_str());
        ui::TrainingPanel panel;
        panel.resize(1400, 900);
        panel.setProjectPath(QString::fromStdString(db));
        panel.setModelDir(kFixture + "/tiny-qwen2vl");
        panel.setDataset("demo");
        panel.setOutputDir(m_dir.filePath("sft"));
        field<QSpinBox>(panel, "lora_r")->setValue(8);
        field<QSpinBox>(panel, "epochs")->setValue(4);
        field<QSpinBox>(panel, "max_length")->setValue(512);
        field<QLineEdit>(panel, "lr")->setText("0.01");
        QSignalSpy done(&panel, &ui::TrainingPanel::trainingFinished);
        panel.startTraining();
        QVERIFY(done.wait(300000));
        QCOMPARE(done.first().at(0).toString(), QString("finished"));
        QCOMPARE(panel.chartPointCount(), 12);  // 3 samples x 4 epochs, batch 1
        QTRY_COMPARE(panel.runsModel()->rowCount(), 1);

        panel.setStage(train::Stage::Dpo);
        panel.setDataset("prefs");
        panel.setOutputDir(m_dir.filePath("dpo"));
        panel.startTraining();
        QVERIFY(done.wait(300000));
        QCOMPARE(done.last().at(0).toString(), QString("finished"));
        QCOMPARE(panel.chartPointCount(), 8);  // 2 pairs x 4 epochs
        const QString live = QString(MATRIX_BINARY_DIR) + "/training_panel_dpo.png";
        QVERIFY(panel.grab().save(live));

        QTRY_COMPARE(panel.runsModel()->rowCount(), 2);
        // The live run's ranks: one process (this one), finished at its last step.
        ui::RunRankModel* ranks = panel.rankModel();
        QTRY_COMPARE(ranks->runId(), qint64(done.last().at(1).toLongLong()));
        QTRY_COMPARE(ranks->rowCount(), 1);
        // (the strip read the rank while it ran; its re-read after the run's end shows it finished)
        QTRY_COMPARE(ranks->index(0, ui::RunRankModel::State).data().toString(), QString("finished"));
        QCOMPARE(ranks->index(0, ui::RunRankModel::Rank).data().toString(), QString("0/1"));
        QCOMPARE(ranks->index(0, ui::RunRankModel::Pid).data().toLongLong(), QCoreApplication::applicationPid());
        QCOMPARE(ranks->index(0, ui::RunRankModel::Step).data().toLongLong(), qint64(8));
        QVERIFY2(panel.rankSummaryText().startsWith(QString("Run %1: 1 rank \u00b7 1 finished \u00b7 ").arg(ranks->runId())),
                 qPrintable(panel.rankSummaryText()));
        auto* table = panel.findChild<QTableView*>("run_history");
        QVERIFY(table);
        QSignalSpy curvesShown(&panel, &ui::TrainingPanel::curvesShown);
        table->selectAll();  // both runs: curves overlaid
        QVERIFY(curvesShown.wait(30000));
        // Every curve of both runs, by name, with its number of points: SFT loss and lr (12 steps), DPO loss, lr,
        // reward margin and accuracy (8 steps); no eval curves (no evaluation was asked for).
        QMap<QString, int> expected;
        for (int row = 0; row < 2; ++row) {
            const store::Run* run = panel.runsModel()->run(row);
            QVERIFY(run);
            const QString tag = QString("run %1").arg(run->id);
            const int n = run->kind == "sft" ? 12 : 8;
            expected[tag + " loss"] = n;
            expected[tag] = n;  // learning rate
            if (run->kind == "dpo") expected[tag + " margin"] = expected[tag + " acc"] = n;
        }
        QMap<QString, int> shown;
        for (auto* view : panel.findChildren<QChartView*>())
            for (auto* s : view->chart()->series())
                if (auto* line = qobject_cast<QLineSeries*>(s)) shown[line->name()] = int(line->count());
        QCOMPARE(shown, expected);
        const QString path = QString(MATRIX_BINARY_DIR) + "/training_panel.png";
        const QImage grabbed = panel.grab().toImage();
        QVERIFY(grabbed.save(path));
        const QImage saved(path);
        QCOMPARE(saved.size(), QSize(1400, 900) * grabbed.devicePixelRatio());
        QCOMPARE(saved.convertToFormat(QImage::Format_RGB32), grabbed.convertToFormat(QImage::Format_RGB32));
    }
};

QTEST_MAIN(TestTrainingPanel)
#include "test_training_panel.moc"
