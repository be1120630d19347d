// The shared "Run as" form (ui/views/run_as_form.h) and the docks that use it: the modes each dock offers, the Slurm
// fields shown only for a Slurm job, the launcher's request fields they yield (exact values), the fields kept per
// dock in the settings (an isolated settings folder), every field of the Sample, Synthesis and Evaluate docks
// reachable by Tab and by its mnemonic, the Synthesis dock's local caption / embedding models on `matrix synth run`'s command line
// (images stage only), and the docks rendered to PNG with the Slurm form open ($MATRIX_SCREENSHOT_DIR keeps them).
#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/ui/ui_fixture.h"
#include "ui/models/project_session.h"
#include "ui/views/evaluate_panel.h"
#include "ui/views/run_as_form.h"
#include "ui/views/sample_panel.h"
#include "ui/views/synthesis_panel.h"
#ifdef MATRIX_HAVE_TORCH
#include "ui/views/training_panel.h"
#endif

using namespace matrix;
using namespace matrix::ui;

namespace {

const QStringList k_slurmFields = {"slurm_nodes", "slurm_gpus", "slurm_cpus", "slurm_time", "slurm_partition",
                                   "slurm_account"};

template <class W>
W* field(QWidget& root, const char* name) {
    W* w = root.findChild<W*>(QLatin1String(name));
    if (!w) qFatal("no field %s", name);
    return w;
}

// The widgets Tab visits from `start` until it comes back (object names, or "class:text" for unnamed buttons).
QStringList tabChain(QWidget& window, QWidget* start) {
    QStringList seen;
    start->setFocus(Qt::TabFocusReason);
    QWidget* first = QApplication::focusWidget();
    for (int i = 0; i < 200; ++i) {
        QWidget* w = QApplication::focusWidget();
        if (!w) break;
        QString name = w->objectName();
        if (name.isEmpty() || name.startsWith(QLatin1String("qt_"))) {
            if (auto* b = qobject_cast<QPushButton*>(w)) name = "button:" + b->text();
            else if (auto* sb = qobject_cast<QAbstractSpinBox*>(w->parentWidget())) name = sb->objectName();
            else name = w->metaObject()->className();
        }
        seen << name;
        QTest::keyClick(w, Qt::Key_Tab);
        if (QApplication::focusWidget() == first) break;
    }
    return seen;
}

// The mnemonic label of a field: its text (with '&') or empty when none names it as buddy.
QString mnemonicOf(QWidget& root, QWidget* field) {
    for (QLabel* l : root.findChildren<QLabel*>())
        if (l->buddy() == field && l->text().contains('&')) return l->text();
    return {};
}

QString screenshotPath(const QTemporaryDir& dir, const QString& name) {
    const QByteArray keep = qgetenv("MATRIX_SCREENSHOT_DIR");
    return (keep.isEmpty() ? dir.path() : QString::fromLocal8Bit(keep)) + "/" + name;
}

}  // namespace

class TestRunAsForm : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        // The settings this test writes go to its own folder, never the user's.
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_dir.filePath("settings"));
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_dir.filePath("settings"));
        QCoreApplication::setOrganizationName("matrix-test");
        QCoreApplication::setApplicationName("test_run_as_form");
        QSettings().clear();
    }

    void form_yields_the_request_and_remembers_the_slurm_fields() {
        RunAsForm form("sample", /*withThread=*/false);
        QCOMPARE(form.modeBox()->count(), 2);
        QCOMPARE(form.modeBox()->itemData(0).toString(), QString("local"));
        QCOMPARE(form.modeBox()->itemData(1).toString(), QString("slurm"));
        QCOMPARE(form.mode(), QString("local"));
        QVERIFY(!form.slurmFields()->isVisibleTo(&form));
        const jobs::JobRequest local =
            form.request("sample", {"sample", "run", "--db", "/p/x.matrix"}, "/p/x.matrix", "/opt/matrix/bin/matrix");
        QVERIFY(!local.slurm);
        QCOMPARE(local.kind, std::string("sample"));
        QCOMPARE(local.argv, (std::vector<std::string>{"sample", "run", "--db", "/p/x.matrix"}));
        QCOMPARE(local.db_path, std::string("/p/x.matrix"));
        QCOMPARE(local.binary, std::string("/opt/matrix/bin/matrix"));
        {
            QSettings kept;  // nothing is kept for a job on this machine
            kept.beginGroup("slurm");
            QVERIFY(!kept.childGroups().contains("sample"));
        }

        QSignalSpy changed(&form, &RunAsForm::modeChanged);
        form.setMode("slurm");
        QCOMPARE(changed.count(), 1);
        QCOMPARE(changed.first().at(0).toString(), QString("slurm"));
        QVERIFY(form.slurmFields()->isVisibleTo(&form));
        field<QSpinBox>(form, "slurm_nodes")->setValue(2);
        field<QSpinBox>(form, "slurm_gpus")->setValue(1);
        field<QSpinBox>(form, "slurm_cpus")->setValue(4);
        field<QLineEdit>(form, "slurm_time")->setText(" 00:30:00 ");
        field<QLineEdit>(form, "slurm_partition")->setText("debug");
        field<QLineEdit>(form, "slurm_account")->setText("lab");
        const jobs::JobRequest req = form.request("sample", {"sample", "run"}, "/p/x.matrix", "/opt/matrix/bin/matrix");
        QVERIFY(req.slurm);
        QCOMPARE(req.argv, (std::vector<std::string>{"sample", "run"}));
        QCOMPARE(req.slurm_options.nodes, 2);
        QCOMPARE(req.slurm_options.gpus_per_node, 1);
        QCOMPARE(req.slurm_options.cpus_per_task, 4);
        QCOMPARE(req.slurm_options.time, std::string("00:30:00"));
        QCOMPARE(req.slurm_options.partition, std::string("debug"));
        QCOMPARE(req.slurm_options.account, std::string("lab"));
        QCOMPARE(QString::fromStdString(req.slurm_options.to_json()),
                 QString::fromStdString(form.slurmOptions().to_json()));

        // Kept per dock once a Slurm request was made: a new Sample form reads them back; the Synthesis dock's are
        // still the defaults.
        RunAsForm again("sample", false);
        QCOMPARE(QString::fromStdString(again.slurmOptions().to_json()), QString::fromStdString(req.slurm_options.to_json()));
        QCOMPARE(again.mode(), QString("local"));  // the mode is chosen per launch, not kept
        RunAsForm other("synthesis", false);
        const jobs::SlurmOptions o = other.slurmOptions();
        QCOMPARE(o.nodes, 1);
        QCOMPARE(o.gpus_per_node, 0);
        QCOMPARE(o.cpus_per_task, 0);
        QCOMPARE(o.time + o.partition + o.account, std::string());
    }

#ifdef MATRIX_HAVE_TORCH
    void training_dock_keeps_its_three_modes() {
        ProjectSession session;
        TrainingPanel panel;
        auto* box = field<QComboBox>(panel, "run_as");
        QCOMPARE(box->count(), 3);
        QCOMPARE(box->itemData(2).toString(), QString("thread"));
        // Without a session only the thread is possible; with one, a job on this machine is the default.
        QCOMPARE(panel.runMode(), QString("thread"));
        QVERIFY(!box->isEnabled());
        panel.setSession(&session);
        QCOMPARE(panel.runMode(), QString("local"));
        QVERIFY(box->isEnabled());
        panel.setRunMode("slurm");
        QVERIFY(field<QWidget>(panel, "slurm_form")->isVisibleTo(&panel));
        // The dock's narrow form column, as a user sees it with a Slurm job chosen.
        panel.resize(1400, 900);
        panel.show();
        QTest::qWait(50);
        const QString png = screenshotPath(m_dir, "training_panel_slurm.png");
        QVERIFY(panel.grab().save(png));
        QCOMPARE(QImage(png).size(), panel.size());
        panel.setRunMode("thread");
        QVERIFY(!field<QWidget>(panel, "slurm_form")->isVisibleTo(&panel));
    }
#endif

    void synthesis_passes_its_local_models_for_the_images_stage() {
        ProjectSession session;
        SynthesisPanel panel(&session);
        panel.setEndpoint("http://127.0.0.1:9/v1", "teacher");
        panel.setDataset("synth");
        panel.setImagePool("/data/pool");
        panel.setLocalModels(" /models/caption qwen ", "/models/embed");
        panel.setStage("images");
        const QStringList args = panel.startArguments();
        const QStringList tail = args.mid(args.indexOf("--image-pool"));
        QCOMPARE(tail, QStringList({"--image-pool", "/data/pool", "--caption-model", "/models/caption qwen",
                                    "--embeddings-model", "/models/embed"}));
        // The other stages refuse them (`matrix synth run` says they are for --stage images): not passed.
        panel.setStage("queries");
        QVERIFY(!panel.startArguments().contains("--caption-model"));
        QVERIFY(!panel.startArguments().contains("--embeddings-model"));
        QCOMPARE(field<QLineEdit>(panel, "caption_model")->text(), QString(" /models/caption qwen "));
    }

    void docks_are_reachable_by_tab_and_mnemonics_data() {
        QTest::addColumn<QString>("dock");
        QTest::newRow("sample") << "sample";
        QTest::newRow("synthesis") << "synthesis";
        QTest::newRow("evaluate") << "evaluate";
    }
    void docks_are_reachable_by_tab_and_mnemonics() {
        QFETCH(QString, dock);
        matrix::test::UiFixture fx;  // an open project: the dock's launch buttons are enabled
        ProjectSession session;
        QSignalSpy opened(&session, &ProjectSession::opened);
        session.open(fx.path);
        QVERIFY(opened.wait(10000));
        std::unique_ptr<QWidget> panel;
        if (dock == "sample") {
            auto* sample = new SamplePanel(&session);
            sample->setProjectPath(fx.path);
            panel.reset(sample);
        } else if (dock == "synthesis") {
            panel = std::make_unique<SynthesisPanel>(&session);
        } else {
            panel = std::make_unique<EvaluatePanel>(&session);
        }
        QVERIFY(session.waitForIdle());
        auto* form = panel->findChild<RunAsForm*>();
        QVERIFY(form);
        form->setMode("slurm");
        panel->resize(1100, 900);
        panel->show();
        QApplication::setActiveWindow(panel.get());
        QVERIFY(QTest::qWaitForWindowActive(panel.get()));

        const QStringList chain = tabChain(*panel, field<QComboBox>(*panel, "run_as"));
        QStringList expected = QStringList{"run_as"} + k_slurmFields;
        if (dock == "synthesis") expected << "caption_model" << "embeddings_model";
        if (dock == "evaluate")
            expected << "eval_benchmark" << "eval_dataset" << "eval_mode" << "eval_controller" << "eval_limit"
                     << "eval_workers" << "eval_seed" << "eval_name";
        for (const QString& name : expected) QVERIFY2(chain.contains(name), qPrintable(name + " not in " + chain.join(", ")));
        // The Slurm fields follow the mode box in the order shown.
        const int at = int(chain.indexOf("run_as"));
        QCOMPARE(chain.mid(at, 7), QStringList{"run_as"} + k_slurmFields);
        // The box sits where it is shown: after the dock's own settings, before the buttons that launch.
        const int after = int(chain.indexOf("slurm_account")) + 1;
        if (dock == "sample") {
            QCOMPARE(chain.mid(after, 1), QStringList{"button:&Start Sampling"});
        } else if (dock == "evaluate") {
            QCOMPARE(chain.mid(after, 1), QStringList{"button:&Start"});
            QCOMPARE(chain.last(), QString("eval_name"));  // the settings come just before the box (Tab wraps)
        } else {
            QCOMPARE(chain.mid(after, 2), QStringList({"QComboBox", "button:&Run Stage"}));
        }
        if (dock == "synthesis") {
            // Each local model's folder picker follows its field.
            QCOMPARE(chain.at(chain.indexOf("caption_model") + 1), QString("button:Browse..."));
            QCOMPARE(chain.at(chain.indexOf("embeddings_model") + 1), QString("button:Browse..."));
        }

        // Every field has a mnemonic, and Alt+letter reaches it.
        QMap<QString, QString> mnemonics = {{"run_as", "&Where"},          {"slurm_nodes", "&Nodes"},
                                            {"slurm_gpus", "&GPUs per node"}, {"slurm_cpus", "CPUs per tas&k"},
                                            {"slurm_time", "Time li&mit"},    {"slurm_partition", "Partiti&on"},
                                            {"slurm_account", "Acco&unt"}};
        if (dock == "synthesis") {
            mnemonics["caption_model"] = "&Caption model";
            mnemonics["embeddings_model"] = "Em&bedding model";
        }
        if (dock == "evaluate") {
            mnemonics["eval_benchmark"] = "&Benchmark";
            mnemonics["eval_dataset"] = "&Dataset";
            mnemonics["eval_mode"] = "Mod&e";
            mnemonics["eval_controller"] = "Contro&ller";
        }
        for (auto it = mnemonics.cbegin(); it != mnemonics.cend(); ++it) {
            QWidget* w = field<QWidget>(*panel, it.key().toLatin1().constData());
            QCOMPARE(mnemonicOf(*panel, w), it.value());
            const QChar key = it.value().at(it.value().indexOf('&') + 1).toUpper();
            panel->setFocus();
            QVERIFY(QApplication::focusWidget() != w);
            QTest::keyClick(panel.get(), key.toLatin1(), Qt::AltModifier);
            QWidget* focus = QApplication::focusWidget();
            QVERIFY2(focus == w || (focus && focus->parentWidget() == w),
                     qPrintable(it.key() + ": Alt+" + key + " focused " + (focus ? focus->objectName() : "nothing")));
        }

        const QString png = screenshotPath(m_dir, dock + "_panel_slurm.png");
        const QImage img = panel->grab().toImage();
        QVERIFY(img.save(png));
        QCOMPARE(QImage(png).size(), img.size());
    }
};

QTEST_MAIN(TestRunAsForm)
#include "test_run_as_form.moc"
