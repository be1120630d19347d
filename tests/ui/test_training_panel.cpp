// The training panel end to end on the tiny fixture model: model directory check, form defaults equal to core's
// TrainingConfig (the CLI's), an SFT and a DPO run started with the Train button on the worker thread with live
// chart points, the run history with two runs overlaid, and an offscreen PNG of the panel (training_panel.png in
// the build directory) to look at.
#include <QtTest>

#include <QCheckBox>
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
#include "core/store/task_repo.h"
#include "core/store/trajectory_repo.h"
#include "core/training/training_config.h"
#include "ui/models/training_runs_model.h"
#include "ui/views/training_panel.h"

using namespace matrix;

namespace {
const QString kFixture = QString(MATRIX_SHARED_DIR) + "/fixtures/qwen2vl-tiny";

// Dataset "demo" (3 tasks, the first with img_b) and "prefs" (2 approved pairs). The caller checks the status (a
// QVERIFY in here would return from this function only).
Status makeProject(const std::string& path) {
    auto proj = store::Project::open(path);
    if (!proj.ok()) return proj.error();
    auto& db = proj->db();
    store::Dataset d;
    d.name = "demo";
    d.kind = "mtrace";
    auto ds = store::DatasetRepo(db).create(d);
    if (!ds.ok()) return ds.error();
    auto sys = store::intern_system_prompt(db, "You are an agent.");
    if (!sys.ok()) return sys.error();
    const char* tasks[] = {"Count the boxes.", "Read the sign.", "What is 2+2?"};
    for (int i = 0; i < 3; ++i) {
        store::Task t;
        t.dataset_id = *ds;
        t.record_key = t.external_id = "t" + std::to_string(i);
        t.ordinal = i;
        t.query = tasks[i];
        t.prompt_text = std::string("Task: ") + tasks[i];
        t.verdict = "yes";
        t.system_prompt_id = *sys;
        auto tid = store::TaskRepo(db).insert(t);
        if (!tid.ok()) return tid.error();
        if (i == 0) {
            store::Media m;
            m.path = "img_b.png";
            m.resolved_path = (kFixture + "/img_b.png").toStdString();
            m.width = 56;
            m.height = 84;
            auto mid = store::MediaRepo(db).upsert(m);
            if (!mid.ok()) return mid.error();
            MATRIX_CHECK(store::MediaRepo(db).link(*tid, "image", 0, *mid));
        }
        store::Trajectory tr;
        tr.task_id = *tid;
        tr.source = "mtrace";
        store::Step s0;
        s0.action = "Thought: answer.\nCode:\n```py\nfinal_answer(" + std::to_string(i) + ")\n```";
        s0.is_final = true;
        tr.steps = {s0};
        MATRIX_CHECK(store::TrajectoryRepo(db).insert(tr));
    }
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
        QCOMPARE(panel.runsModel()->rowCount(), 1);

        panel.setStage(train::Stage::Dpo);
        panel.setDataset("prefs");
        panel.setOutputDir(m_dir.filePath("dpo"));
        panel.startTraining();
        QVERIFY(done.wait(300000));
        QCOMPARE(done.last().at(0).toString(), QString("finished"));
        QCOMPARE(panel.chartPointCount(), 8);  // 2 pairs x 4 epochs
        const QString live = QString(MATRIX_BINARY_DIR) + "/training_panel_dpo.png";
        QVERIFY(panel.grab().save(live));

        QCOMPARE(panel.runsModel()->rowCount(), 2);
        auto* table = panel.findChild<QTableView*>();
        QVERIFY(table);
        table->selectAll();  // both runs: curves overlaid
        QCoreApplication::processEvents();
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
